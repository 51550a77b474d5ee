import { ContextMismatchError, InvalidArgumentError, LimitExceededError } from '../errors.js';
import type { EncryptionContext } from '../types.js';
import { ByteWriter, compareBytes, utf8Bytes } from './bytes.js';

/** Context keys with this prefix are reserved for fieldseal itself. */
export const RESERVED_CONTEXT_PREFIX = 'fieldseal:';

/**
 * Context keys with this prefix are reserved for fieldseal's own wraps that are not documents (a
 * beacon root key is wrapped under `fieldseal.purpose` and `fieldseal.beacon-key-id`): a document
 * may not use them, so a document's wrapped data key and such a wrap are never interchangeable.
 * Keyrings still accept them (they must, to wrap beacon root keys).
 */
export const RESERVED_DOCUMENT_CONTEXT_PREFIX = 'fieldseal.';

/**
 * The most pairs a keyring is handed: a document's 65,535 (the width of its count field) plus the
 * key group's name that suite 2 adds (`fieldseal.group`).
 */
export const MAX_KEYRING_CONTEXT_PAIRS = 0xffff + 1;

/** Refuse document context keys reserved for fieldseal's internal wraps. */
export function refuseInternalContextKeys(entries: readonly ContextEntry[], what: string): void {
  for (const e of entries) {
    if (e.key.startsWith(RESERVED_DOCUMENT_CONTEXT_PREFIX)) throw new ContextMismatchError(`${what}: keys starting with "${RESERVED_DOCUMENT_CONTEXT_PREFIX}" are reserved for fieldseal's internal wraps`, e.key);
  }
}

/** A context pair with its UTF-8 encodings, sorted canonically. */
export interface ContextEntry {
  readonly key: string;
  readonly value: string;
  readonly keyBytes: Uint8Array;
  readonly valueBytes: Uint8Array;
}

/**
 * Validate a caller's context: a plain object of well-formed string pairs, no reserved keys.
 * Returns the entries sorted by the UTF-8 bytes of their keys (not by locale, not by UTF-16).
 */
export function contextEntries(context: unknown, what: string, maxPairs: number): ContextEntry[] {
  if (context === undefined) return [];
  if (context === null || typeof context !== 'object' || Array.isArray(context)) throw new InvalidArgumentError(`${what} must be an object of string pairs`);
  let keys: string[];
  try {
    keys = Object.keys(context);
  } catch (cause) {
    throw new InvalidArgumentError(`${what} could not be read`, { cause });
  }
  if (keys.length > maxPairs) throw new LimitExceededError(`${what} has more than ${maxPairs} pairs`, 'maxContextPairs');
  const entries: ContextEntry[] = [];
  for (const key of keys) {
    let desc: PropertyDescriptor | undefined;
    try {
      desc = Object.getOwnPropertyDescriptor(context, key);
    } catch (cause) {
      throw new InvalidArgumentError(`${what} could not be read`, { cause });
    }
    const value: unknown = desc && 'value' in desc ? desc.value : undefined;
    if (typeof value !== 'string') throw new InvalidArgumentError(`${what}: the value of "${key}" must be a string`);
    if (key.startsWith(RESERVED_CONTEXT_PREFIX)) throw new ContextMismatchError(`${what}: keys starting with "${RESERVED_CONTEXT_PREFIX}" are reserved`, key);
    if (key.length === 0) throw new InvalidArgumentError(`${what}: keys must not be empty`);
    if (!key.isWellFormed() || !value.isWellFormed()) throw new InvalidArgumentError(`${what}: "${key.isWellFormed() ? key : '(key)'}" contains a lone surrogate`);
    const keyBytes = utf8Bytes(key);
    const valueBytes = utf8Bytes(value);
    if (keyBytes.length > 0xffff || valueBytes.length > 0xffff) throw new LimitExceededError(`${what}: keys and values are limited to 65,535 UTF-8 bytes`, 'contextValueBytes');
    entries.push({ key, value, keyBytes, valueBytes });
  }
  return sortEntries(entries);
}

/**
 * Sort entries by the UTF-8 bytes of their keys, in place. A context has a handful of pairs: an
 * insertion sort allocates nothing, where Array.prototype.sort with a comparator allocated its work
 * space on every document (issue 18); long lists still go to the engine's sort.
 */
function sortEntries<T extends { readonly keyBytes: Uint8Array }>(entries: T[]): T[] {
  if (entries.length > 16) return entries.sort((a, b) => compareBytes(a.keyBytes, b.keyBytes));
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    let j = i - 1;
    while (j >= 0 && compareBytes(entries[j]!.keyBytes, e.keyBytes) > 0) {
      entries[j + 1] = entries[j]!;
      j--;
    }
    entries[j + 1] = e;
  }
  return entries;
}

/** Canonical encoding: u32 count, then per pair u32 key length, key, u32 value length, value. */
export function encodeEntries(entries: readonly ContextEntry[]): Uint8Array {
  let size = 4;
  for (const e of entries) size += 8 + e.keyBytes.length + e.valueBytes.length;
  const w = new ByteWriter(size).u32(entries.length);
  for (const e of entries) w.u32(e.keyBytes.length).bytes(e.keyBytes).u32(e.valueBytes.length).bytes(e.valueBytes);
  return w.finish();
}

/** Merge two sorted entry lists with disjoint keys, keeping canonical order. */
export function mergeEntries(a: readonly ContextEntry[], b: readonly ContextEntry[]): ContextEntry[] {
  if (b.length === 0) return a.slice();
  if (a.length === 0) return b.slice();
  return sortEntries([...a, ...b]);
}

/** Entries back to a frozen plain record (with a null prototype, so `__proto__` is plain data). */
export function entriesToRecord(entries: readonly ContextEntry[]): EncryptionContext {
  const out: Record<string, string> = Object.create(null);
  for (const e of entries) out[e.key] = e.value;
  return Object.freeze(out);
}

/**
 * The canonical byte encoding of an encryption context, as bound into every field's AAD and the
 * header MAC: pairs sorted by the UTF-8 bytes of their keys, each length-prefixed (see FORMAT.md).
 * Providers without a native context (e.g. Google Cloud KMS) pass these bytes as AAD.
 *
 * @param context String keys to string values; keys starting with `fieldseal:` are rejected.
 * @returns The canonical encoding.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for non-string values or lone surrogates.
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` for a reserved key.
 * @example
 * ```ts
 * import { encodeContext } from '@fieldseal/core';
 * const aad = encodeContext({ tenant: 't1', table: 'customers' });
 * ```
 */
export function encodeContext(context: EncryptionContext): Uint8Array {
  // A copy: encodeEntries returns a view into internal slab memory (see allocPublic).
  return encodeEntries(contextEntries(context, 'context', 0xffff)).slice();
}
