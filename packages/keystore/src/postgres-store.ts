import { InvalidArgumentError, type BranchKeyRecord, type BranchKeyStore, type WrappedKey } from '@fieldseal/core';
import { checkRecord, wrappedToJson } from './serialize.js';

/** The subset of `pg.Pool` (or `pg.Client`) the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Options of {@link PostgresBranchKeyStore}. */
export interface PostgresBranchKeyStoreOptions {
  /** A `pg.Pool` (recommended) or a connected client. */
  readonly pool: PgQueryable;
  /** Table name (optionally schema-qualified: `keys.branch_keys`). Default `fieldseal_branch_keys`. */
  readonly table?: string;
}

type PoolLike = PgQueryable & { connect?: () => Promise<PgQueryable & { release(): void }> };
/** Thrown inside a transaction when its compare-and-swap condition fails, so the transaction rolls back. */
const CAS_MISS = Symbol('cas-miss');

const IDENT = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/**
 * The SQL that creates the store's table: one row per branch-key version, at most one active
 * version per id (a partial unique index), the wrapped key as JSON. {@link PostgresBranchKeyStore.migrate}
 * runs it; DBAs can run it themselves.
 */
export function branchKeyTableSql(table = 'fieldseal_branch_keys'): string {
  if (!IDENT.test(table)) throw new InvalidArgumentError('table must be a lower-case SQL identifier, optionally schema-qualified');
  const index = `${table.replace('.', '_')}_one_active`;
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (`,
    '  branch_key_id text NOT NULL,',
    '  version integer NOT NULL CHECK (version >= 1),',
    "  state text NOT NULL CHECK (state IN ('active', 'retired')),",
    '  created_at timestamptz NOT NULL,',
    '  wrapped jsonb NOT NULL,',
    '  PRIMARY KEY (branch_key_id, version)',
    ');',
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index.split('.').pop()} ON ${table} (branch_key_id) WHERE state = 'active';`,
  ].join('\n');
}

/**
 * Branch keys in PostgreSQL, shared by every process and machine of a service. Writes are
 * transactions with compare-and-swap conditions (a rotation retires exactly the version it read;
 * the partial unique index keeps one active version per id), so concurrent rotations cannot both win.
 *
 * Importable from `@fieldseal/keystore`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PostgresBranchKeyStore } from '@fieldseal/keystore';
 * const store = new PostgresBranchKeyStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate();
 * ```
 */
export class PostgresBranchKeyStore implements BranchKeyStore {
  readonly #pool: PoolLike;
  readonly #table: string;

  constructor(options: PostgresBranchKeyStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.pool?.query !== 'function') throw new InvalidArgumentError('PostgresBranchKeyStore needs a pg pool');
    const table = options.table ?? 'fieldseal_branch_keys';
    branchKeyTableSql(table);
    this.#pool = options.pool as PoolLike;
    this.#table = table;
  }

  /** Create the table and its index if they do not exist. */
  async migrate(): Promise<void> {
    await this.#pool.query(branchKeyTableSql(this.#table));
  }

  #row(r: Record<string, unknown>): BranchKeyRecord {
    return checkRecord({ branchKeyId: r.branch_key_id, version: r.version, state: r.state, createdAt: new Date(r.created_at as string).toISOString(), wrapped: r.wrapped }, this.#table);
  }

  async getActive(branchKeyId: string): Promise<BranchKeyRecord | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM ${this.#table} WHERE branch_key_id = $1 AND state = 'active'`, [branchKeyId]);
    return rows[0] === undefined ? undefined : this.#row(rows[0]);
  }

  async getVersion(branchKeyId: string, version: number): Promise<BranchKeyRecord | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM ${this.#table} WHERE branch_key_id = $1 AND version = $2`, [branchKeyId, version]);
    return rows[0] === undefined ? undefined : this.#row(rows[0]);
  }

  /** Run statements in one transaction on one connection. */
  async #transaction<T>(run: (q: PgQueryable) => Promise<T>): Promise<T> {
    const client = typeof this.#pool.connect === 'function' ? await this.#pool.connect() : undefined;
    const q = client ?? this.#pool;
    await q.query('BEGIN');
    try {
      const result = await run(q);
      await q.query('COMMIT');
      return result;
    } catch (err) {
      await q.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client?.release();
    }
  }

  async putVersion(record: BranchKeyRecord, expectedActive: number | undefined): Promise<boolean> {
    try {
      return await this.#transaction(async (q) => {
        if (expectedActive === undefined) {
          const exists = await q.query(`SELECT 1 FROM ${this.#table} WHERE branch_key_id = $1 LIMIT 1`, [record.branchKeyId]);
          if (exists.rows.length > 0) throw CAS_MISS;
        } else {
          const retired = await q.query(`UPDATE ${this.#table} SET state = 'retired' WHERE branch_key_id = $1 AND version = $2 AND state = 'active'`, [record.branchKeyId, expectedActive]);
          if (retired.rowCount !== 1) throw CAS_MISS;
        }
        await q.query(`INSERT INTO ${this.#table} (branch_key_id, version, state, created_at, wrapped) VALUES ($1, $2, 'active', $3, $4)`, [record.branchKeyId, record.version, record.createdAt, JSON.stringify(wrappedToJson(record.wrapped))]);
        return true;
      });
    } catch (err) {
      if (err === CAS_MISS) return false;
      // A concurrent writer won the primary key or the one-active index: the CAS failed, nothing changed.
      if ((err as { code?: string }).code === '23505') return false;
      throw err;
    }
  }

  async replaceWrapped(branchKeyId: string, version: number, previous: readonly WrappedKey[], next: readonly WrappedKey[]): Promise<boolean> {
    const r = await this.#pool.query(`UPDATE ${this.#table} SET wrapped = $4 WHERE branch_key_id = $1 AND version = $2 AND wrapped = $3::jsonb`, [branchKeyId, version, JSON.stringify(wrappedToJson(previous)), JSON.stringify(wrappedToJson(next))]);
    return r.rowCount === 1;
  }

  async list(): Promise<BranchKeyRecord[]> {
    const { rows } = await this.#pool.query(`SELECT * FROM ${this.#table} ORDER BY branch_key_id COLLATE "C", version`);
    return rows.map((r) => this.#row(r));
  }

  async destroy(branchKeyId: string): Promise<number> {
    const r = await this.#pool.query(`DELETE FROM ${this.#table} WHERE branch_key_id = $1`, [branchKeyId]);
    return r.rowCount ?? 0;
  }
}
