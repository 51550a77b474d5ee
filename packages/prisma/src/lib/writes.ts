import { sealRow, UnsupportedQueryError, type SealRowOptions } from '@fieldseal/core';
import { relationTarget, type ModelPlan, type Plan } from './config.js';
import { rewriteWhere } from './filters.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** An operation object such as `{ set: … }` (a Date, bytes or a JSON value's class instance is a value). */
const isOperation = (v: unknown): v is Obj => isObject(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
const each = <T>(v: unknown, f: (x: unknown) => Promise<T>): Promise<T | T[]> => (Array.isArray(v) ? Promise.all(v.map(f)) : f(v));

/** What sealing needs besides the plan. */
export interface WriteContext {
  readonly plan: Plan;
  readonly seal: SealRowOptions;
}

function refuse(model: string, field: string | undefined, operation: string, why: string): never {
  throw new UnsupportedQueryError(`@fieldseal/prisma: ${operation} on ${field === undefined ? model : `${model}.${field}`} is refused: ${why}`, { model, ...(field !== undefined ? { field } : {}), operation });
}

/** Refuses writes to the fields the extension manages (header, beacons). */
export function checkManaged(m: ModelPlan | undefined, data: Obj, operation: string): void {
  if (m === undefined) return;
  for (const f of m.managed) if (Object.prototype.hasOwnProperty.call(data, f) && data[f] !== undefined) refuse(m.model, f, operation, 'the header and beacon fields are written by fieldseal only');
}

/** Beacons of the encrypted values a write sets (null for a value set to null). */
async function beaconsOf(ctx: WriteContext, m: ModelPlan, values: Obj): Promise<Obj> {
  const out: Obj = {};
  for (const [name, f] of m.fields) {
    if (f.beacon === undefined || !Object.prototype.hasOwnProperty.call(values, name) || values[name] === undefined) continue;
    const v = values[name];
    if (v === null) out[f.beacon.field] = null;
    else if (typeof v === 'string') out[f.beacon.field] = await ctx.plan.beacons!.beacon(f.beacon.name, v);
    else refuse(m.model, name, 'beacon', 'only string values have beacons');
  }
  return out;
}

/**
 * Seals the data of a create (top level, nested, createMany item): nested relation writes first,
 * then the row itself with its id (generated when configured) and context fields. Returns a new
 * data object; the caller's is not modified.
 */
export async function sealCreate(ctx: WriteContext, model: string, data: unknown, operation: string): Promise<unknown> {
  if (!isObject(data) || !ctx.plan.reaching.has(model)) return data;
  const m = ctx.plan.models.get(model);
  checkManaged(m, data, operation);
  const out = await nestedWrites(ctx, model, data, operation);
  if (m === undefined) return out;
  const hasValue = [...m.fields.keys()].some((f) => out[f] !== undefined && out[f] !== null);
  if (!hasValue) return out;
  for (const f of m.fields.keys()) if (isOperation(out[f]) && m.fields.get(f)!.codec === 'string') refuse(model, f, operation, 'an encrypted field takes a plain value');
  for (const id of m.ids) {
    if (out[id] === undefined || out[id] === null) {
      if (m.generateId === undefined) refuse(model, id, operation, 'the id is bound to the ciphertext and must be known before sealing: give it, or configure generateId');
      out[id] = m.generateId();
    }
  }
  for (const f of m.bound) if (isOperation(out[f])) refuse(model, f, operation, 'a bound (id or context) field takes a plain value');
  const sealed = await sealRow(out, m.layout, ctx.seal);
  Object.assign(sealed, await beaconsOf(ctx, m, out));
  return sealed;
}

/** Handles the nested relation writes inside `data` of `model`. */
export async function nestedWrites(ctx: WriteContext, model: string, data: Obj, operation: string): Promise<Obj> {
  const out: Obj = { ...data };
  for (const key of Object.keys(data)) {
    const target = relationTarget(ctx.plan.dataModel, model, key);
    if (target === undefined || !ctx.plan.reaching.has(target) || !isObject(data[key])) continue;
    const ops = data[key] as Obj;
    const next: Obj = {};
    const op = `nested ${key} of ${operation}`;
    for (const kind of Object.keys(ops)) {
      const v = ops[kind];
      switch (kind) {
        case 'create':
          next[kind] = await each(v, (x) => sealCreate(ctx, target, x, op));
          break;
        case 'createMany':
          next[kind] = isObject(v) ? { ...v, data: await each(v.data, (x) => sealCreate(ctx, target, x, op)) } : v;
          break;
        case 'connectOrCreate':
          next[kind] = await each(v, async (x) => (isObject(x) ? { ...x, where: await rewriteWhere(ctx.plan, target, x.where, op, undefined), create: await sealCreate(ctx, target, x.create, op) } : x));
          break;
        case 'upsert':
          next[kind] = await each(v, async (x) => {
            if (!isObject(x)) return x;
            const r: Obj = { ...x, create: await sealCreate(ctx, target, x.create, op), update: await nestedUpdate(ctx, target, x.update, op) };
            if (x.where !== undefined) r.where = await rewriteWhere(ctx.plan, target, x.where, op, undefined);
            return r;
          });
          break;
        case 'update':
          next[kind] = await each(v, async (x) => {
            if (isObject(x) && 'data' in x && Object.keys(x).every((k) => k === 'data' || k === 'where')) {
              const r: Obj = { ...x, data: await nestedUpdate(ctx, target, x.data, op) };
              if (x.where !== undefined) r.where = await rewriteWhere(ctx.plan, target, x.where, op, undefined);
              return r;
            }
            return nestedUpdate(ctx, target, x, op);
          });
          break;
        case 'updateMany':
          next[kind] = await each(v, async (x) => (isObject(x) ? { ...x, where: await rewriteWhere(ctx.plan, target, x.where, op, undefined), data: await nestedUpdate(ctx, target, x.data, op) } : x));
          break;
        case 'connect':
        case 'disconnect':
        case 'set':
        case 'delete':
        case 'deleteMany':
          next[kind] = typeof v === 'boolean' ? v : await each(v, (x) => rewriteWhere(ctx.plan, target, x, op, undefined));
          break;
        default:
          refuse(target, undefined, op, `unknown nested write "${kind}"`);
      }
    }
    out[key] = next;
  }
  return out;
}

/** Whether an update's data changes an encrypted field or a field bound to the ciphertexts. */
export function touchesSealed(m: ModelPlan | undefined, data: Obj): boolean {
  if (m === undefined) return false;
  for (const f of m.fields.keys()) if (data[f] !== undefined) return true;
  for (const f of m.bound) if (data[f] !== undefined) return true;
  return false;
}

/**
 * A nested update cannot read the related row first, so it may not change an encrypted or bound
 * field of it (that needs the row's other ciphertexts resealed): refused; other changes pass.
 */
async function nestedUpdate(ctx: WriteContext, model: string, data: unknown, operation: string): Promise<unknown> {
  if (!isObject(data) || !ctx.plan.reaching.has(model)) return data;
  const m = ctx.plan.models.get(model);
  checkManaged(m, data, operation);
  if (touchesSealed(m, data)) refuse(model, undefined, operation, 'a nested update cannot change encrypted, id or context fields: update the related row with a top-level update');
  return nestedWrites(ctx, model, data, operation);
}

/**
 * The plaintext changes of an update to pass to `resealRow`: encrypted fields and bound fields,
 * each a plain value or `{ set: value }`; anything else is refused.
 */
export function plainChanges(m: ModelPlan, data: Obj, operation: string): Obj {
  const changes: Obj = {};
  for (const f of [...m.fields.keys(), ...m.bound]) {
    if (data[f] === undefined) continue;
    let v: unknown = data[f];
    if (isOperation(v) && (m.fields.get(f)?.codec !== 'json' || (Object.keys(v).length === 1 && 'set' in v))) {
      if (Object.keys(v).length !== 1 || !('set' in v)) refuse(m.model, f, operation, 'only plain values or { set } can change an encrypted or bound field');
      v = v.set;
    }
    changes[f] = v;
  }
  return changes;
}

/** Beacons for the changed encrypted values of an update. */
export function updateBeacons(ctx: WriteContext, m: ModelPlan, changes: Obj): Promise<Obj> {
  return beaconsOf(ctx, m, changes);
}
