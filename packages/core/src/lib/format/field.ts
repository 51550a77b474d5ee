import { DecryptionFailedError, LimitExceededError, MalformedError } from '../../errors.js';
import type { JsonValue } from '../../types.js';
import type { Backend } from '../backend/types.js';
import { IV_LENGTH, TAG_LENGTH } from '../backend/types.js';
import { writeAscii } from '../bytes.js';
import { stringifyJson } from '../json.js';
import { FIELD_PREFIX, TYPE_JSON, TYPE_STRING } from './constants.js';

const encoder = new TextEncoder();

/**
 * A field's plaintext: one type byte, then UTF-8. Strings ('s') are stored as their own UTF-8 so the
 * common case carries no JSON quoting; every other value, and strings with lone surrogates (which
 * UTF-8 cannot carry), is stored as JSON text ('j'), which restores its JSON type exactly.
 */
export function encodeFieldPlaintext(value: JsonValue, maxBytes: number): Uint8Array {
  let tag: number;
  let text: string;
  if (typeof value === 'string' && value.isWellFormed()) {
    tag = TYPE_STRING;
    text = value;
  } else {
    tag = TYPE_JSON;
    text = stringifyJson(value, maxBytes, 'maxFieldBytes');
  }
  // Cheap bound before encoding: UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (text.length > maxBytes) throw new LimitExceededError(`a selected value exceeds ${maxBytes} bytes`, 'maxFieldBytes');
  // Short ASCII (most PII values) is copied here: cheaper than encodeInto on a fresh subarray.
  if (text.length < 64) {
    const short = new Uint8Array(1 + text.length);
    short[0] = tag;
    // ASCII: one byte per code unit, so the bound checked above is exact.
    if (writeAscii(text, short, 1)) return short;
    short.fill(0);
  }
  // Optimistic exact size: most values are ASCII (one byte per code unit). Only when the text does
  // not fit is the worst case (3 bytes per code unit) allocated, so a 1 MiB ASCII field costs
  // 1 MiB, not 3 MiB of zero-filled memory.
  let out = new Uint8Array(1 + text.length);
  let { read, written } = encoder.encodeInto(text, out.subarray(1));
  if (read !== text.length) {
    out = new Uint8Array(1 + text.length * 3);
    ({ read, written } = encoder.encodeInto(text, out.subarray(1)));
  }
  out[0] = tag;
  if (written > maxBytes) throw new LimitExceededError(`a selected value exceeds ${maxBytes} bytes`, 'maxFieldBytes');
  return out.subarray(0, 1 + written);
}

/**
 * A large string field's plaintext, left as text: the backend encodes it slice by slice while it
 * seals (`sealTextToBase64url`), so no megabyte-sized copy of it is made. `bytes` is its exact UTF-8
 * length, for the limits and a caching keyring's byte count; the type byte is `TYPE_STRING`.
 */
export interface TextPlaintext {
  readonly text: string;
  readonly bytes: number;
}

/**
 * The plaintext of `value` as {@link TextPlaintext} when it is a well-formed string of at least
 * `minUnits` code units, else undefined (encode it with {@link encodeFieldPlaintext}). `utf8Length`
 * is the backend's (node only: the browser bundle does without the slice encoder).
 * @throws {LimitExceededError} when its UTF-8 exceeds `maxBytes`.
 */
export function textPlaintext(value: JsonValue, minUnits: number, maxBytes: number, utf8Length: (text: string) => number): TextPlaintext | undefined {
  if (typeof value !== 'string' || value.length < minUnits || !value.isWellFormed()) return undefined;
  if (value.length > maxBytes) throw new LimitExceededError(`a selected value exceeds ${maxBytes} bytes`, 'maxFieldBytes');
  const bytes = utf8Length(value);
  if (bytes > maxBytes) throw new LimitExceededError(`a selected value exceeds ${maxBytes} bytes`, 'maxFieldBytes');
  return { text: value, bytes };
}

/** Inverse of encodeFieldPlaintext, on authenticated bytes. */
export function decodeFieldPlaintext(backend: Backend, bytes: Uint8Array): JsonValue {
  let text: string;
  try {
    text = backend.utf8Decode(bytes.subarray(1));
  } catch {
    throw new DecryptionFailedError();
  }
  if (bytes[0] === TYPE_STRING) return text;
  if (bytes[0] === TYPE_JSON) {
    let value: JsonValue;
    try {
      value = JSON.parse(text) as JsonValue;
    } catch {
      throw new MalformedError('a decrypted field is not valid JSON');
    }
    // JSON.parse turns an out-of-range number (1e999) into ±Infinity, which is not JSON data; nested
    // ones are refused by the clone that bounds depth, a top-level one must be refused here.
    if (typeof value === 'number' && !Number.isFinite(value)) throw new MalformedError('a decrypted field holds a number JSON cannot represent');
    return value;
  }
  throw new MalformedError('a decrypted field has an unknown type tag');
}

/** The field string: prefix + base64url(iv ‖ ciphertext ‖ tag). */
export function fieldToString(backend: Backend, blob: Uint8Array): string {
  return FIELD_PREFIX + backend.base64urlEncode(blob);
}

/** Whether a string has the shape of a field ciphertext (used to detect duplicates and downgrades). */
export function looksLikeField(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(FIELD_PREFIX) && value.length >= FIELD_PREFIX.length + Math.ceil(((IV_LENGTH + TAG_LENGTH + 1) * 4) / 3);
}

/** Decode a field string into its blob; undefined-free: throws MalformedError. */
export function fieldFromString(backend: Backend, value: string, maxFieldBytes: number): Uint8Array {
  if (value.length > Math.ceil(((maxFieldBytes + 1 + IV_LENGTH + TAG_LENGTH) * 4) / 3) + FIELD_PREFIX.length) {
    throw new LimitExceededError(`a field ciphertext exceeds ${maxFieldBytes} bytes`, 'maxFieldBytes');
  }
  const blob = backend.base64urlDecode(value.slice(FIELD_PREFIX.length));
  if (blob === undefined || blob.length < IV_LENGTH + TAG_LENGTH + 1) throw new MalformedError('a field ciphertext is malformed');
  return blob;
}
