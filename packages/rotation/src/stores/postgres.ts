import { createRequire } from 'node:module';
import type pg from 'pg';
import { InvalidArgumentError } from '@fieldseal/core';
import type { KeyRange } from '../queue.js';
import { assertUniqueIdColumn, KeysetScope, shardRowCount } from './keyset.js';
import type { CommitItem, CommitResult, Shard, Store, StoreOpenOptions, StoreRecord } from '../store.js';

/** The column types a {@link PostgresStore} can hold sealed documents in. */
export const SUPPORTED_DOCUMENT_TYPES: readonly string[] = ['jsonb', 'json', 'text', 'character varying'];

/** The part of a `pg` client the store uses (a `pg.Client`, or a client checked out of a `pg.Pool`). */
export interface PostgresClientLike {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A connection string (`postgres://user@host:5432/db`); the store opens and closes its own connection. */
  readonly connectionString?: string;
  /** Or a connected client, which the store uses but never closes. It must not be used by others during the run. */
  readonly client?: PostgresClientLike;
  /** The table, optionally schema-qualified (`public.customers`). */
  readonly table: string;
  /** The column holding the sealed document (`jsonb`, `json`, `text` or `varchar`). */
  readonly column: string;
  /** The unique, ordered id column (primary key or unique index) used for keyset pagination. Default `id`. */
  readonly idColumn?: string;
  /**
   * Only the rows with `after < id <= upTo` in id order (either bound may be left out), as text
   * the id column's type parses. A queue worker rotates one such keyset range (see
   * {@link workRotationQueue}); the range is part of the store's `description`, so checkpoints never mix.
   */
  readonly range?: KeyRange;
}

/**
 * pg's Client, loaded on first use so that importing this package (or rotating an NDJSON file)
 * never loads pg. It comes from pg's exported `pg/lib/client.js` subpath rather than pg's index,
 * which also loads pg-pool: the store needs no pool, and runtimes that resolve dependencies with
 * ESM-only conditions (vitest's `--conditions import`) cannot load pg-pool through `require`.
 */
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

/** Strip the password (and any query) from a connection string for messages and checkpoints. */
export function redactConnectionString(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}

/**
 * A {@link Store} over a PostgreSQL table: one row per document, an id column and a column
 * holding the sealed document as `jsonb`, `json` or `text`/`varchar` (see
 * {@link SUPPORTED_DOCUMENT_TYPES}). The id column must be unique (primary key or unique index)
 * and may be of any ordered type (integer, uuid, text, ...).
 *
 * - Reads by keyset pagination (`WHERE id > $last ORDER BY id LIMIT n`), so the cost per batch
 *   stays flat on tables of any size and rows inserted meanwhile are simply picked up or not.
 * - Writes each batch in one transaction with a conditional
 *   `UPDATE ... SET doc = $new WHERE id = $id AND doc::text = $read`: a row the application
 *   changed since it was read is left alone and reported as a conflict, never overwritten.
 *   Row locks are held only for the write phase, never while keys are being fetched.
 * - Shards by `hashtextextended(id::text, 0)` modulo N inside the database, so each worker
 *   reads only its own rows.
 * - `NULL` documents are ignored.
 *
 * @example
 * ```ts
 * import { PostgresStore } from '@fieldseal/rotation';
 * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL, table: 'customers', column: 'doc' });
 * ```
 */
export class PostgresStore implements Store {
  /** `postgres:<url without password>#table.column` (or `postgres:client#...`). */
  readonly description: string;
  readonly #options: PostgresStoreOptions;
  readonly #table: string;
  readonly #column: string;
  readonly #id: string;
  /** `next` may run one batch ahead of `commit` (the position comes from the batch committed). */
  readonly readAhead = true;
  #client: PostgresClientLike | undefined;
  #owned: pg.Client | undefined;
  #last: string | undefined;
  #idType = 'text';
  #docType = 'text';
  #shard: Shard | undefined;
  #done = false;

