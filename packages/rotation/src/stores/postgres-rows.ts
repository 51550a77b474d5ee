import { createRequire } from 'node:module';
import type pg from 'pg';
import { InvalidArgumentError, type RowLayout } from '@fieldseal/core';
import type { KeyRange } from '../queue.js';
import { assertUniqueIdColumn, KeysetScope, shardRowCount } from './keyset.js';
import type { CommitItem, CommitResult, Shard, Store, StoreOpenOptions, StoreRecord } from '../store.js';
import { redactConnectionString, type PostgresClientLike } from './postgres.js';
import { CLOAK_SQL_PATTERN, FIELD_SQL_MIN_LENGTH, FIELD_SQL_PREFIX } from '../lib/row-values.js';

/** Column types a sealed column or the header column may have: ciphertexts are strings. */
export const SUPPORTED_ROW_COLUMN_TYPES: readonly string[] = ['text', 'character varying'];

/** Options of {@link PostgresRowStore}. */
export interface PostgresRowStoreOptions {
  /** A connection string (`postgres://user@host:5432/db`); the store opens and closes its own connection. */
  readonly connectionString?: string;
  /** Or a connected client, which the store uses but never closes. It must not be used by others during the run. */
  readonly client?: PostgresClientLike;
  /** The table, optionally schema-qualified (`public.users`). */
  readonly table: string;
  /**
   * The row layout (from core's `defineRowLayout`): which columns are sealed, which holds the
   * header, which are bound as context. Column `name`s are the SQL column names.
   */
  readonly layout: RowLayout;
  /** The unique, ordered id column used for keyset pagination and compare-and-swap. Default `id`. */
  readonly idColumn?: string;
  /**
   * Only the rows with `after < id <= upTo` in id order (either bound may be left out), as text
   * the id column's type parses. A queue worker rotates one such keyset range (see
   * {@link workRotationQueue}); the range is part of the store's `description`, so checkpoints never mix.
   */
  readonly range?: KeyRange;
}

/** What {@link countRowValues} finds in a table, without any key. */
export interface RowValueCounts {
  /** Rows of the table. */
  readonly rows: number;
  /** Rows with a header (sealed, or mixed). */
  readonly sealedRows: number;
  /** Non-NULL values of sealed columns that are field ciphertexts. */
  readonly sealedValues: number;
  /** Non-NULL values of sealed columns that are not field ciphertexts (plaintext, cloak ciphertext, ...). */
  readonly plaintextValues: number;
  /** Of `plaintextValues`, those shaped like `@47ng/cloak` ciphertext (`v1.aesgcm256.<fingerprint>.…`). */
  readonly cloakValues: number;
  /** Rows holding at least one value counted in `plaintextValues`. */
  readonly plaintextRows: number;
}

function loadPgClient(): typeof pg.Client {
  return createRequire(import.meta.url)('pg/lib/client.js') as typeof pg.Client;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function quoteIdentifier(name: string, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) throw new InvalidArgumentError(`${what} must be a plain SQL identifier (letters, digits, _ and $), got ${JSON.stringify(String(name).slice(0, 70))}`);
  return `"${name}"`;
}

function quoteTable(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2) throw new InvalidArgumentError(`table must be "name" or "schema.name", got ${JSON.stringify(String(name).slice(0, 130))}`);
  return parts.map((p) => quoteIdentifier(p, 'table')).join('.');
}

/** One column the store reads: its SQL name, the row member it becomes, and whether it is written. */
interface ReadColumn {
  readonly name: string;
  readonly sql: string;
  readonly property: string;
  /** Sealed columns and the header are written; id and context columns only compared. */
  readonly written: boolean;
}

/** SQL that is true when `column` holds something other than a field ciphertext (see core's `inspectRow`). */
function notSealedSql(column: string): string {
  return `(${column} IS NOT NULL AND NOT (left(${column}, ${FIELD_SQL_PREFIX.length}) = '${FIELD_SQL_PREFIX}' AND length(${column}) >= ${FIELD_SQL_MIN_LENGTH}))`;
}

