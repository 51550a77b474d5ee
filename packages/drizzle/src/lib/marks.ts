import { defineRowLayout, inspect, inspectRow, type ColumnCodec } from '@fieldseal/core';

/** toDriver functions of the encrypted column builders, with their codec. Column proxies (aliases) forward `mapTo`. */
export const SEALED_MARK = new WeakMap<object, ColumnCodec>();
/** toDriver function of the header column builder. */
export const HEADER_MARK = new WeakSet<object>();

const probe = defineRowLayout({ columns: ['v'], header: 'h' });

/** Whether a value is a field ciphertext (shape only, no key: core's own classification). */
export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && inspectRow({ v: value }, probe).sealedColumns.length === 1;
}

/** Whether a value parses as a fieldseal header (shape only, no key). */
export function isHeader(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    inspect({ h: value }, { headerName: 'h' });
    return true;
  } catch {
    return false;
  }
}

interface ColumnLike {
  readonly mapTo?: unknown;
}

/** The codec of an encrypted column, or undefined for any other column. */
export function sealedCodecOf(column: unknown): ColumnCodec | undefined {
  const mapTo = (column as ColumnLike | null)?.mapTo;
  return typeof mapTo === 'function' ? SEALED_MARK.get(mapTo) : undefined;
}

/** Whether a column was built by `fieldsealHeader`. */
export function isHeaderColumn(column: unknown): boolean {
  const mapTo = (column as ColumnLike | null)?.mapTo;
  return typeof mapTo === 'function' && HEADER_MARK.has(mapTo);
}
