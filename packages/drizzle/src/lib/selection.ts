import { Column, is, SQL, Subquery, Table } from 'drizzle-orm';
import { openRows } from '@fieldseal/core';
import { refused } from './refused.js';
import { descriptorOf, tableColumns, type TableDescriptor } from './describe.js';
import { refuseSealed, tableOfColumn, type BeaconFilter } from './sql.js';
import type { Env } from './env.js';

export interface Leaf {
  readonly path: readonly string[];
  readonly field: unknown;
}

/** The leaves of a Drizzle selection, in Drizzle's order (tables expand to their columns). */
export function leavesOf(fields: Record<string, unknown>, prefix: readonly string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const path = [...prefix, name];
    if (is(field, Column) || is(field, SQL) || is(field, SQL.Aliased) || is(field, Subquery)) out.push({ path, field });
    else if (is(field, Table)) out.push(...leavesOf(tableColumns(field as Table), path));
    else if (field !== null && typeof field === 'object') out.push(...leavesOf(field as Record<string, unknown>, path));
  }
  return out;
}

/** One table instance (a table or an alias) whose sealed columns a result holds. */
interface Group {
  readonly name: string;
  readonly descriptor: TableDescriptor;
  /** The table object as the query references it (alias-aware), to add hidden columns from. */
  readonly table: Table;
  /** TS key to the path of its value in each result row. */
  readonly paths: Map<string, readonly string[]>;
  /** Sealed TS keys to open. */
  readonly open: Set<string>;
  readonly filters: BeaconFilter[];
}

/** How a result shape maps back to rows of sealed tables: built from the selection, used after the query. */
export interface ResultPlan {
  /** Hidden members added to the selection (header, id and context columns not selected). */
  readonly hidden: Record<string, Column>;
  open(rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
}

const HIDDEN = '__fieldseal$';

/**
 * Plan how to open a result: which leaves hold sealed columns of which table instance, and which
 * header, id, context (and beacon-filtered) columns must be selected too.
 */
export function planResult(env: Env, fields: Record<string, unknown>, filters: readonly BeaconFilter[] = []): ResultPlan {
  const groups = new Map<string, Group>();
  const groupOf = (column: Column): Group | undefined => {
    const descriptor = descriptorOf(column.table);
    if (descriptor === undefined) return undefined;
    const name = tableOfColumn(column);
    let g = groups.get(name);
    if (g === undefined) {
      g = { name, descriptor, table: column.table as Table, paths: new Map(), open: new Set(), filters: [] };
      groups.set(name, g);
    }
    return g;
  };
  for (const { path, field } of leavesOf(fields)) {
    if (!is(field, Column)) {
      refuseSealed(field, 'a selected SQL expression');
      continue;
    }
    const g = groupOf(field as Column);
    if (g === undefined) continue;
    const key = g.descriptor.keyOfName.get((field as Column).name);
    if (key === undefined) continue;
    if (!g.paths.has(key)) g.paths.set(key, path);
    if (g.descriptor.sealed.has(key)) g.open.add(key);
  }
  for (const f of filters) {
    const g = groupOf(f.column)!;
    g.filters.push(f);
    g.open.add(f.key);
  }
  const hidden: Record<string, Column> = {};
  let n = 0;
  for (const g of groups.values()) {
    if (g.open.size === 0) continue;
    const columns = g.table as unknown as Record<string, Column>;
    for (const key of [g.descriptor.header, ...g.descriptor.bound, ...g.open]) {
      if (g.paths.has(key)) continue;
      const member = `${HIDDEN}${n++}`;
      hidden[member] = columns[key]!;
      g.paths.set(key, [member]);
    }
  }
  return {
    hidden,
    async open(rows) {
      for (const g of groups.values()) {
        if (g.open.size === 0) continue;
        const entries = [...g.paths];
        const items: Record<string, unknown>[] = [];
        const owners: Record<string, unknown>[] = [];
        for (const row of rows) {
          const item: Record<string, unknown> = {};
          let absent = false;
          for (const [key, path] of entries) {
            let node: unknown = row;
            for (const p of path) {
              // A left join without a match: Drizzle set the table's whole object to null.
              if (node === null || typeof node !== 'object') {
                absent = true;
                break;
              }
              node = (node as Record<string, unknown>)[p];
            }
            item[key] = node;
          }
          if (absent) continue;
          items.push(item);
          owners.push(row);
        }
        const opened = await openRows(items, g.descriptor.layout, env.openOptions([...g.open], g.descriptor.layout));
        const dropped = new Set<Record<string, unknown>>();
        opened.forEach((o, i) => {
          const row = owners[i]!;
          for (const f of g.filters) {
            const value = o[f.key];
            const b = g.descriptor.beacons.get(f.key)!;
            // A beacon matches many values: drop the rows whose opened value is another one.
            if (typeof value !== 'string' || typeof f.value !== 'string' || !env.beaconIndex().equals(b.field, value, f.value)) dropped.add(row);
          }
          for (const key of g.open) {
            const path = g.paths.get(key)!;
            let node = row as Record<string, unknown>;
            for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
            node[path[path.length - 1]!] = o[key];
          }
        });
        if (dropped.size > 0) rows = rows.filter((r) => !dropped.has(r));
      }
      for (const row of rows) for (const member of Object.keys(hidden)) delete row[member];
      return rows;
    },
  };
}

/** Project opened full rows (TS keys) onto a returning() selection of columns of the same table. */
export function project(fields: Record<string, unknown>, descriptor: TableDescriptor, rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const leaves = leavesOf(fields);
  const keys = leaves.map(({ field }) => {
    if (!is(field, Column)) throw refused('returning() an SQL expression is not supported on a write that reseals rows: return columns');
    const key = descriptor.keyOfName.get((field as Column).name);
    if (key === undefined) throw refused('returning() a column of another table is not supported on a write that reseals rows');
    return key;
  });
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    leaves.forEach(({ path }, i) => {
      let node = out;
      for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
      node[path[path.length - 1]!] = row[keys[i]!];
    });
    return out;
  });
}
