import { UnsupportedQueryError } from '@fieldseal/core';

/**
 * The parts of the (undocumented) `__internalParams` of a Prisma 7 query hook that the extension
 * reads: where the fluent API points, and the transaction the call runs in.
 */
export interface InternalParams {
  readonly dataPath?: readonly string[];
  readonly transaction?: { readonly kind: string; readonly id?: string };
}

interface RequestingClient {
  _request?: (params: Record<string, unknown>) => Promise<unknown>;
}

/**
 * Runs one model query on the client below this extension (so it sees the stored ciphertext),
 * inside the same interactive transaction as the hooked call when there is one: an update reads
 * the row it reseals in its own transaction, and sees rows the transaction wrote. Prisma offers
 * no public way to join a hooked call's transaction, so this uses the client's `_request`, and
 * fails closed if a future Prisma removes it.
 */
export async function runDirect(client: unknown, internal: InternalParams | undefined, model: string, action: string, args: Record<string, unknown>): Promise<unknown> {
  const c = client as RequestingClient;
  if (typeof c._request !== 'function') throw new UnsupportedQueryError(`@fieldseal/prisma: this Prisma client has no _request; ${model}.${action} cannot read rows before writing them`, { model, operation: action });
  const jsModelName = model.charAt(0).toLowerCase() + model.slice(1);
  const transaction = internal?.transaction?.kind === 'itx' ? internal.transaction : undefined;
  return c._request.call(client, {
    args,
    dataPath: [],
    action,
    model,
    clientMethod: `${jsModelName}.${action}`,
    jsModelName,
    ...(transaction !== undefined ? { transaction } : {}),
  });
}

/** The stored (sealed) fields of the one row `where` selects, or null. */
export async function readCurrent(client: unknown, internal: InternalParams | undefined, model: string, where: Record<string, unknown>, fields: readonly string[]): Promise<Record<string, unknown> | null> {
  const select = Object.fromEntries(fields.map((f) => [f, true]));
  return (await runDirect(client, internal, model, 'findUnique', { where, select })) as Record<string, unknown> | null;
}
