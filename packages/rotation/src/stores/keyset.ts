import { InvalidArgumentError } from '@fieldseal/core';
import type { Shard } from '../store.js';

/** What the helpers need of a pg client (kept here so this file imports no store). */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * The part of a keyset-paginated scan's WHERE clause that both PostgreSQL stores share: this
 * shard's rows (a hash of the id) and, for a queue range, the range's upper bound. Parameters are
 * numbered from the caller's next free `$n`.
 */
export class KeysetScope {
  readonly #id: string;
  readonly #shard: Shard | undefined;
  readonly #upTo: unknown;

  constructor(idSql: string, shard: Shard | undefined, upTo: unknown) {
    this.#id = idSql;
    this.#shard = shard;
    this.#upTo = upTo;
  }

  /** ` AND <this shard>`, numbered from `$first` (two parameters), or nothing without a shard. */
  shardSql(first: number): string {
    return this.#shard === undefined ? '' : ` AND (((hashtextextended(${this.#id}::text, 0) % $${first}) + $${first}) % $${first}) = $${first + 1}`;
  }

  shardValues(): unknown[] {
    return this.#shard === undefined ? [] : [this.#shard.count, this.#shard.index];
  }

  /** The shard condition, then the range's upper bound, numbered from `$first`. */
  sql(first: number): string {
    const bound = this.#upTo === undefined ? '' : ` AND ${this.#id} <= $${first + (this.#shard === undefined ? 0 : 2)}`;
    return this.shardSql(first) + bound;
  }

  /** The values of {@link KeysetScope.sql}'s parameters, in order. */
  values(): unknown[] {
    return this.#upTo === undefined ? this.shardValues() : [...this.shardValues(), this.#upTo];
  }
}

/** Keyset pagination and compare-and-swap need the id column to be unique: refuse a table where it is not. */
export async function assertUniqueIdColumn(client: Queryable, table: string, tableLabel: string, idColumn: string): Promise<void> {
  const unique = await client.query(
    `SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND a.attname = $2 LIMIT 1`,
    [table, idColumn],
  );
  if (unique.rowCount === 0) throw new InvalidArgumentError(`id column ${idColumn} of ${tableLabel} needs a primary key or unique index (keyset pagination and compare-and-swap rely on it)`);
}

/**
 * Rows of this shard for progress and ETA: on big tables (planner estimate over a million rows) the
 * estimate divided by the shard count, so starting a run never waits for a full-table count.
 */
export async function shardRowCount(client: Queryable, table: string, scope: KeysetScope, shard: Shard | undefined, where: string): Promise<number> {
  const estimate = await client.query('SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = to_regclass($1)', [table]);
  const estimated = Number((estimate.rows[0] as { n?: string | null } | undefined)?.n ?? -1);
  if (estimated > 1_000_000) return Math.round(estimated / (shard?.count ?? 1));
  const { rows } = await client.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}${scope.shardSql(1)}`, scope.shardValues());
  return Number((rows[0] as { n: string }).n);
}
