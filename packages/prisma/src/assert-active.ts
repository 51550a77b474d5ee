import { InvalidArgumentError } from '@fieldseal/core';
import { MARKER } from './lib/marker.js';
import type { FieldsealMarker } from './types.js';

/**
 * Checks that `client` is a Prisma client the {@link fieldseal} extension was applied to, and
 * returns its marker. `$extends` returns a new client and leaves the original unencrypted, so a
 * discarded result (`prisma.$extends(fieldseal(…))` without using its value) would store
 * plaintext: call this where the client is built, or in a health check.
 *
 * Importable from `@fieldseal/prisma`.
 *
 * @example
 * ```ts
 * const prisma = base.$extends(fieldseal({ keyring, models }));
 * assertActive(prisma); // throws for `base`
 * ```
 * @param client The client the application uses.
 * @returns The marker: the encrypted models and the mode.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the extension is not active on `client`.
 */
export function assertActive(client: unknown): FieldsealMarker {
  const marker = client !== null && typeof client === 'object' ? (client as Record<string, unknown>)[MARKER] : undefined;
  if (marker === null || typeof marker !== 'object' || (marker as FieldsealMarker).active !== true) {
    throw new InvalidArgumentError('@fieldseal/prisma: the fieldseal extension is not active on this client (was the result of $extends discarded?)');
  }
  return marker as FieldsealMarker;
}
