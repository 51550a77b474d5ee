import { Column, eq, inArray, is, or, and, SQL, sql, Table, getTableColumns, type SQLWrapper } from 'drizzle-orm';
import { InvalidArgumentError, openRows, resealRow, sealRows } from '@fieldseal/core';
import { refused } from './refused.js';
import { descriptorOf, tableColumns, tableNameOf, type TableDescriptor } from './describe.js';
import { analyzeFilter, refuseSealed } from './sql.js';
import { planResult, project } from './selection.js';
import { beaconValues, replay } from './run-select.js';
import { inTransaction, type Env } from './env.js';
import type { Call } from './builder.js';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';

/** The call that counts when a method was called more than once (`$dynamic` builders): the last. */
function lastCall(calls: readonly Call[], method: string): Call | undefined {
  for (let i = calls.length - 1; i >= 0; i--) if (calls[i]!.method === method) return calls[i];
  return undefined;
}

/** Columns the wrapper alone writes: the header and the beacon columns. */
function managed(d: TableDescriptor): Set<string> {
  return new Set([d.header, ...[...d.beacons.values()].map((b) => b.column)]);
}

/** `returning(fields?)` with the hidden columns opening needs, and how to open its rows. */
function planReturning(env: Env, table: Table, calls: Call[]): ((rows: Record<string, unknown>[]) => Promise<Record<string, unknown>[]>) | undefined {
  let i = -1;
  calls.forEach((c, n) => {
    if (c.method === 'returning') i = n;
  });
  if (i < 0) return undefined;
  const fields = (calls[i]!.args[0] as Record<string, unknown> | undefined) ?? getTableColumns(table);
  const plan = planResult(env, fields);
  calls[i] = { method: 'returning', args: [{ ...fields, ...plan.hidden }] };
  return (rows) => plan.open(rows);
}

const NUMBER_IDS = new Set(['PgSerial', 'PgSmallSerial', 'PgBigSerial53', 'PgInteger', 'PgSmallInt', 'PgBigInt53']);
const BIGINT_IDS = new Set(['PgBigSerial64', 'PgBigInt64']);