/**
 * A {@link Store} over the rows of a PostgreSQL table in the column layout: each sealed column
 * holds one field ciphertext (or plaintext, before a migration), one column holds the header,
 * and id and context columns are bound to the seal. A record's `text` is the JSON of the row's
 * layout columns (sealed columns, header, id and context columns as text), which is exactly
 * what core's `sealRow`, `openRow` and `inspectRow` take.
 *
 * - Reads by keyset pagination on the id column, so each batch costs the same on any table size.
 * - Writes a batch with one `UPDATE … FROM unnest(…)` whose WHERE compares the old value of every
 *   sealed column, the header, and every id and context column with what was read: a row the
 *   application changed meanwhile is left alone and reported as a conflict, never overwritten.
 *   The statement is atomic, so a crash leaves the batch written entirely or not at all.
 * - Shards by `hashtextextended(id::text, 0)` modulo N inside the database.
 *
 * @example
 * ```ts
 * import { defineRowLayout } from '@fieldseal/core';
 * import { PostgresRowStore } from '@fieldseal/rotation';
 * const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' });
 * const store = new PostgresRowStore({ connectionString: process.env.DATABASE_URL, table: 'users', layout });
 * ```
 */
export class PostgresRowStore implements Store {
  /** `postgres-rows:<url without password>#table(col,col;header)`. */
  readonly description: string;
  readonly #options: PostgresRowStoreOptions;
  readonly #table: string;
  readonly #id: string;
  readonly #columns: readonly ReadColumn[];
  #idType = 'text';
  /** `next` may run one batch ahead of `commit` (the position comes from the batch committed). */
  readonly readAhead = true;
  #client: PostgresClientLike | undefined;
  #owned: pg.Client | undefined;
  #last: string | undefined;
  #shard: Shard | undefined;
  #done = false;

