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

  /**
   * Generate with the first keyring, then wrap the same key with every other one (all must
   * succeed). Each other keyring gets a copy of the data key, so one that modifies it cannot change
   * the key the others wrapped; the request's `signal` is passed to every keyring.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const [generator, ...others] = this.keyrings;
    const signal = request?.signal;
    const first = await generator!.wrap(request);
    if (first === null || typeof first !== 'object' || !(first.dataKey instanceof Uint8Array)) throw new InvalidArgumentError('keyring contract violated: wrap must return a data key');
    const wrapped: WrappedKey[] = wrappedList(first.wrapped);
    const copies: Uint8Array[] = [];
    try {
      signal?.throwIfAborted();
      const rest = await Promise.all(
        others.map((k) => {
          const copy = first.dataKey.slice();
          copies.push(copy);
          return k.wrap({ dataKey: copy, context: request.context, ...(signal === undefined ? {} : { signal }) });
        }),
      );
      for (const r of rest) {
        if (r === null || typeof r !== 'object' || !(r.dataKey instanceof Uint8Array) || !sameBytes(r.dataKey, first.dataKey)) {
          throw new InvalidArgumentError('keyring contract violated: a keyring of the multi-keyring replaced the data key it was given');
        }
        for (const w of wrappedList(r.wrapped)) wrapped.push(w);
        if (r.dataKey !== first.dataKey) zeroize(r.dataKey);
      }
    } catch (err) {
      zeroize(first.dataKey);
      throw err;
    } finally {
      zeroize(...copies);
    }
    return { dataKey: first.dataKey, wrapped };
  }

  /** Try each keyring in order; the first data key wins. */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const reasons: KeyUnavailableReason[] = [];
    for (const k of this.keyrings) {
      // The caller gave up (or its deadline passed): do not start on the next keyring.
      request?.signal?.throwIfAborted();
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

/** A child's wrapped keys as an array of our own; a sparse or non-array list is a typed error (core checks each entry). */
function wrappedList(list: unknown): WrappedKey[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError('keyring contract violated: wrap returned no list of wrapped keys');
  const n = list.length;
  // No keyring produces more than a header can hold (255 per group); a larger length is a broken or hostile list.
  if (n > 0xff) throw new InvalidArgumentError('keyring contract violated: wrap returned more than 255 wrapped keys');
  const out: WrappedKey[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const w: unknown = list[i];
    if (w === null || typeof w !== 'object') throw new InvalidArgumentError('keyring contract violated: a wrapped key is missing (a sparse list) or not an object');
    out[i] = w as WrappedKey;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
