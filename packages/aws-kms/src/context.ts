/**
 * The fieldseal encryption context in KMS's native form, `EncryptionContext`.
 * @module
 */
import { InvalidArgumentError } from '@fieldseal/core/errors';
import type { EncryptionContext } from '@fieldseal/core';

/**
 * Copy the context into the string map KMS takes as `EncryptionContext`, or `undefined` when it is
 * empty (KMS treats an absent and an empty context alike). KMS binds it to the ciphertext as
 * additional authenticated data and records it in CloudTrail, so it must not contain secrets; the
 * same map is sent on wrap and on unwrap.
 *
 * @param context The full fieldseal encryption context.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when a value is not a string.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function toKmsEncryptionContext(context: EncryptionContext): Record<string, string> | undefined {
  if (context === null || typeof context !== 'object') throw new InvalidArgumentError('context must be an object of strings');
  // Own data properties only, into an object without a prototype: a `__proto__` key stays data.
  const out = Object.create(null) as Record<string, string>;
  let n = 0;
  for (const key of Object.keys(context)) {
    const value = (context as Record<string, unknown>)[key];
    if (typeof value !== 'string') throw new InvalidArgumentError(`context value for a key is not a string`);
    out[key] = value;
    n++;
  }
  return n === 0 ? undefined : out;
}
