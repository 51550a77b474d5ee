import { InvalidArgumentError, MalformedError } from '../../errors.js';
import type { JsonValue } from '../../types.js';

/** How an application value of a sealed column becomes the JSON value that is sealed. */
export type ColumnCodec = 'json' | 'string' | 'date' | 'bigint' | 'bytes';

export const COLUMN_CODECS: readonly ColumnCodec[] = Object.freeze(['json', 'string', 'date', 'bigint', 'bytes']);

// ISO 8601 as Date.prototype.toISOString writes it (years 0000-9999, or ±YYYYYY).
const ISO_DATE = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DECIMAL = /^-?(?:0|[1-9]\d*)$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function bytesToBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function base64urlToBytes(text: string): Uint8Array | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Canonical only: the unused low bits of the last character must be zero.
  return bytesToBase64url(out) === text ? out : undefined;
}

/** Turn a column value into the JSON value that is sealed. The message names the column, never the value. */
export function encodeColumnValue(codec: ColumnCodec, value: unknown, column: string): JsonValue {
  switch (codec) {
    case 'string':
      if (typeof value !== 'string') throw new InvalidArgumentError(`column "${column}" takes strings only (codec "string"), got ${describe(value)}`);
      return value;
    case 'date':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidArgumentError(`column "${column}" takes valid Date values (codec "date"), got ${describe(value)}`);
      return value.toISOString();
    case 'bigint':
      if (typeof value !== 'bigint') throw new InvalidArgumentError(`column "${column}" takes bigint values (codec "bigint"), got ${describe(value)}`);
      return value.toString();
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`column "${column}" takes Uint8Array values (codec "bytes"), got ${describe(value)}`);
      return bytesToBase64url(value);
    default:
      if (value instanceof Date || typeof value === 'bigint' || value instanceof Uint8Array) {
        throw new InvalidArgumentError(`column "${column}" holds a ${describe(value)}, which JSON cannot hold: declare its codec ("date", "bigint" or "bytes") in the row layout`);
      }
      return value as JsonValue;
  }
}

/** Turn an opened JSON value back into the column's application value. */
export function decodeColumnValue(codec: ColumnCodec, value: JsonValue, column: string): unknown {
  const bad = (): never => {
    throw new MalformedError(`column "${column}" opened to a value that its codec "${codec}" cannot decode`);
  };
  switch (codec) {
    case 'string':
      return typeof value === 'string' ? value : bad();
    case 'date':
      if (typeof value !== 'string' || !ISO_DATE.test(value)) return bad();
      const date = new Date(value);
      // Canonical only: "2020-02-30T…" parses to March 1st, which is not what was sealed.
      return !Number.isNaN(date.getTime()) && date.toISOString() === value ? date : bad();
    case 'bigint':
      return typeof value === 'string' && DECIMAL.test(value) ? BigInt(value) : bad();
    case 'bytes':
      return (typeof value === 'string' && base64urlToBytes(value)) || bad();
    default:
      return value;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Date) return 'Date';
  if (value instanceof Uint8Array) return 'Uint8Array';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The string bound as context for a column value (a row id, a tenant id). */
export function contextValueOf(value: unknown, column: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  throw new InvalidArgumentError(`context column "${column}" must hold a string, number, bigint, boolean or Date (got ${describe(value)}); a row's id must be known before it is sealed`);
}