async function nextIds(env: Env, table: Table, d: TableDescriptor, rows: Record<string, unknown>[]): Promise<void> {
  const columns = tableColumns(table);
  for (const key of d.bound) {
    const column = columns[key]!;
    const waiting: Record<string, unknown>[] = [];
    for (const row of rows) {
      if (row[key] !== undefined && row[key] !== null) continue;
      // The id is bound into every ciphertext of the row, so it must be known before sealing.
      if (typeof column.defaultFn === 'function') row[key] = column.defaultFn();
      else if (d.ids.includes(key) && column.hasDefault) waiting.push(row);
    }
    if (waiting.length === 0) continue;
    // One round trip for the whole batch: the sequence hands out distinct values.
    const schema = getTableConfig(table as PgTable).schema;
    const qualified = `${schema === undefined ? '' : `"${schema.replaceAll('"', '""')}".`}"${tableNameOf(table).replaceAll('"', '""')}"`;
    const result = (await env.base.execute(sql`select nextval(pg_get_serial_sequence(${qualified}, ${column.name}))::text as id from generate_series(1, ${waiting.length}::int)`)) as { rows: { id: string | null }[] };
    if (result.rows.length !== waiting.length || result.rows.some((r) => r.id === null)) throw refused(`the id column "${column.name}" of "${d.tableName}" has a default that is not a sequence: give the id in values() or use $defaultFn`, column.name);
    waiting.forEach((row, i) => {
      const id = result.rows[i]!.id!;
      row[key] = BIGINT_IDS.has(column.columnType) ? BigInt(id) : NUMBER_IDS.has(column.columnType) ? Number(id) : id;
    });
  }
}

/** Seal plaintext rows for an insert: ids first, beacons, then one sealRows batch. */
export async function sealForInsert(env: Env, table: Table, d: TableDescriptor, values: unknown): Promise<Record<string, unknown>[]> {
  const list = (Array.isArray(values) ? values : [values]) as Record<string, unknown>[];
  const own = managed(d);
  const rows = list.map((v) => {
    if (v === null || typeof v !== 'object') throw new InvalidArgumentError('values() takes row objects');
    const row: Record<string, unknown> = { ...v };
    for (const key of Object.keys(row)) {
      if (own.has(key) && row[key] !== undefined && row[key] !== null) throw refused(`"${tableColumns(table)[key]!.name}" is written by fieldseal (header or beacon): leave it out of values()`, tableColumns(table)[key]!.name);
      if ((d.sealed.has(key) || d.bound.includes(key)) && (is(row[key], SQL) || is(row[key], Column) || is(row[key], SQL.Aliased))) throw refused(`an SQL expression for the sealed or bound column "${tableColumns(table)[key]!.name}" is refused: give a value`, tableColumns(table)[key]!.name);
      if (is(row[key], SQL)) refuseSealed(row[key], 'an SQL value');
    }
    return row;
  });
  await nextIds(env, table, d, rows);
  for (const [key, b] of d.beacons) {
    for (const row of rows) {
      const v = row[key];
      row[b.column] = v === null || v === undefined ? null : await env.beaconIndex().beacon(b.field, v as string);
    }
  }
  return sealRows(rows, d.layout, env.sealOptions());
}

export async function runInsert(env: Env, root: Call, input: readonly Call[]): Promise<unknown> {
  const table = root.args[0] as Table;
  const d = descriptorOf(table);
  if (d === undefined) return replay(env.base, [root, ...input]);
  const calls = [...input];
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!;
    if (c.method === 'values') calls[i] = { method: 'values', args: [await sealForInsert(env, table, d, c.args[0])] };
    if (c.method === 'onConflictDoUpdate') {
      const config = c.args[0] as { set?: Record<string, unknown>; where?: SQLWrapper; targetWhere?: SQLWrapper; setWhere?: SQLWrapper };
      for (const [key, value] of Object.entries(config.set ?? {})) {
        // The existing row keeps its header: a sealed, bound or managed column set here would no
        // longer match it (or would be plaintext).
        if (value !== undefined && (d.sealed.has(key) || d.bound.includes(key) || managed(d).has(key))) throw refused(`onConflictDoUpdate() setting the sealed, bound or managed column "${tableColumns(table)[key]?.name ?? key}" is refused: update the row through db.update() instead`, tableColumns(table)[key]?.name);
        refuseSealed(value, 'onConflictDoUpdate()');
      }
      for (const w of [config.where, config.targetWhere, config.setWhere]) refuseSealed(w, 'onConflictDoUpdate()', true);
    }
  }
  const open = planReturning(env, table, calls);
  const result = await replay(env.base, [root, ...calls]);
  return open === undefined ? result : open(result as Record<string, unknown>[]);
}

function pkCondition(table: Table, d: TableDescriptor, rows: Record<string, unknown>[]): SQL {
  const columns = tableColumns(table);
  if (d.ids.length === 1) return inArray(columns[d.ids[0]!]!, rows.map((r) => r[d.ids[0]!]));
  return or(...rows.map((r) => and(...d.ids.map((k) => eq(columns[k]!, r[k])))))!;
}

function affected(n: number): Record<string, unknown> {
  return { rows: [], rowCount: n, affectedRows: n };
}

export async function runUpdate(env: Env, root: Call, input: readonly Call[]): Promise<unknown> {
  const table = root.args[0] as Table;
  const d = descriptorOf(table);
  if (d === undefined) return replay(env.base, [root, ...input]);
  const columns = tableColumns(table);
  const calls = [...input];
  const set: Record<string, unknown> = {};
  for (const c of calls) if (c.method === 'set') Object.assign(set, c.args[0]);
  const whereCall = lastCall(calls, 'where');
  const returningCall = lastCall(calls, 'returning');
  const own = managed(d);
  let reseal = false;
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) continue;
    const name = columns[key]?.name ?? key;
    if (own.has(key)) throw refused(`"${name}" is written by fieldseal (header or beacon): leave it out of set()`, name);
    if (d.sealed.has(key) || d.bound.includes(key)) {
      if (is(value, SQL) || is(value, Column) || is(value, SQL.Aliased)) throw refused(`an SQL expression for the sealed or bound column "${name}" is refused: give a value`, name);
      reseal = true;
    } else refuseSealed(value, 'an SQL value in set()');
  }
  const analyzed = analyzeFilter(whereCall?.args[0] as SQL | undefined, 'a filter');
  if (!reseal && analyzed.beacons.length === 0) {
    const open = planReturning(env, table, calls);
    const result = await replay(env.base, [root, ...calls]);
    return open === undefined ? result : open(result as Record<string, unknown>[]);
  }
  const where = analyzed.beacons.length > 0 ? analyzed.rewrite(await beaconValues(env, analyzed)) : (whereCall?.args[0] as SQL | undefined);
  return inTransaction(env, async (tx) => {
    // Read and lock the rows, then write each one back resealed under its own id, with its old
    // header as a compare-and-swap guard: the header always lists exactly what the row holds.
    let current = (await tx.base.select().from(table).where(where).for('update')) as Record<string, unknown>[];
    current = await keepMatches(tx, d, analyzed.beacons, current);
    const plainChanges: Record<string, unknown> = {};
    const otherChanges: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(set)) {
      if (value === undefined) continue;
      if (d.sealed.has(key) || d.bound.includes(key)) plainChanges[key] = value;
      else otherChanges[key] = value;
    }
    const written: Record<string, unknown>[] = [];
    for (const row of current) {
      const next = reseal ? await resealRow(row, plainChanges, d.layout, tx.openOptions()) : row;
      const values: Record<string, unknown> = { ...otherChanges };
      if (reseal) {
        for (const key of [...d.sealed.keys(), d.header, ...Object.keys(plainChanges)]) values[key] = next[key];
        for (const [key, b] of d.beacons) {
          if (!(key in plainChanges)) continue;
          const v = plainChanges[key];
          values[b.column] = v === null ? null : await tx.beaconIndex().beacon(b.field, v as string);
        }
      }
      const guard = and(pkCondition(table, d, [row]), row[d.header] === null ? sql`${columns[d.header]!} is null` : eq(columns[d.header]!, row[d.header]));
      const out = (await tx.base.update(table).set(values).where(guard).returning()) as Record<string, unknown>[];
      if (out.length !== 1) throw refused(`a row of "${d.tableName}" changed while it was being resealed: retry the update`);
      written.push(out[0]!);
    }
    if (returningCall === undefined) return affected(written.length);
    const opened = await openRows(written, d.layout, tx.openOptions());
    return returningCall.args[0] === undefined ? opened : project(returningCall.args[0] as Record<string, unknown>, d, opened);
  });
}

/** Open rows to drop beacon false positives (a no-op without beacon lookups). */
async function keepMatches(env: Env, d: TableDescriptor, beacons: ReturnType<typeof analyzeFilter>['beacons'], rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  if (beacons.length === 0) return rows;
  for (const b of beacons) if (b.descriptor !== d) throw refused('a beacon lookup on another table in an update or delete is not supported');
  const keys = [...new Set(beacons.map((b) => b.key))];
  const opened = await openRows(rows, d.layout, env.openOptions(keys));
  return rows.filter((_, i) => beacons.every((b) => {
    const v = opened[i]![b.key];
    return typeof v === 'string' && typeof b.value === 'string' && env.beaconIndex().equals(d.beacons.get(b.key)!.field, v, b.value);
  }));
}

export async function runDelete(env: Env, root: Call, input: readonly Call[]): Promise<unknown> {
  const table = root.args[0] as Table;
  const d = descriptorOf(table);
  if (d === undefined) return replay(env.base, [root, ...input]);
  const calls = [...input];
  const whereCall = lastCall(calls, 'where');
  const returningCall = lastCall(calls, 'returning');
  const analyzed = analyzeFilter(whereCall?.args[0] as SQL | undefined, 'a filter');
  if (analyzed.beacons.length === 0) {
    const open = planReturning(env, table, calls);
    const result = await replay(env.base, [root, ...calls]);
    return open === undefined ? result : open(result as Record<string, unknown>[]);
  }
  const where = analyzed.rewrite(await beaconValues(env, analyzed));
  return inTransaction(env, async (tx) => {
    // A beacon matches other values too: delete only the rows whose opened value matches.
    const candidates = (await tx.base.select().from(table).where(where).for('update')) as Record<string, unknown>[];
    const matches = await keepMatches(tx, d, analyzed.beacons, candidates);
    if (matches.length === 0) return returningCall === undefined ? affected(0) : [];
    const deleted = (await tx.base.delete(table).where(pkCondition(table, d, matches)).returning()) as Record<string, unknown>[];
    if (returningCall === undefined) return affected(deleted.length);
    const opened = await openRows(deleted, d.layout, tx.openOptions());
    return returningCall.args[0] === undefined ? opened : project(returningCall.args[0] as Record<string, unknown>, d, opened);
  });
}

