import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from './errors.js';
import type { EncryptionContext, JsonObject, Keyring, Limits } from './types.js';
import type { Backend } from './lib/backend/types.js';
import { openSealed } from './lib/open.js';
import { parsePointer } from './lib/pointer.js';
import { sealPlanned, type GroupPlan } from './lib/seal.js';
import { keyringMap, openRequestFrom } from './decrypt.js';
import { readOptions } from './lib/options.js';
import { REWRAP_OPTIONS, type RewrapOptions, type RotationResult } from './rewrap.js';
import { assertKeyring } from './lib/keyring-call.js';

/** Options of {@link reencrypt}: the same as {@link rewrap}'s. */
export type ReencryptOptions = RewrapOptions;

/** @internal reencrypt with an explicit backend. */
export async function reencryptWith(backend: Backend, sealed: unknown, options: ReencryptOptions): Promise<RotationResult> {
  const o = readOptions(options, 'reencrypt', REWRAP_OPTIONS);
  const req = openRequestFrom({
    ...(o.keyring !== undefined ? { keyring: o.keyring as Keyring } : {}),
    ...(o.keyrings !== undefined ? { keyrings: o.keyrings as Record<string, Keyring> } : {}),
    ...(o.context !== undefined ? { context: o.context as EncryptionContext } : {}),
    ...(o.headerName !== undefined ? { headerName: o.headerName as string } : {}),
    ...(o.limits !== undefined ? { limits: o.limits as Partial<Limits> } : {}),
    ...(o.signal !== undefined ? { signal: o.signal as AbortSignal } : {}),
    ...(o.keyringTimeoutMs !== undefined ? { keyringTimeoutMs: o.keyringTimeoutMs as number } : {}),
  }, { everyGroup: true });
  const targetMap = keyringMap(o.toKeyrings, 'toKeyrings');
  const opened = await openSealed(backend, sealed, req);
  const doc = opened.document;
  delete doc[req.headerName];
  const plans: GroupPlan[] = opened.header.groups.map((g) => {
    const keyring = targetMap?.get(g.name) ?? o.to;
    if (keyring === undefined) throw new InvalidArgumentError(`reencrypt needs a target keyring for key group "${g.name}"`);
    assertKeyring(keyring, 'to');
    return { name: g.name, keyring, fields: g.pointers.map((pointer) => ({ pointer, tokens: parsePointer(pointer)! })) };
  });
  const document = await sealPlanned(backend, doc, plans, opened.header.storedContext, opened.context.required, req.headerName, req.limits, req.control);
  return { document, changed: true };
}

/**
 * Decrypts a sealed document and seals it again with fresh data keys and a new message id: every
 * field is re-encrypted, under the target keyring(s), with the same key groups, fields and context.
 * Use it after a suspected data-key compromise; for a routine KEK rotation {@link rewrap} is cheaper.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { reencrypt } from '@fieldseal/core';
 * const { document } = await reencrypt(sealed, { keyring: oldKeys, to: newKeys, context: { tenant: 't1' } });
 * ```
 * @param sealed A sealed document.
 * @param options Source and target keyrings and the expected context.
 * @returns The re-encrypted document (`changed` is always true: a new message id).
 * @throws {DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` when anything fails authentication.
 * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when a data key cannot be unwrapped.
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` when the expected context differs.
 */
export function reencrypt(sealed: JsonObject, options: ReencryptOptions): Promise<RotationResult> {
  return reencryptWith(defaultBackend, sealed, options);
}
