import { is, Table } from 'drizzle-orm';
import { refused } from './refused.js';
import { analyzeFilter, refuseSealed, type AnalyzedFilter } from './sql.js';
import { planResult } from './selection.js';
import type { Env } from './env.js';
import type { Call } from './builder.js';

/** Replay recorded builder calls on the bare database. */
export function replay(root: any, calls: readonly Call[]): any {
  let b = root;
  for (const c of calls) b = b[c.method](...c.args);
  return b;
}

function checkSource(source: unknown, what: string): void {
  if (is(source, Table)) return;
  // A subquery, view or SQL source: refuse it if it reaches into an encrypted column, since its
  // result would hold ciphertext the wrapper cannot open.
  const inner = (source as { _?: { sql?: unknown } })?._?.sql ?? source;
  refuseSealed(inner, what);
}

/** Beacons for every lookup of a filter (every beacon key, for dual reads during a beacon key rotation). */
export async function beaconValues(env: Env, analyzed: AnalyzedFilter): Promise<string[][]> {
  return Promise.all(
    analyzed.beacons.map((b) => {
      if (typeof b.value !== 'string') throw refused(`eq() on the encrypted column "${b.column.name}" takes a string (beacons hash strings)`, b.column.name);
      return env.beaconIndex().beacons(b.descriptor.beacons.get(b.key)!.field, b.value);
    }),
  );
}

export async function runSelect(env: Env, root: Call, calls: readonly Call[]): Promise<unknown[]> {
  const builder = replay(env.base, [root, ...calls]);
  const config = builder.config as Record<string, any>;
  checkSource(config.table, 'a select from a subquery');
  for (const join of (config.joins ?? []) as { table: unknown; on: unknown }[]) {
    checkSource(join.table, 'a join of a subquery');
    refuseSealed(join.on, 'a join condition', true);
  }
  refuseSealed(config.having, 'having()', true);
  refuseSealed(config.groupBy, 'groupBy()');
  refuseSealed(config.orderBy, 'orderBy()');
  refuseSealed(config.distinct?.on, 'selectDistinctOn()');
  const analyzed = analyzeFilter(config.where, 'a filter');
  const plan = planResult(env, config.fields, analyzed.beacons);
  let limit: number | undefined;
  let offset: number | undefined;
  if (analyzed.beacons.length > 0) {
    config.where = analyzed.rewrite(await beaconValues(env, analyzed));
    // A beacon also matches other values: the false positives are dropped after opening, so the
    // limit and offset apply to the rows that are left.
    limit = typeof config.limit === 'number' ? config.limit : undefined;
    offset = typeof config.offset === 'number' ? config.offset : undefined;
    if (config.limit !== undefined && limit === undefined) throw refused('a placeholder limit() with a beacon lookup is not supported');
    if (config.offset !== undefined && offset === undefined) throw refused('a placeholder offset() with a beacon lookup is not supported');
    config.limit = undefined;
    config.offset = undefined;
  }
  if (Object.keys(plan.hidden).length > 0) config.fields = { ...config.fields, ...plan.hidden };
  const rows = (await builder.execute()) as Record<string, unknown>[];
  const opened = await plan.open(rows);
  if (limit === undefined && offset === undefined) return opened;
  const start = offset ?? 0;
  return opened.slice(start, limit === undefined ? undefined : start + limit);
}
