import { InvalidArgumentError } from '../../errors.js';
import type { EncryptionContext } from '../../types.js';
import { looksLikeField } from '../format/field.js';
import type { RowLayout, RowLayoutColumn } from '../../rows/layout.js';
import { contextValueOf } from './codec.js';

/** What one sealed column of a row holds. */
export type CellState = 'null' | 'sealed' | 'plaintext';

/** A row's sealed columns, classified without any key. */
export interface RowCells {
  readonly cells: readonly { readonly column: RowLayoutColumn; readonly value: unknown; readonly state: CellState }[];
  /** The header column's value, when it is not NULL. */
  readonly header: unknown;
}

/** Read a member the row itself holds (never one inherited through its prototype). */
export function ownValue(row: object, property: string): unknown {
  return Object.prototype.hasOwnProperty.call(row, property) ? (row as Record<string, unknown>)[property] : undefined;
}

export function assertRow(row: unknown): asserts row is Record<string, unknown> {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new InvalidArgumentError('a row must be a plain object');
}

export function classifyCells(row: Record<string, unknown>, layout: RowLayout): RowCells {
  const cells = layout.columns.map((column) => {
    const value = ownValue(row, column.property);
    const state: CellState = value === null || value === undefined ? 'null' : looksLikeField(value) ? 'sealed' : 'plaintext';
    return { column, value, state };
  });
  const header = ownValue(row, layout.header.property);
  return { cells, header: header === null ? undefined : header };
}

/** The row's column-bound context (ids, tenant), all required-but-not-stored. */
export function boundContext(row: Record<string, unknown>, layout: RowLayout): EncryptionContext {
  const out: Record<string, string> = {};
  for (const b of layout.bindings) out[b.key] = contextValueOf(ownValue(row, b.property), b.name);
  return out;
}

/** A null-prototype-free JSON object with one member per sealed column, safe for any column name. */
export function documentOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [name, value] of entries) setMember(doc, name, value);
  return doc;
}

/** A shallow copy of the row that keeps every own member, `__proto__` included, as data. */
export function copyRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(row)) setMember(out, key, row[key]);
  return out;
}

/**
 * Set an own, enumerable, writable data member of a plain object (one whose prototype is
 * Object.prototype), whatever its name. A name Object.prototype does not have (neither its own
 * members nor anything added to it) is assigned: that can only create or update an own data
 * member, and costs a fraction of defineProperty, called a dozen times per row (issue 18). Any
 * other name (`__proto__`, `constructor`, a name a polluted prototype carries, perhaps as a
 * setter) is defined, never assigned.
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!(key in Object.prototype) && (Object.prototype.hasOwnProperty.call(target, key) || Object.isExtensible(target))) target[key] = value;
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
