import type { Column, Table } from 'drizzle-orm';
import { InvalidArgumentError, type EncryptionContext } from '@fieldseal/core';
import { buildDescriptor, FIELDSEAL_TABLE } from './lib/describe.js';

/** A beacon column for one encrypted column: the column, or the column and the beacon field name. */
export type BeaconColumn = Column | { readonly column: Column; readonly field?: string };

/** What {@link fieldseal} takes. Every member names columns of the same table. */
export interface FieldsealTableOptions<T extends Table> {
  /** The header column. Default: the table's one `fieldsealHeader` column. */
  readonly header?: Column;
  /**
   * The row id column(s), bound into every ciphertext of the row so that a ciphertext copied to
   * another row fails to open. Default: the table's primary key column(s).
   */
  readonly id?: Column | readonly Column[];
  /** Context bound from other columns of the row (context key to column), e.g. `{ tenant: t.tenantId }`. */
  readonly contextColumns?: Readonly<Record<string, Column>>;
  /** Context stored in every row's header and checked on open, e.g. `{ table: 'users' }`. */
  readonly context?: EncryptionContext;
  /**
   * Beacon columns for equality search, by encrypted column key: `eq(t.email, x)` becomes a lookup
   * of `x`'s beacon in that column. The beacon field name in the `BeaconIndex` defaults to the
   * encrypted column's database name.
   */
  readonly beacons?: Partial<Readonly<Record<keyof T['_']['columns'] & string, BeaconColumn>>>;
}

/**
 * Declares how a table's encrypted columns are sealed: header, id and context columns, stored
 * context and beacon columns. Validated now, so a misconfiguration fails at start-up. Optional
 * for a table with one `fieldsealHeader` column, a primary key and no beacons or context.
 *
 * The mapping is core's row layout (`defineRowLayout`, docs/FORMAT.md §9) over the columns'
 * database names: the CLI, the rotation engine and other integrations read the same rows when
 * given the same columns and context.
 *
 * Importable from `@fieldseal/drizzle`.
 *
 * @example
 * ```ts
 * import { fieldseal } from '@fieldseal/drizzle';
 * fieldseal(users, {
 *   contextColumns: { tenant: users.tenantId },
 *   context: { table: 'users' },
 *   beacons: { email: users.emailBidx },
 * });
 * ```
 * @param table A Drizzle `pgTable` with encrypted columns.
 * @param options Header, id, context and beacon columns.
 * @returns The same table.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an inconsistent declaration, or a table declared twice.
 */
export function fieldseal<T extends Table>(table: T, options: FieldsealTableOptions<T> = {}): T {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('fieldseal() options must be an object');
  const descriptor = buildDescriptor(table, options as never);
  if (Object.prototype.hasOwnProperty.call(table, FIELDSEAL_TABLE)) throw new InvalidArgumentError(`table "${descriptor.tableName}" is already described (declare it once, before its first query)`);
  Object.defineProperty(table, FIELDSEAL_TABLE, { value: descriptor, configurable: false, enumerable: false, writable: false });
  return table;
}
