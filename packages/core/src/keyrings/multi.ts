import { FieldsealError, InvalidArgumentError, KeyUnavailableError, ProviderError, type KeyUnavailableReason } from '../errors.js';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';
import { zeroize } from '../lib/bytes.js';
import { assertKeyring } from '../lib/keyring-call.js';

/**
 * Wraps every data key under several keyrings (multi-cloud, multi-region, break-glass): the first
 * keyring (the generator) produces the data key, every other one wraps the same key. Unwrap tries
 * the keyrings in order and returns the first success; if all fail, the error lists every reason.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { LocalKeyring, MultiKeyring } from '@fieldseal/core';
 * const keyring = new MultiKeyring([primaryKeyring, breakGlassKeyring]);
 * ```
 */
export class MultiKeyring implements Keyring {
  /** The keyrings, generator first. */
  readonly keyrings: readonly Keyring[];

  /**
   * @param keyrings At least one keyring; the first generates data keys.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when empty or not keyrings.
   */
  constructor(keyrings: readonly Keyring[]) {
    /* Precondition: a non-empty list of keyrings. */
    if (!Array.isArray(keyrings) || keyrings.length === 0) throw new InvalidArgumentError('MultiKeyring needs at least one keyring');
    keyrings.forEach((k, i) => assertKeyring(k, `keyrings[${i}]`));
    this.keyrings = Object.freeze([...keyrings]);
    Object.freeze(this);
  }

  /** Generate with the first keyring, then wrap the same key with every other one (all must succeed). */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const [generator, ...others] = this.keyrings;
    const first = await generator!.wrap(request);
    const wrapped: WrappedKey[] = [...first.wrapped];
    try {
      const rest = await Promise.all(others.map((k) => k.wrap({ dataKey: first.dataKey, context: request.context })));
      for (const r of rest) {
        wrapped.push(...r.wrapped);
        if (r.dataKey !== first.dataKey) zeroize(r.dataKey);
      }
    } catch (err) {
      zeroize(first.dataKey);
      throw err;
    }
    return { dataKey: first.dataKey, wrapped };
  }

  /** Try each keyring in order; the first data key wins. */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const reasons: KeyUnavailableReason[] = [];
    for (const k of this.keyrings) {
      try {
        return await k.unwrap(request);
      } catch (err) {
        if (err instanceof KeyUnavailableError) reasons.push(...err.reasons);
        else if (err instanceof ProviderError) reasons.push({ provider: err.provider, ...(err.keyId !== undefined ? { keyId: err.keyId } : {}), message: err.message, cause: err });
        else reasons.push({ provider: 'keyring', message: err instanceof FieldsealError ? err.message : 'the keyring threw an untyped error', cause: err });
      }
    }
    throw new KeyUnavailableError('no keyring of the multi-keyring could unwrap the data key', reasons);
  }
}
