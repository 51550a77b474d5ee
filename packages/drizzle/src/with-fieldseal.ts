import type { PgDatabase } from 'drizzle-orm/pg-core';
import type { Table } from 'drizzle-orm';
import { InvalidArgumentError, openRows, type BeaconIndex, type Limits, type RowKeyrings } from '@fieldseal/core';
import { refused } from './lib/refused.js';
import { descriptorOf } from './lib/describe.js';
import { makeEnv, type Env } from './lib/env.js';
import { pendingBuilder } from './lib/builder.js';
import { runSelect } from './lib/run-select.js';
import { runDelete, runInsert, runUpdate } from './lib/run-write.js';
import { runRelational } from './lib/run-relational.js';
import { refuseSealed } from './lib/sql.js';
import { backfillBeacons } from './lib/backfill.js';

/** Options of {@link withFieldseal}. */
export interface WithFieldsealOptions extends RowKeyrings {
  /** The beacon index for tables that declare beacon columns (equality search on encrypted columns). */
  readonly beacons?: BeaconIndex;
  /** Override resource limits of sealing and opening. */
  readonly limits?: Partial<Limits>;
  /**
   * Migration mode, while `fieldseal rotate --mode seal` seals an existing table in place: a
   * sealed column that still holds plaintext is returned as it is instead of failing the query.
   * Writes are sealed as always, and an update reseals any plaintext left in the row. Turn it off
   * once the CLI reports no plaintext left: off, a value written around fieldseal is an error.
   */
  readonly allowPlaintext?: boolean;
}

/** Helpers for what the wrapper does not rewrite: raw SQL results. */
export interface FieldsealHelpers {
  /**
   * Opens rows of `table` as `db.execute(sql…)` returns them (keys are database column names), in
   * one batch. Every sealed column, the header and the id and context columns must be selected.
   */
  openRawRows(table: Table, rows: readonly Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
  /**
   * Writes the beacons a table is missing (rows sealed by the CLI, or written before the beacon
   * column existed), in keyset batches by id, each row guarded by its header. Returns the rows written.
   */
  backfillBeacons(table: Table, options?: { readonly batchSize?: number }): Promise<number>;
}

/** A Drizzle database whose queries seal on write, open on read and refuse what cannot be answered safely. */
export type FieldsealDatabase<TDb> = TDb & {
  /** Helpers for raw SQL. */
  readonly $fieldseal: FieldsealHelpers;
  /** The bare database: nothing is sealed, opened or checked (the encrypted columns still refuse plaintext). */
  readonly $base: TDb;
};

const SELECTS = new Set(['select', 'selectDistinct', 'selectDistinctOn']);
const WRITES = { insert: runInsert, update: runUpdate, delete: runDelete } as const;

function wrap<TDb extends object>(base: TDb, env: Env): FieldsealDatabase<TDb> {
  const helpers: FieldsealHelpers = {
    async openRawRows(table, rows) {
      const d = descriptorOf(table);
      if (d === undefined) throw new InvalidArgumentError('openRawRows() takes a table with encrypted columns');
      return openRows(rows as Record<string, unknown>[], d.rawLayout, env.openOptions());
    },
    backfillBeacons(table, options) {
      return backfillBeacons(env, table, options?.batchSize ?? 500);
    },
  };
  const query = new Proxy(Object.create(null) as object, {
    get(_t, name) {
      if (typeof name !== 'string' || (base as any).query?.[name] === undefined) return undefined;
      return {
        findMany: (config?: Record<string, unknown>) => pendingBuilder('relational', { method: 'findMany', args: [config] }, () => runRelational(env, name, 'many', config)),
        findFirst: (config?: Record<string, unknown>) => pendingBuilder('relational', { method: 'findFirst', args: [config] }, () => runRelational(env, name, 'first', config)),
      };
    },
  });
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === 'string') {
        if (SELECTS.has(prop)) return (...args: unknown[]) => pendingBuilder('select', { method: prop, args }, (root, calls) => runSelect(env, root, calls));
        if (prop in WRITES) {
          const run = WRITES[prop as keyof typeof WRITES];
          return (table: unknown) => pendingBuilder(prop, { method: prop, args: [table] }, (root, calls) => run(env, root, calls));
        }
        switch (prop) {
          case 'query':
            return query;
          case '$fieldseal':
            return helpers;
          case '$base':
            return base;
          case 'transaction':
            return (work: (tx: unknown) => Promise<unknown>, config?: unknown) =>
              (target as any).transaction((tx: object) => work(wrap(tx, { ...env, base: tx, inTransaction: true })), config);
          case 'with':
          case '$with':
            return () => {
              throw refused(`db.${prop}() (common table expressions) is not supported through withFieldseal: use db.$base and open the rows with db.$fieldseal.openRawRows`);
            };
          case '$count':
            return (source: unknown, filters?: unknown) => {
              refuseSealed(filters, 'a $count() filter', true);
              return (target as any).$count(source, filters);
            };
        }
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as FieldsealDatabase<TDb>;
}

/**
 * Wraps a Drizzle PostgreSQL database (node-postgres, PGlite, or any `PgDatabase`) so that every
 * query path seals encrypted columns before they are written and opens them after they are read,
 * in batches, with the plaintext types the table declares:
 *
 * - `select` (partial selects, joins, `selectDistinct`), `insert … returning`, `update … returning`,
 *   `delete … returning`, `onConflictDoNothing`, and relational queries (`db.query.t.findMany({ with })`).
 * - `eq(t.encrypted, value)` in a filter becomes a beacon lookup (with the false positives
 *   dropped after opening); `isNull` / `isNotNull` pass; every other use of an encrypted column in a
 *   filter, join, `orderBy`, `groupBy`, aggregate or selected SQL expression throws `UnsupportedQueryError`.
 * - An update of sealed, id or context columns reads the rows in a transaction (`FOR UPDATE`),
 *   reseals each one (`resealRow`) and writes it back by id with its old header as a guard.
 * - `db.execute(sql…)` passes through untouched; open its rows with `db.$fieldseal.openRawRows`.
 *
 * Importable from `@fieldseal/drizzle`.
 *
 * @example
 * ```ts
 * import { drizzle } from 'drizzle-orm/pglite';
 * import { withFieldseal } from '@fieldseal/drizzle';
 * const db = withFieldseal(drizzle({ client, schema }), { keyring, beacons });
 * await db.insert(users).values({ id: 1, email: 'ada@example.com' });
 * const [ada] = await db.select().from(users).where(eq(users.email, 'ada@example.com'));
 * ```
 * @param db A Drizzle PostgreSQL database.
 * @param options The keyring (or keyrings per key group), the beacon index, limits.
 * @returns The same database, wrapped; `$base` is the bare one.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` without a keyring.
 */
export function withFieldseal<TDb extends PgDatabase<any, any, any>>(db: TDb, options: WithFieldsealOptions): FieldsealDatabase<TDb> {
  if (db === null || typeof db !== 'object' || typeof (db as { select?: unknown }).select !== 'function') throw new InvalidArgumentError('withFieldseal() takes a Drizzle database');
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('withFieldseal() options must be an object');
  if (options.keyring === undefined && options.keyrings === undefined) throw new InvalidArgumentError('withFieldseal() needs a keyring or keyrings');
  const keyrings: RowKeyrings = { ...(options.keyring !== undefined ? { keyring: options.keyring } : {}), ...(options.keyrings !== undefined ? { keyrings: options.keyrings } : {}) };
  return wrap(db, makeEnv(db, keyrings, options.limits, options.beacons, false, options.allowPlaintext === true));
}
