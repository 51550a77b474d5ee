import { createRequire } from 'node:module';
import type pg from 'pg';
import { InvalidArgumentError } from '@fieldseal/core';
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
  #client: PostgresClientLike | undefined;
  #owned: pg.Client | undefined;
  #last: string | undefined;
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
    this.#last = options.position !== undefined ? parsePosition(options.position) : undefined;
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
    if (!rows.some((r) => r.attname === idColumn)) throw new InvalidArgumentError(`id column ${idColumn} not found in ${table}`);
    const unique = await this.#client!.query(
      `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND a.attname = $2 LIMIT 1`,
      [this.#table, idColumn],
    );
    if (unique.rowCount === 0) throw new InvalidArgumentError(`id column ${idColumn} of ${table} needs a primary key or unique index (keyset pagination and compare-and-swap rely on it)`);
  }

  #shardCondition(param: number): string {
    return this.#shard === undefined ? '' : ` AND (((hashtextextended(${this.#id}::text, 0) % $${param}) + $${param}) % $${param}) = $${param + 1}`;
  }

  #shardValues(): unknown[] {
    return this.#shard === undefined ? [] : [this.#shard.count, this.#shard.index];
  }

  /**
   * Rows of this shard with a non-NULL document (for progress and ETA). On big tables (planner
   * estimate over a million rows) the estimate divided by the shard count is used instead, so
   * starting a run never waits for a full-table count.
   */
  async total(): Promise<number | undefined> {
    const estimate = await this.#client!.query<{ n: string | null }>('SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = to_regclass($1)', [this.#table]);
    const estimated = Number(estimate.rows[0]?.n ?? -1);
    if (estimated > 1_000_000) return Math.round(estimated / (this.#shard?.count ?? 1));
    const { rows } = await this.#client!.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#table} WHERE ${this.#column} IS NOT NULL${this.#shardCondition(1)}`, this.#shardValues());
    return Number(rows[0]!.n);
  }

  /** The next rows after the last id read, in id order. */
  async next(limit: number): Promise<readonly StoreRecord[]> {
    if (this.#done) return [];
    // Aliases differ from the column names: ORDER BY must sort by the column's type, not its text.
    const select = `SELECT ${this.#id}::text AS fieldseal_id, ${this.#column}::text AS fieldseal_doc FROM ${this.#table}`;
    const result =
      this.#last === undefined
        ? await this.#client!.query<{ fieldseal_id: string; fieldseal_doc: string }>(`${select} WHERE ${this.#column} IS NOT NULL${this.#shardCondition(2)} ORDER BY ${this.#id} LIMIT $1`, [limit, ...this.#shardValues()])
        : await this.#client!.query<{ fieldseal_id: string; fieldseal_doc: string }>(`${select} WHERE ${this.#id} > $2 AND ${this.#column} IS NOT NULL${this.#shardCondition(3)} ORDER BY ${this.#id} LIMIT $1`, [limit, this.#last, ...this.#shardValues()]);
    const records = result.rows.map((r) => ({ id: r.fieldseal_id, text: r.fieldseal_doc }));
    if (records.length < limit) this.#done = true;
    if (records.length > 0) this.#last = records[records.length - 1]!.id;
    return records;
  }

  /** One transaction: a conditional UPDATE per replacement. */
  async commit(items: readonly CommitItem[]): Promise<CommitResult> {
    const client = this.#client!;
    const outcomes: ('written' | 'conflict' | 'kept')[] = items.map(() => 'kept');
    const update = `UPDATE ${this.#table} SET ${this.#column} = $3 WHERE ${this.#id} = $1 AND ${this.#column}::text = $2`;
    if (items.some((i) => i.replacement !== undefined)) {
      await client.query('BEGIN');
      try {
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          if (item.replacement === undefined) continue;
          const r = await client.query(update, [item.record.id, item.record.text, item.replacement]);
          outcomes[i] = r.rowCount === 1 ? 'written' : 'conflict';
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return { outcomes, position: JSON.stringify({ after: this.#last ?? null }) };
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
