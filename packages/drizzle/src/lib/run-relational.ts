import { getOperators, getOrderByOperators, getTableUniqueName, sql, type Column, type SQL, type Table } from 'drizzle-orm';
import { openRows } from '@fieldseal/core';
import { refused } from './refused.js';
import { descriptorOf, type TableDescriptor } from './describe.js';
import { analyzeFilter, refuseSealed, type BeaconFilter } from './sql.js';
import { beaconValues } from './run-select.js';
import type { Env } from './env.js';

type Config = Record<string, any>;

interface TableConfig {
  readonly tsName: string;
  readonly columns: Record<string, Column>;
  readonly relations: Record<string, { referencedTable: Table }>;
}

/** How to open one level of a relational result. */
interface Node {
  readonly descriptor: TableDescriptor | undefined;
  readonly open: readonly string[];
  /** Members added for opening, removed afterwards. */
  readonly hidden: readonly string[];
  readonly filters: readonly BeaconFilter[];
  readonly children: readonly { readonly name: string; readonly node: Node }[];
}

interface Schema {
  readonly schema: Record<string, TableConfig>;
  readonly fullSchema: Record<string, unknown>;
  readonly tableNamesMap: Record<string, string>;
}

function evaluate(value: unknown, fields: Record<string, Column>, operators: unknown): unknown {
  return typeof value === 'function' ? value(fields, operators) : value;
}

async function prepare(env: Env, s: Schema, tsName: string, input: Config | true, top: boolean): Promise<{ config: Config | true; node: Node }> {
  const tc = s.schema[tsName]!;
  const d = descriptorOf(s.fullSchema[tsName]);
  const config: Config = input === true ? {} : { ...input };
  const fields = tc.columns;
  // Filters, orderings and extras are evaluated here once, against the table's own columns, to check them.
  const where = evaluate(config.where, fields, getOperators()) as SQL | undefined;
  const analyzed = analyzeFilter(where, top ? 'a filter' : 'a filter of a nested relation', top);
  refuseSealed(evaluate(config.orderBy, fields, getOrderByOperators()), 'orderBy');
  const extras = evaluate(config.extras, fields, { sql });
  if (extras !== undefined) for (const e of Object.values(extras as object)) refuseSealed(e, 'an extra');
  if (analyzed.beacons.length > 0) {
    const values = await beaconValues(env, analyzed);
    const userWhere = config.where;
    // Drizzle passes the aliased columns of this level: rewrite on them, the lookups in the same order.
    config.where = (aliased: Record<string, Column>, operators: unknown) => analyzeFilter(evaluate(userWhere, aliased, operators) as SQL, 'a filter').rewrite(values);
  }
  const hidden: string[] = [];
  let open: string[] = [];
  if (d !== undefined) {
    const columns = config.columns as Record<string, boolean | undefined> | undefined;
    const inclusion = columns !== undefined && Object.values(columns).some((v) => v === true);
    const selected = (key: string): boolean => (columns === undefined ? true : inclusion ? columns[key] === true : columns[key] !== false);
    open = [...d.sealed.keys()].filter(selected);
    for (const f of analyzed.beacons) if (!open.includes(f.key)) open.push(f.key);
    if (open.length > 0 && columns !== undefined) {
      const next = { ...columns };
      for (const key of [d.header, ...d.bound, ...open]) {
        if (selected(key)) continue;
        hidden.push(key);
        if (inclusion) next[key] = true;
        else delete next[key];
      }
      config.columns = next;
    }
  }
  const children: { name: string; node: Node }[] = [];
  if (config.with !== undefined) {
    const withs: Config = {};
    for (const [name, value] of Object.entries(config.with as Config)) {
      if (value === undefined || value === false) continue;
      const relation = tc.relations[name];
      if (relation === undefined) throw refused(`unknown relation "${name.slice(0, 64)}" of "${tsName}"`);
      const child = await prepare(env, s, s.tableNamesMap[getTableUniqueName(relation.referencedTable)]!, value as Config | true, false);
      withs[name] = child.config;
      children.push({ name, node: child.node });
    }
    config.with = withs;
  }
  return { config, node: { descriptor: d, open, hidden, filters: analyzed.beacons, children } };
}

/** Collect every object of a result level by node, for one openRows batch per node. */
function collect(node: Node, objects: readonly Record<string, unknown>[], batches: Map<Node, Record<string, unknown>[]>): void {
  const list = batches.get(node) ?? [];
  list.push(...objects);
  batches.set(node, list);
  for (const { name, node: child } of node.children) {
    const nested: Record<string, unknown>[] = [];
    for (const o of objects) {
      const v = o[name];
      if (Array.isArray(v)) nested.push(...(v as Record<string, unknown>[]));
      else if (v !== null && typeof v === 'object') nested.push(v as Record<string, unknown>);
    }
    collect(child, nested, batches);
  }
}

export async function runRelational(env: Env, tsName: string, mode: 'many' | 'first', input: Config | undefined): Promise<unknown> {
  const base = env.base;
  const s: Schema = { schema: base._.schema, fullSchema: base._.fullSchema, tableNamesMap: base._.tableNamesMap };
  const { config, node } = await prepare(env, s, tsName, input ?? {}, true);
  const top = config as Config;
  let limit: number | undefined = mode === 'first' ? 1 : top.limit;
  let offset: number | undefined = top.offset;
  if (node.filters.length > 0) {
    // A beacon also matches other values: drop the false positives first, then apply limit and offset.
    if ((top.limit !== undefined && typeof top.limit !== 'number') || (top.offset !== undefined && typeof top.offset !== 'number')) throw refused('a placeholder limit or offset with a beacon lookup is not supported');
    delete top.limit;
    delete top.offset;
  } else if (mode === 'first') top.limit = 1;
  if (node.filters.length === 0) limit = offset = undefined;
  let rows = (await base.query[tsName].findMany(top)) as Record<string, unknown>[];
  const batches = new Map<Node, Record<string, unknown>[]>();
  collect(node, rows, batches);
  const dropped = new Set<Record<string, unknown>>();
  for (const [n, objects] of batches) {
    if (n.descriptor === undefined || n.open.length === 0 || objects.length === 0) continue;
    const opened = await openRows(objects, n.descriptor.layout, env.openOptions(n.open, n.descriptor.layout));
    opened.forEach((o, i) => {
      const target = objects[i]!;
      for (const f of n.filters) {
        const v = o[f.key];
        if (typeof v !== 'string' || typeof f.value !== 'string' || !env.beaconIndex().equals(n.descriptor!.beacons.get(f.key)!.field, v, f.value)) dropped.add(target);
      }
      for (const key of n.open) target[key] = o[key];
      for (const key of n.hidden) delete target[key];
    });
  }
  if (dropped.size > 0) rows = rows.filter((r) => !dropped.has(r));
  if (limit !== undefined || offset !== undefined) rows = rows.slice(offset ?? 0, limit === undefined ? undefined : (offset ?? 0) + limit);
  return mode === 'first' ? rows[0] : rows;
}

