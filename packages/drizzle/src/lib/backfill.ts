import { and, asc, eq, gt, isNotNull, isNull, or, sql, type Column, type SQL, type Table } from 'drizzle-orm';
import { InvalidArgumentError, openRows } from '@fieldseal/core';
import { descriptorOf, tableColumns } from './describe.js';
import type { Env } from './env.js';

/**
 * Write the missing beacons of a table: rows whose sealed value has no beacon yet (sealed by the
 * CLI, or written before the beacon column existed). Keyset batches on the id; each row is
 * written with its header as a compare-and-swap guard.
 */
export async function backfillBeacons(env: Env, table: Table, batchSize: number): Promise<number> {
  const d = descriptorOf(table);
  if (d === undefined || d.beacons.size === 0) throw new InvalidArgumentError('backfillBeacons() takes a table with beacon columns');
  if (d.ids.length !== 1) throw new InvalidArgumentError('backfillBeacons() needs a table with a one-column id');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError('batchSize must be a positive integer');
  const columns = tableColumns(table);
  const id = columns[d.ids[0]!]!;
  const missing = or(...[...d.beacons].map(([key, b]) => and(isNotNull(columns[key]!), isNull(columns[b.column]!))))!;
  let written = 0;
  let after: unknown;
  for (;;) {
    const where: SQL = after === undefined ? missing : and(missing, gt(id, after))!;
    const rows = (await env.base.select().from(table).where(where).orderBy(asc(id)).limit(batchSize)) as Record<string, unknown>[];
    if (rows.length === 0) return written;
    const opened = await openRows(rows, d.layout, env.openOptions([...d.beacons.keys()]));
    for (let i = 0; i < rows.length; i++) {
      const set: Record<string, unknown> = {};
      for (const [key, b] of d.beacons) {
        const v = opened[i]![key];
        set[b.column] = v === null || v === undefined ? null : await env.beaconIndex().beacon(b.field, v as string);
      }
      const header = columns[d.header]! as Column;
      const guard = and(eq(id, rows[i]![d.ids[0]!]), rows[i]![d.header] === null ? sql`${header} is null` : eq(header, rows[i]![d.header]));
      const out = (await env.base.update(table).set(set).where(guard).returning({ id })) as unknown[];
      written += out.length;
    }
    after = rows[rows.length - 1]![d.ids[0]!];
  }
}
