import { getTableColumns, getTableName, is, Table, type Column } from 'drizzle-orm';
import { defineRowLayout, InvalidArgumentError, type EncryptionContext, type RowLayout } from '@fieldseal/core';
import { refused } from './refused.js';
import { isHeaderColumn, sealedCodecOf } from './marks.js';
import type { ColumnCodec } from '@fieldseal/core';

/** Where a table's descriptor lives: on the table object, so that aliases (proxies) forward it. */
export const FIELDSEAL_TABLE: unique symbol = Symbol.for('@fieldseal/drizzle.table');

export interface SealedColumnInfo {
  readonly key: string;
  readonly name: string;
  readonly codec: ColumnCodec;
}

export interface BeaconInfo {
  /** TS key of the beacon column. */
  readonly column: string;
  /** Beacon field name in the BeaconIndex. */
  readonly field: string;
}

/** Everything the wrapper knows about a table with sealed columns. Keys are Drizzle's TS keys. */
export interface TableDescriptor {
  readonly tableName: string;
  readonly layout: RowLayout;
  /** The same layout over database column names, for rows from `db.execute`. */
  readonly rawLayout: RowLayout;
  readonly sealed: ReadonlyMap<string, SealedColumnInfo>;
  readonly header: string;
  readonly ids: readonly string[];
  /** Id and context columns: bound into every ciphertext of the row. */
  readonly bound: readonly string[];
  readonly beacons: ReadonlyMap<string, BeaconInfo>;
  /** Every column: database name to TS key. */
  readonly keyOfName: ReadonlyMap<string, string>;
  readonly columns: Readonly<Record<string, Column>>;
}

/** What `fieldseal(table, …)` takes; see its TSDoc. */
export interface DescriptorSpec {
  readonly header?: Column;
  readonly id?: Column | readonly Column[];
  readonly contextColumns?: Readonly<Record<string, Column>>;
  readonly context?: EncryptionContext;
  readonly beacons?: Readonly<Record<string, Column | { readonly column: Column; readonly field?: string }>>;
}

export function tableColumns(table: Table): Record<string, Column> {
  return getTableColumns(table) as Record<string, Column>;
}

export function tableNameOf(table: Table): string {
  return getTableName(table);
}

function keyOf(columns: Record<string, Column>, column: unknown, what: string): string {
  for (const [key, c] of Object.entries(columns)) if (c === column) return key;
  throw new InvalidArgumentError(`${what} must be a column of the same table`);
}

export function buildDescriptor(table: Table, spec: DescriptorSpec): TableDescriptor {
  if (!is(table, Table)) throw new InvalidArgumentError('fieldseal() takes a Drizzle table');
  const columns = tableColumns(table);
  const sealed = new Map<string, SealedColumnInfo>();
  const keyOfName = new Map<string, string>();
  const layoutColumns: { name: string; property: string; codec: ColumnCodec; group?: string }[] = [];
  const headers: string[] = [];
  for (const [key, column] of Object.entries(columns)) {
    keyOfName.set(column.name, key);
    const codec = sealedCodecOf(column);
    if (codec !== undefined) {
      sealed.set(key, { key, name: column.name, codec });
      const group = (column as unknown as { config: { fieldConfig?: { group?: string } } }).config.fieldConfig?.group;
      layoutColumns.push({ name: column.name, property: key, codec, ...(group !== undefined ? { group } : {}) });
    }
    if (isHeaderColumn(column)) headers.push(key);
  }
  const tableName = tableNameOf(table);
  if (sealed.size === 0) throw new InvalidArgumentError(`table "${tableName}" has no encrypted column (use encryptedText and its siblings)`);
  let header: string;
  if (spec.header !== undefined) header = keyOf(columns, spec.header, 'header');
  else if (headers.length === 1) header = headers[0]!;
  else throw new InvalidArgumentError(`table "${tableName}" needs exactly one fieldsealHeader column (or name it in fieldseal(table, { header }))`);
  const idColumns = spec.id === undefined ? Object.keys(columns).filter((k) => columns[k]!.primary) : (Array.isArray(spec.id) ? spec.id : [spec.id]).map((c) => keyOf(columns, c, 'id'));
  // The id is what stops a ciphertext copied to another row from opening; updates also need it
  // to write each row back by its key.
  if (idColumns.length === 0) throw new InvalidArgumentError(`table "${tableName}" has no primary key column: name its id column(s) in fieldseal(table, { id })`);
  const contextColumns: Record<string, { name: string; property: string }> = {};
  for (const [ck, c] of Object.entries(spec.contextColumns ?? {})) {
    const key = keyOf(columns, c, `contextColumns.${ck}`);
    contextColumns[ck] = { name: columns[key]!.name, property: key };
  }
  const layoutSpec = {
    columns: layoutColumns,
    header: { name: columns[header]!.name, property: header },
    id: idColumns.map((k) => ({ name: columns[k]!.name, property: k })),
    contextColumns,
    ...(spec.context !== undefined ? { context: spec.context } : {}),
  };
  const layout = defineRowLayout(layoutSpec);
  const rawLayout = defineRowLayout({
    ...layoutSpec,
    columns: layoutColumns.map((c) => ({ ...c, property: c.name })),
    header: { name: columns[header]!.name },
    id: idColumns.map((k) => ({ name: columns[k]!.name })),
    contextColumns: Object.fromEntries(Object.entries(contextColumns).map(([k, v]) => [k, { name: v.name }])),
  });
  const beacons = new Map<string, BeaconInfo>();
  for (const [sealedKey, b] of Object.entries(spec.beacons ?? {})) {
    const info = sealed.get(sealedKey);
    if (info === undefined) throw new InvalidArgumentError(`beacons: "${sealedKey}" is not an encrypted column of "${tableName}"`);
    const target = isColumnLike(b) ? { column: b as Column } : (b as { column: Column; field?: string });
    const column = keyOf(columns, target.column, `beacons.${sealedKey}`);
    if (sealed.has(column) || column === header) throw new InvalidArgumentError(`beacons.${sealedKey}: the beacon column must be a plain text column`);
    beacons.set(sealedKey, { column, field: target.field ?? info.name });
  }
  return Object.freeze({
    tableName,
    layout,
    rawLayout,
    sealed,
    header,
    ids: idColumns,
    bound: [...idColumns, ...Object.values(contextColumns).map((c) => c.property)],
    beacons,
    keyOfName,
    columns,
  });
}

function isColumnLike(value: unknown): boolean {
  return typeof (value as { getSQLType?: unknown }).getSQLType === 'function';
}

/**
 * The descriptor of a table (or alias), or undefined for a table without encrypted columns. A
 * table with encrypted columns that `fieldseal()` did not describe is described from its
 * `fieldsealHeader` column and primary key, once.
 */
export function descriptorOf(table: unknown): TableDescriptor | undefined {
  if (!is(table, Table)) return undefined;
  const own = (table as unknown as Record<symbol, TableDescriptor | undefined>)[FIELDSEAL_TABLE];
  if (own !== undefined) return own;
  const columns = tableColumns(table);
  if (!Object.values(columns).some((c) => sealedCodecOf(c) !== undefined || isHeaderColumn(c))) return undefined;
  let descriptor: TableDescriptor;
  try {
    descriptor = buildDescriptor(table, {});
  } catch (err) {
    throw refused(`table "${tableNameOf(table)}" has encrypted columns but cannot be described: ${(err as Error).message}`);
  }
  // Stored on the table itself (through an alias proxy this reaches the original table).
  Object.defineProperty(table, FIELDSEAL_TABLE, { value: descriptor, configurable: false, enumerable: false, writable: false });
  return descriptor;
}