  /** @param options Connection, table and layout. @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad identifiers or no connection. */
  constructor(options: PostgresRowStoreOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('PostgresRowStore: options must be an object');
    if ((options.connectionString === undefined) === (options.client === undefined)) throw new InvalidArgumentError('PostgresRowStore: give exactly one of connectionString and client');
    const layout = options.layout;
    if (layout === null || typeof layout !== 'object' || !Array.isArray(layout.columns)) throw new InvalidArgumentError('PostgresRowStore: layout must be a row layout from defineRowLayout');
    this.#options = options;
    this.#table = quoteTable(options.table);
    const idColumn = options.idColumn ?? 'id';
    this.#id = quoteIdentifier(idColumn, 'id column');
    const columns: ReadColumn[] = [];
    for (const c of layout.columns) columns.push({ name: c.name, sql: quoteIdentifier(c.name, 'sealed column'), property: c.property, written: true });
    columns.push({ name: layout.header.name, sql: quoteIdentifier(layout.header.name, 'header column'), property: layout.header.property, written: true });
    for (const b of layout.bindings) columns.push({ name: b.name, sql: quoteIdentifier(b.name, 'context column'), property: b.property, written: false });
    if (!layout.bindings.some((b) => b.name === idColumn)) {
      // Pagination needs the id even when the layout does not bind it (binding it is recommended).
      columns.push({ name: idColumn, sql: this.#id, property: idColumn, written: false });
    }
    const properties = new Set(columns.map((c) => c.property));
    if (properties.size !== columns.length) throw new InvalidArgumentError('PostgresRowStore: two layout columns map to the same row member');
    this.#columns = columns;
    const where = options.connectionString !== undefined ? redactConnectionString(options.connectionString) : 'client';
    this.description = `postgres-rows:${where}#${options.table}(${layout.columns.map((c) => c.name).join(',')};${layout.header.name})${idColumn !== 'id' ? `(id ${idColumn})` : ''}`;
    if (options.range !== undefined) this.description += ` range (${options.range.after ?? ''}, ${options.range.upTo ?? ''}]`;
  }

  /** Connect (unless given a client), check the table, and position after the saved id. */
  async open(options: StoreOpenOptions): Promise<void> {
    if (this.#options.client !== undefined) {
      this.#client = this.#options.client;
    } else {
      const Client = loadPgClient();
      this.#owned = new Client({ connectionString: this.#options.connectionString, application_name: 'fieldseal-rotate' });
      await this.#owned.connect();
      this.#client = this.#owned;
    }
    this.#shard = options.shard !== undefined && options.shard.count > 1 ? options.shard : undefined;
    this.#last = options.position !== undefined ? parsePosition(options.position) : this.#options.range?.after;
    await this.#checkLayout();
    if (options.finished === true) this.#done = true;
  }

  async #checkLayout(): Promise<void> {
    const table = this.#options.table;
    const names = this.#columns.map((c) => c.name);
    const { rows } = await this.#client!.query<{ attname: string; type: string }>(
      `SELECT a.attname, format_type(a.atttypid, NULL) AS type FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped`,
      [this.#table, names],
    );
    if (rows.length === 0) throw new InvalidArgumentError(`table ${table} not found (or it has none of the columns ${names.join(', ')})`);
    const types = new Map(rows.map((r) => [r.attname, r.type] as const));
    for (const c of this.#columns) {
      const type = types.get(c.name);
      if (type === undefined && c.name === this.#options.layout.header.name) throw new InvalidArgumentError(`header column ${c.name} not found in ${table}: add it first (ALTER TABLE ${this.#table} ADD COLUMN ${c.sql} text)`);
      if (type === undefined) throw new InvalidArgumentError(`column ${c.name} not found in ${table}`);
      if (c.written && !SUPPORTED_ROW_COLUMN_TYPES.includes(type)) throw new InvalidArgumentError(`column ${c.name} is ${type}; sealed and header columns must be ${SUPPORTED_ROW_COLUMN_TYPES.join(' or ')}`);
    }
    const idColumn = this.#options.idColumn ?? 'id';
    this.#idType = types.get(idColumn)!;
    await assertUniqueIdColumn(this.#client!, this.#table, table, idColumn);
  }

  /** Rows of this shard (planner estimate on tables over a million rows, so a start never waits for a count). */
  async total(): Promise<number | undefined> {
    return shardRowCount(this.#client!, this.#table, this.#scope(), this.#shard, 'true');
  }

  #scope(): KeysetScope {
    return new KeysetScope(this.#id, this.#shard, this.#options.range?.upTo);
  }

  /** The next rows after the last id read, in id order. */
  async next(limit: number): Promise<readonly StoreRecord[]> {
    if (this.#done) return [];
    const list = this.#columns.map((c, i) => `${c.sql}::text AS c${i}`).join(', ');
    const select = `SELECT ${this.#id}::text AS fieldseal_id, ${list} FROM ${this.#table}`;
    const result =
      this.#last === undefined
        ? await this.#client!.query<Record<string, string | null>>(`${select} WHERE true${this.#scope().sql(2)} ORDER BY ${this.#id} LIMIT $1`, [limit, ...this.#scope().values()])
        : await this.#client!.query<Record<string, string | null>>(`${select} WHERE ${this.#id} > $2${this.#scope().sql(3)} ORDER BY ${this.#id} LIMIT $1`, [limit, this.#last, ...this.#scope().values()]);
    const records = result.rows.map((r) => {
      const row: Record<string, string | null> = {};
      this.#columns.forEach((c, i) => Object.defineProperty(row, c.property, { value: r[`c${i}`] ?? null, enumerable: true, writable: true, configurable: true }));
      return { id: r.fieldseal_id!, text: JSON.stringify(row) };
    });
    if (records.length < limit) this.#done = true;
    if (records.length > 0) this.#last = records[records.length - 1]!.id;
    return records;
  }

  /** One atomic UPDATE for the whole batch, compare-and-swap on every layout column. */
  async commit(items: readonly CommitItem[]): Promise<CommitResult> {
    const outcomes: ('written' | 'conflict' | 'kept')[] = items.map(() => 'kept');
    const writes = items.map((item, i) => ({ item, i })).filter((w) => w.item.replacement !== undefined);
    if (writes.length > 0) {
      const cols = this.#columns;
      // Parameter $1: ids; then per column its old values; then per written column its new values.
      const ids = writes.map((w) => w.item.record.id);
      const olds = cols.map((c) => writes.map((w) => stringOrNull(memberOf(JSON.parse(w.item.record.text), c.property), c.name)));
      const written = cols.filter((c) => c.written);
      const news = written.map((c) => writes.map((w) => stringOrNull(memberOf(JSON.parse(w.item.replacement!), c.property), c.name)));
      const aliases = ['id', ...cols.map((_, i) => `o${i}`), ...written.map((_, i) => `n${i}`)];
      const params = [ids, ...olds, ...news];
      const unnest = params.map((_, i) => `$${i + 1}::text[]`).join(', ');
      const set = written.map((c, i) => `${c.sql} = v.n${i}`).join(', ');
      const cas = cols.map((c, i) => `t.${c.sql}::text IS NOT DISTINCT FROM v.o${i}`).join(' AND ');
      const sql = `UPDATE ${this.#table} AS t SET ${set} FROM unnest(${unnest}) AS v(${aliases.join(', ')}) WHERE t.${this.#id} = v.id::${this.#idType} AND ${cas} RETURNING t.${this.#id}::text AS fieldseal_id`;
      const r = await this.#client!.query<{ fieldseal_id: string }>(sql, params);
      const done = new Set(r.rows.map((row) => row.fieldseal_id));
      for (const w of writes) outcomes[w.i] = done.has(w.item.record.id) ? 'written' : 'conflict';
    }
    // The batch's own last id, not #last: the engine may already have read the next batch.
    const after = items.length > 0 ? items[items.length - 1]!.record.id : (this.#last ?? null);
    return { outcomes, position: JSON.stringify({ after }) };
  }

  /** Nothing left to do: every batch was committed by its own statement. */
  async complete(): Promise<void> {}

  /** Close the connection the store opened (a client passed in is left open). */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    this.#client = undefined;
    await owned?.end();
  }
}

function memberOf(row: unknown, property: string): unknown {
  return row !== null && typeof row === 'object' && Object.prototype.hasOwnProperty.call(row, property) ? (row as Record<string, unknown>)[property] : null;
}

function stringOrNull(value: unknown, column: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  throw new InvalidArgumentError(`PostgresRowStore: the new value of column ${column} is not a string (sealed and header columns hold text)`);
}

function parsePosition(text: string): string | undefined {
  let p: { after?: unknown } | null;
  try {
    p = JSON.parse(text) as { after?: unknown } | null;
  } catch {
    p = null;
  }
  if (p === null || typeof p !== 'object' || (p.after !== null && typeof p.after !== 'string')) throw new InvalidArgumentError('PostgresRowStore: the checkpoint position is not one this store wrote');
  return p.after ?? undefined;
}

/** Options of {@link countRowValues}. */
export type CountRowValuesOptions = Pick<PostgresRowStoreOptions, 'connectionString' | 'client' | 'table' | 'layout'>;

/**
 * Counts, in SQL and without any key, what the sealed columns of a table hold: field
 * ciphertexts, plaintext, and cloak ciphertext. A finished seal-in-place migration has
 * `plaintextValues` 0. The classification is the one of core's `inspectRow`.
 *
 * @example
 * ```ts
 * const { plaintextValues } = await countRowValues({ connectionString, table: 'users', layout });
 * ```
 */
export async function countRowValues(options: CountRowValuesOptions): Promise<RowValueCounts> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('countRowValues: options must be an object');
  if ((options.connectionString === undefined) === (options.client === undefined)) throw new InvalidArgumentError('countRowValues: give exactly one of connectionString and client');
  const table = quoteTable(options.table);
  const cols = options.layout.columns.map((c) => quoteIdentifier(c.name, 'sealed column'));
  const header = quoteIdentifier(options.layout.header.name, 'header column');
  const sum = (expr: (c: string) => string) => cols.map((c) => `count(*) FILTER (WHERE ${expr(c)})`).join(' + ');
  const sql = `SELECT count(*)::text AS rows,
      count(*) FILTER (WHERE ${header} IS NOT NULL)::text AS sealed_rows,
      (${sum((c) => `${c} IS NOT NULL AND NOT ${notSealedSql(c)}`)})::text AS sealed_values,
      (${sum(notSealedSql)})::text AS plaintext_values,
      (${sum((c) => `${c} ~ '${CLOAK_SQL_PATTERN}'`)})::text AS cloak_values,
      count(*) FILTER (WHERE ${cols.map(notSealedSql).join(' OR ')})::text AS plaintext_rows
    FROM ${table}`;
  let owned: pg.Client | undefined;
  let client = options.client;
  if (client === undefined) {
    const Client = loadPgClient();
    owned = new Client({ connectionString: options.connectionString, application_name: 'fieldseal-rotate' });
    await owned.connect();
    client = owned;
  }
  try {
    const { rows } = await client.query<Record<string, string>>(sql);
    const r = rows[0]!;
    return { rows: Number(r.rows), sealedRows: Number(r.sealed_rows), sealedValues: Number(r.sealed_values), plaintextValues: Number(r.plaintext_values), cloakValues: Number(r.cloak_values), plaintextRows: Number(r.plaintext_rows) };
  } finally {
    await owned?.end();
  }
}
