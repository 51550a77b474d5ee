import { FieldsealError, InvalidArgumentError, KeyUnavailableError, LimitExceededError } from '../errors.js';
import type { EncryptionContext, Keyring, Limits, WrappedKey } from '../types.js';
import { utf8Bytes } from './bytes.js';
import { DATA_KEY_LENGTH } from './format/constants.js';

/** Precondition: something with wrap and unwrap methods. */
export function assertKeyring(keyring: unknown, what: string): asserts keyring is Keyring {
  if (keyring === null || typeof keyring !== 'object' || typeof (keyring as Keyring).wrap !== 'function' || typeof (keyring as Keyring).unwrap !== 'function') {
    throw new InvalidArgumentError(`${what} must be a keyring (an object with wrap and unwrap methods)`);
  }
}

export function checkWrapped(list: unknown, limits: Limits): WrappedKey[] {
  if (!Array.isArray(list) || list.length === 0) throw new InvalidArgumentError('keyring contract violated: wrap returned no wrapped keys');
  if (list.length > limits.maxWrappedKeys) throw new LimitExceededError(`a keyring produced more than ${limits.maxWrappedKeys} wrapped keys`, 'maxWrappedKeys');
  return list.map((k: WrappedKey) => {
    if (typeof k?.provider !== 'string' || typeof k.keyId !== 'string' || !(k.ciphertext instanceof Uint8Array)) throw new InvalidArgumentError('keyring contract violated: malformed wrapped key');
    const p = utf8Bytes(k.provider).length;
    if (p === 0 || p > 255 || utf8Bytes(k.keyId).length > 0xffff || k.ciphertext.length > 0xffff || k.ciphertext.length === 0) {
      throw new InvalidArgumentError('keyring contract violated: wrapped key fields out of range');
    }
    if (!k.provider.isWellFormed() || !k.keyId.isWellFormed()) throw new InvalidArgumentError('keyring contract violated: provider or key id is not well-formed Unicode');
    return Object.freeze({ provider: k.provider, keyId: k.keyId, ciphertext: k.ciphertext.slice() });
  });
}

/**
 * Call a keyring's wrap and check its postconditions (ESDK-style template method): a 32-byte data
 * key, at least one and at most `maxWrappedKeys` well-formed wrapped keys. A faulty keyring cannot
 * produce a malformed document.
 */
export async function wrapChecked(keyring: Keyring, context: EncryptionContext, limits: Limits, dataKey?: Uint8Array, plaintextBytes?: number): Promise<{ dataKey: Uint8Array; wrapped: WrappedKey[] }> {
  const result = await keyring.wrap({ context, ...(dataKey !== undefined ? { dataKey } : {}), ...(plaintextBytes !== undefined ? { plaintextBytes } : {}) });
  if (!(result?.dataKey instanceof Uint8Array) || result.dataKey.length !== DATA_KEY_LENGTH) {
    throw new InvalidArgumentError('keyring contract violated: wrap must return a 32-byte data key');
  }
  if (dataKey !== undefined && !sameBytes(dataKey, result.dataKey)) throw new InvalidArgumentError('keyring contract violated: wrap replaced the data key it was given');
  return { dataKey: result.dataKey, wrapped: checkWrapped(result.wrapped, limits) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Call a keyring's unwrap; check the key length; turn foreign errors into KeyUnavailableError so
 * callers see one typed failure (the original stays as the reason's cause, never in the message).
 */
export async function unwrapChecked(keyring: Keyring, wrapped: readonly WrappedKey[], context: EncryptionContext, groupName: string): Promise<Uint8Array> {
  let key: Uint8Array;
  try {
    key = await keyring.unwrap({ wrapped, context });
  } catch (err) {
    if (err instanceof FieldsealError) throw err;
    throw new KeyUnavailableError(`no data key for key group "${groupName}"`, [{ provider: 'keyring', message: 'the keyring threw an untyped error', cause: err }]);
  }
  if (!(key instanceof Uint8Array) || key.length !== DATA_KEY_LENGTH) throw new InvalidArgumentError('keyring contract violated: unwrap must return a 32-byte data key');
  return key;
}
