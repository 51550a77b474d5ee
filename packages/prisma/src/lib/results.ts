import { inspectRow, openRows, type OpenRowOptions } from '@fieldseal/core';
import { relationTarget, type Plan } from './config.js';
import { checkCursorDistinct, checkOrderBy, rewriteWhere } from './filters.js';
import type { PlaintextReport } from '../types.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** How to open the rows of one model in a result, and what to take out again afterwards. */
export interface ResultPlan {
  readonly model: string;
  /** Whether rows of this level carry encrypted fields to open. */
  readonly open: boolean;
  /** Fields added to the query so the row can be opened; removed from the result. */
  readonly strip: readonly string[];
  readonly relations: ReadonlyMap<string, ResultPlan>;
}

/**
 * Adjusts `select` / `include` / `omit` of one model (and of its relations, recursively) so that
 * every returned row with an encrypted field also brings its header, id and context fields, and
 * checks the filters of nested relation reads. Returns the new args and the plan for the result.
 * `need` lists fields the caller needs in the result (to remove beacon false positives).
 */
export async function project(plan: Plan, model: string, args: Obj, need: readonly string[] = []): Promise<{ args: Obj; result: ResultPlan }> {
  const out: Obj = { ...args };
  const relations = new Map<string, ResultPlan>();
  const strip: string[] = [];
  const m = plan.models.get(model);
  const select = isObject(args.select) ? { ...args.select } : undefined;
  const include = isObject(args.include) ? { ...args.include } : undefined;
  const omit = isObject(args.omit) ? { ...args.omit } : undefined;
  const nested = select ?? include;
  if (nested !== undefined) {
    // _count of a relation can filter it: the same refusals as any relation read.
    const count = nested._count;
    if (isObject(count) && isObject(count.select)) {
      const countSelect: Obj = { ...count.select };
      for (const rel of Object.keys(countSelect)) {
        const target = relationTarget(plan.dataModel, model, rel);
        const v = countSelect[rel];
        if (target !== undefined && isObject(v) && v.where !== undefined) countSelect[rel] = { ...v, where: await rewriteWhere(plan, target, v.where, '_count', undefined) };
      }
      nested._count = { ...count, select: countSelect };
    }
    for (const key of Object.keys(nested)) {
      const target = relationTarget(plan.dataModel, model, key);
      if (target === undefined || !plan.reaching.has(target) || !nested[key]) continue;
      const sub = isObject(nested[key]) ? (nested[key] as Obj) : {};
      const subArgs = await relationArgs(plan, target, sub);
      const p = await project(plan, target, subArgs);
      nested[key] = nested[key] === true && p.result.strip.length === 0 && Object.keys(subArgs).length === 0 ? true : p.args;
      relations.set(key, p.result);
    }
  }
  let open = false;
  if (m !== undefined) {
    // openRow needs every column the header lists, the header and the bound fields: a partial
    // select or an omit of some of them is widened here and narrowed again in the result.
    const required = [m.header, ...m.bound, ...m.fields.keys(), ...need];
    if (select !== undefined) {
      open = [...m.fields.keys()].some((f) => select[f]) || need.length > 0;
      if (open) {
        for (const f of required) {
          if (!select[f]) {
            select[f] = true;
            strip.push(f);
          }
        }
      }
    } else {
      open = omit === undefined || [...m.fields.keys()].some((f) => !omit[f]) || need.length > 0;
      if (open && omit !== undefined) {
        for (const f of required) {
          if (omit[f]) {
            delete omit[f];
            strip.push(f);
          }
        }
      }
    }
  }
  if (select !== undefined) out.select = select;
  if (include !== undefined) out.include = include;
  if (omit !== undefined) out.omit = omit;
  return { args: out, result: { model, open, strip, relations } };
}

/** The args of a relation read inside select/include: its filters are checked like a top-level read's. */
async function relationArgs(plan: Plan, model: string, args: Obj): Promise<Obj> {
  const out: Obj = { ...args };
  if (args.where !== undefined) out.where = await rewriteWhere(plan, model, args.where, 'relation read', undefined);
  checkOrderBy(plan, model, args.orderBy);
  checkCursorDistinct(plan, model, args);
  return out;
}

/**
 * Opens every row of a result tree in one batch per model (`openRows`), writes the opened values
 * back into the result objects and removes the fields that were added for opening.
 */
export async function openResult(plan: Plan, result: unknown, resultPlan: ResultPlan, options: OpenRowOptions & { onPlaintext?: (r: PlaintextReport) => void }): Promise<void> {
  const groups = new Map<string, Obj[]>();
  const visit = (value: unknown, rp: ResultPlan): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, rp);
      return;
    }
    if (!isObject(value)) return;
    if (rp.open) {
      const list = groups.get(rp.model) ?? [];
      list.push(value);
      groups.set(rp.model, list);
    }
    for (const [key, sub] of rp.relations) visit(value[key], sub);
  };
  visit(result, resultPlan);
  await Promise.all(
    [...groups].map(async ([model, rows]) => {
      const m = plan.models.get(model)!;
      if (options.allowPlaintext && options.onPlaintext !== undefined) {
        for (const row of rows) {
          const inspection = inspectRow(row, m.layout);
          if (inspection.plaintextColumns.length > 0) {
            const fields = m.layout.columns.filter((c) => inspection.plaintextColumns.includes(c.name)).map((c) => c.property);
            options.onPlaintext({ model, fields, id: Object.fromEntries(m.ids.map((i) => [i, row[i]])) });
          }
        }
      }
      const opened = await openRows(rows, m.layout, options);
      for (let i = 0; i < rows.length; i++) {
        for (const f of m.fields.keys()) if (Object.prototype.hasOwnProperty.call(rows[i], f)) rows[i]![f] = opened[i]![f];
      }
    }),
  );
  const strip = (value: unknown, rp: ResultPlan): void => {
    if (Array.isArray(value)) {
      for (const v of value) strip(v, rp);
      return;
    }
    if (!isObject(value)) return;
    for (const f of rp.strip) delete value[f];
    for (const [key, sub] of rp.relations) strip(value[key], sub);
  };
  strip(result, resultPlan);
}
