import { UnsupportedQueryError } from '@fieldseal/core';
import { relationTarget, type Plan } from './config.js';

/** An equality that a beacon lookup stands for: rows are checked against it once opened. */
export interface Equality {
  readonly field: string;
  readonly beaconName: string;
  readonly value: string;
}

const RELATION_FILTERS = new Set(['some', 'every', 'none', 'is', 'isNot']);

type Obj = Record<string, unknown>;
/** Sets an own member, so that a `__proto__` key from parsed JSON stays data (and Prisma rejects it) instead of becoming a prototype. */
const put = (o: Obj, key: string, value: unknown): void => void Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function refuse(model: string, field: string, operation: string, why: string): never {
  throw new UnsupportedQueryError(`@fieldseal/prisma: ${operation} on encrypted field ${model}.${field} is refused: ${why}`, { model, field, operation });
}

/**
 * Rewrites a `where` so that equality on an encrypted field becomes a lookup on its beacon field,
 * and refuses every other condition on an encrypted field. `equalities` collects the rewritten
 * conditions when beacons are allowed here (top-level conjunctions of a findMany/findFirst); when
 * it is undefined, a beacon lookup is refused too (its false positives could not be removed).
 * Returns a new object; the caller's is not modified.
 */
export async function rewriteWhere(plan: Plan, model: string, where: unknown, operation: string, equalities: Equality[] | undefined): Promise<unknown> {
  if (!plan.reaching.has(model) || !isObject(where)) return where;
  const m = plan.models.get(model);
  const out: Obj = {};
  for (const key of Object.keys(where)) {
    const value = where[key];
    if (value === undefined) continue; // Prisma ignores undefined conditions.
    if (key === 'AND') {
      put(out, key, Array.isArray(value) ? await Promise.all(value.map((v) => rewriteWhere(plan, model, v, operation, equalities))) : await rewriteWhere(plan, model, value, operation, equalities));
      continue;
    }
    if (key === 'OR' || key === 'NOT') {
      // A beacon under OR/NOT would turn its false positives into wrong answers.
      put(out, key, Array.isArray(value) ? await Promise.all(value.map((v) => rewriteWhere(plan, model, v, operation, undefined))) : await rewriteWhere(plan, model, value, operation, undefined));
      continue;
    }
    const field = m?.fields.get(key);
    if (field !== undefined) {
      const equals = value === null || typeof value === 'string' ? value : isObject(value) && Object.keys(value).every((k) => k === 'equals') ? value.equals : undefined;
      if (equals === null || (isObject(value) && Object.keys(value).length === 1 && value.not === null)) {
        put(out, key, value); // NULL stays NULL: IS [NOT] NULL needs no key.
        continue;
      }
      if (typeof equals !== 'string') refuse(model, key, `filter ${operation}`, 'only equality (through a beacon) and null checks can be evaluated on ciphertext');
      if (field.beacon === undefined) refuse(model, key, `filter ${operation}`, 'the field has no beacon configured');
      if (equalities === undefined) refuse(model, key, `filter ${operation}`, 'a beacon lookup is allowed only in the top-level where of findMany/findFirst, where its false positives are removed after decryption');
      if (Object.prototype.hasOwnProperty.call(out, field.beacon.field) || Object.prototype.hasOwnProperty.call(where, field.beacon.field)) refuse(model, key, `filter ${operation}`, 'the where also filters its beacon field');
      put(out, field.beacon.field, await plan.beacons!.beacon(field.beacon.name, equals));
      equalities.push({ field: key, beaconName: field.beacon.name, value: equals });
      continue;
    }
    const target = relationTarget(plan.dataModel, model, key);
    if (target !== undefined && plan.reaching.has(target) && isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length > 0 && keys.every((k) => RELATION_FILTERS.has(k))) {
        const sub: Obj = {};
        for (const k of keys) put(sub, k, await rewriteWhere(plan, target, value[k], operation, undefined));
        put(out, key, sub);
      } else {
        put(out, key, await rewriteWhere(plan, target, value, operation, undefined));
      }
      continue;
    }
    put(out, key, value);
  }
  return out;
}

/** Refuses ordering by an encrypted field (at any relation depth). */
export function checkOrderBy(plan: Plan, model: string, orderBy: unknown): void {
  if (orderBy === undefined || !plan.reaching.has(model)) return;
  for (const entry of Array.isArray(orderBy) ? orderBy : [orderBy]) {
    if (!isObject(entry)) continue;
    for (const key of Object.keys(entry)) {
      if (entry[key] === undefined) continue;
      if (plan.models.get(model)?.fields.has(key)) refuse(model, key, 'orderBy', 'ciphertext has no order');
      if (key === '_relevance') {
        const fields = (entry[key] as Obj | undefined)?.fields;
        for (const f of Array.isArray(fields) ? fields : [fields]) if (typeof f === 'string' && plan.models.get(model)?.fields.has(f)) refuse(model, f, 'orderBy _relevance', 'ciphertext cannot be searched');
      }
      const target = relationTarget(plan.dataModel, model, key);
      if (target !== undefined) checkOrderBy(plan, target, entry[key]);
    }
  }
}

/** Refuses a cursor or `distinct` on an encrypted field. */
export function checkCursorDistinct(plan: Plan, model: string, args: Obj): void {
  const m = plan.models.get(model);
  if (m === undefined) return;
  if (isObject(args.cursor)) for (const key of Object.keys(args.cursor)) if (m.fields.has(key)) refuse(model, key, 'cursor', 'a cursor compares values');
  const distinct = args.distinct;
  for (const d of Array.isArray(distinct) ? distinct : [distinct]) if (typeof d === 'string' && m.fields.has(d)) refuse(model, d, 'distinct', 'equal values have different ciphertexts');
}

/** Refuses aggregates over encrypted fields (`_min`, `_max`, `_avg`, `_sum`, groupBy `by` and `having`). */
export function checkAggregate(plan: Plan, model: string, operation: string, args: Obj): void {
  const m = plan.models.get(model);
  if (m === undefined) return;
  for (const agg of ['_min', '_max', '_avg', '_sum']) {
    const sel = args[agg];
    if (isObject(sel)) for (const key of Object.keys(sel)) if (m.fields.has(key) && sel[key]) refuse(model, key, `${operation} ${agg}`, 'ciphertext has no order or value');
  }
  const by = args.by;
  for (const b of Array.isArray(by) ? by : [by]) if (typeof b === 'string' && m.fields.has(b)) refuse(model, b, 'groupBy', 'equal values have different ciphertexts');
  if (isObject(args.having)) for (const key of Object.keys(args.having)) if (m.fields.has(key)) refuse(model, key, 'groupBy having', 'ciphertext cannot be compared');
}

/** Whether an opened row satisfies every equality a beacon lookup stood for (removes false positives). */
export function satisfies(plan: Plan, row: Obj, equalities: readonly Equality[]): boolean {
  for (const e of equalities) {
    const v = row[e.field];
    if (typeof v !== 'string' || !plan.beacons!.equals(e.beaconName, v, e.value)) return false;
  }
  return true;
}