  /** @param options Connection, table and columns. @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad identifiers or no connection. */
  constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('PostgresStore: options must be an object');
    if ((options.connectionString === undefined) === (options.client === undefined)) throw new InvalidArgumentError('PostgresStore: give exactly one of connectionString and client');
    this.#options = options;
    this.#table = quoteTable(options.table);
    this.#column = quoteIdentifier(options.column, 'column');
    this.#id = quoteIdentifier(options.idColumn ?? 'id', 'id column');
    const where = options.connectionString !== undefined ? redactConnectionString(options.connectionString) : 'client';
    this.description = `postgres:${where}#${options.table}.${options.column}${options.idColumn && options.idColumn !== 'id' ? `(id ${options.idColumn})` : ''}`;
    if (options.range !== undefined) this.description += ` range (${options.range.after ?? ''}, ${options.range.upTo ?? ''}]`;
  }

  /** Connect (unless given a client), check the table's layout, and position after the saved id. */
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
    // A store is opened again for the engine's retry pass: start from a clean cursor.
    this.#done = false;
    this.#last = options.position !== undefined ? parsePosition(options.position) : this.#options.range?.after;
    if (options.finished === true) {
      this.#done = true;
      return;
    }
    await this.#checkLayout();
  }

  async #checkLayout(): Promise<void> {
    const table = this.#options.table;
    const column = this.#options.column;
    const idColumn = this.#options.idColumn ?? 'id';
    const { rows } = await this.#client!.query<{ attname: string; type: string }>(
      `SELECT a.attname, format_type(a.atttypid, NULL) AS type FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2::text[]) AND a.attnum > 0 AND NOT a.attisdropped`,
      [this.#table, [column, idColumn]],
    );
    if (rows.length === 0) throw new InvalidArgumentError(`table ${table} not found (or it has none of the columns ${column}, ${idColumn})`);
    const docType = rows.find((r) => r.attname === column)?.type;
    if (docType === undefined) throw new InvalidArgumentError(`column ${column} not found in ${table}`);
    if (!SUPPORTED_DOCUMENT_TYPES.includes(docType)) throw new InvalidArgumentError(`column ${column} is ${docType}; supported: ${SUPPORTED_DOCUMENT_TYPES.join(', ')}`);
    this.#docType = docType;
    const idType = rows.find((r) => r.attname === idColumn)?.type;
    if (idType === undefined) throw new InvalidArgumentError(`id column ${idColumn} not found in ${table}`);
    this.#idType = idType;
    await assertUniqueIdColumn(this.#client!, this.#table, table, idColumn);
  }

  /**
   * Rows of this shard with a non-NULL document (for progress and ETA). On big tables (planner
   * estimate over a million rows) the estimate divided by the shard count is used instead, so
   * starting a run never waits for a full-table count.
   */
  async total(): Promise<number | undefined> {
    return shardRowCount(this.#client!, this.#table, this.#scope(), this.#shard, `${this.#column} IS NOT NULL`);
  }

  #scope(): KeysetScope {
    return new KeysetScope(this.#id, this.#shard, this.#options.range?.upTo);
  }

  /** The next rows after the last id read, in id order. */
  async next(limit: number): Promise<readonly StoreRecord[]> {
    if (this.#done) return [];
    // Aliases differ from the column names: ORDER BY must sort by the column's type, not its text.
    const select = `SELECT ${this.#id}::text AS fieldseal_id, ${this.#column}::text AS fieldseal_doc FROM ${this.#table}`;
    const result =
      this.#last === undefined
        ? await this.#client!.query<{ fieldseal_id: string; fieldseal_doc: string }>(`${select} WHERE ${this.#column} IS NOT NULL${this.#scope().sql(2)} ORDER BY ${this.#id} LIMIT $1`, [limit, ...this.#scope().values()])
        : await this.#client!.query<{ fieldseal_id: string; fieldseal_doc: string }>(`${select} WHERE ${this.#id} > $2 AND ${this.#column} IS NOT NULL${this.#scope().sql(3)} ORDER BY ${this.#id} LIMIT $1`, [limit, this.#last, ...this.#scope().values()]);
    const records = result.rows.map((r) => ({ id: r.fieldseal_id, text: r.fieldseal_doc }));
    if (records.length < limit) this.#done = true;
    if (records.length > 0) this.#last = records[records.length - 1]!.id;
    return records;
  }

  /**
   * One statement for the whole batch (atomic, one round trip): an UPDATE joined to the batch's
   * ids, expected texts and replacements, compare-and-swap on the document's text.
   */
  async commit(items: readonly CommitItem[]): Promise<CommitResult> {
    const outcomes: ('written' | 'conflict' | 'kept')[] = items.map(() => 'kept');
    const writes = items.map((item, i) => ({ item, i })).filter((w) => w.item.replacement !== undefined);
    if (writes.length > 0) {
      // The id type comes from the catalog (format_type), not from input.
      const sql = `UPDATE ${this.#table} AS t SET ${this.#column} = v.n::${this.#docType} FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, o, n) WHERE t.${this.#id} = v.id::${this.#idType} AND t.${this.#column}::text = v.o RETURNING t.${this.#id}::text AS fieldseal_id`;
      const r = await this.#client!.query<{ fieldseal_id: string }>(sql, [writes.map((w) => w.item.record.id), writes.map((w) => w.item.record.text), writes.map((w) => w.item.replacement!)]);
      const done = new Set(r.rows.map((row) => row.fieldseal_id));
      for (const w of writes) outcomes[w.i] = done.has(w.item.record.id) ? 'written' : 'conflict';
    }
    // The batch's own last id, not #last: the engine may already have read the next batch.
    const after = items.length > 0 ? items[items.length - 1]!.record.id : (this.#last ?? null);
    return { outcomes, position: JSON.stringify({ after }) };
  }

  /** Nothing left to do: every batch was committed in its own transaction. */
  async complete(): Promise<void> {}

  /** Close the connection the store opened (a client passed in is left open). */
  async close(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    this.#client = undefined;
    await owned?.end();
  }
}

function parsePosition(text: string): string | undefined {
  let p: { after?: unknown } | null;
  try {
    p = JSON.parse(text) as { after?: unknown } | null;
  } catch {
    p = null;
  }
  if (p === null || typeof p !== 'object' || (p.after !== null && typeof p.after !== 'string')) throw new InvalidArgumentError('PostgresStore: the checkpoint position is not one this store wrote');
  return p.after ?? undefined;
}
