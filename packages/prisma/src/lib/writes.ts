import { resealRow, sealRow, UnsupportedQueryError, type OpenRowOptions, type SealRowOptions } from '@fieldseal/core';
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
  readonly open: OpenRowOptions;
}

/**
 * The parent of a nested write, known when the write is the data of a top-level update or upsert:
 * a nested update of a sealed field reads the related row through it (in the same transaction).
 */
export interface ParentRef {
  readonly model: string;
  readonly where: Obj;
  /** Runs a findMany on the client below the extension, in the hooked call's transaction. */
  readonly findMany: (model: string, args: Obj) => Promise<unknown>;
}

function refuse(model: string, field: string | undefined, operation: string, why: string): never {
  throw new UnsupportedQueryError(`@fieldseal/prisma: ${operation} on ${field === undefined ? model : `${model}.${field}`} is refused: ${why}`, { model, ...(field !== undefined ? { field } : {}), operation });
}

/** The error of an update whose row does not exist, shaped like Prisma's (`code` P2025). */
export function notFound(model: string, operation: string): Error {
  const err = new Error(`@fieldseal/prisma: no ${model} record was found for ${operation}`) as Error & { code: string };
  err.code = 'P2025';
  return err;
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
export async function nestedWrites(ctx: WriteContext, model: string, data: Obj, operation: string, parent?: ParentRef): Promise<Obj> {
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
            const where = x.where !== undefined ? await rewriteWhere(ctx.plan, target, x.where, op, undefined) : undefined;
            const create = await sealCreate(ctx, target, x.create, op);
            const sealedUpdate = await resealRelated(ctx, parent, model, key, target, where as Obj | undefined, x.update, op, true);
            if (sealedUpdate !== undefined) return { ...x, create, update: sealedUpdate.data, where: sealedUpdate.where };
            const r: Obj = { ...x, create, update: await nestedUpdate(ctx, target, x.update, op) };
            if (where !== undefined) r.where = where;
            return r;
          });
          break;
        case 'update':
          next[kind] = await each(v, async (x) => {
            const wrapped = isObject(x) && 'data' in x && Object.keys(x).every((k) => k === 'data' || k === 'where');
            const where = wrapped && (x as Obj).where !== undefined ? await rewriteWhere(ctx.plan, target, (x as Obj).where, op, undefined) : undefined;
            const sealedUpdate = await resealRelated(ctx, parent, model, key, target, where as Obj | undefined, wrapped ? (x as Obj).data : x, op);
            if (sealedUpdate !== undefined) return sealedUpdate;
            if (wrapped) {
              const r: Obj = { ...(x as Obj), data: await nestedUpdate(ctx, target, (x as Obj).data, op) };
              if (where !== undefined) r.where = where;
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

// Per plan (per client data model): which filter each back relation takes.
const backFilters = new WeakMap<Plan, Map<string, 'is' | 'some'>>();

/**
 * A nested update (or upsert's update branch) that changes a sealed or bound field of the related
 * row, below a top-level update: reads that row through the parent (in the same transaction),
 * reseals it with the changes and guards the write with compare-and-swap on its header. Returns
 * undefined when there is nothing to reseal; refuses when the parent is not known.
 */
async function resealRelated(ctx: WriteContext, parent: ParentRef | undefined, model: string, relation: string, target: string, where: Obj | undefined, data: unknown, operation: string, upsert = false): Promise<{ where: Obj; data: Obj } | undefined> {
  const m = ctx.plan.models.get(target);
  if (m === undefined || !isObject(data) || !touchesSealed(m, data)) return undefined;
  checkManaged(m, data, operation);
  if (parent === undefined || parent.model !== model) refuse(target, undefined, operation, 'a nested update can change encrypted, id or context fields only directly below a top-level update or upsert: update the related row with a top-level update');
  const fields = ctx.plan.dataModel.models[model]!.fields.find((f) => f.name === relation)!;
  const back = ctx.plan.dataModel.models[target]!.fields.find((f) => f.kind === 'object' && f.relationName === fields.relationName && f.type === model && (target !== model || f.name !== relation));
  if (back === undefined) refuse(target, undefined, operation, 'the relation has no back relation field to find the related row by');
  const changes = plainChanges(m, data, operation);
  const rest = await nestedWrites(ctx, target, data, operation);
  const select = Object.fromEntries([...m.fields.keys(), m.header, ...m.bound].map((f) => [f, true]));
  // The runtime data model does not say whether the back relation is a list: `is` for a to-one
  // back relation, `some` for a list (many-to-many); Prisma refuses the wrong one before any query.
  const read = (filter: 'is' | 'some') => parent.findMany(target, { where: { AND: [where ?? {}, { [back.name]: { [filter]: parent.where } }] }, select, take: 2 }) as Promise<Obj[]>;
  let backFilter = backFilters.get(ctx.plan);
  if (backFilter === undefined) backFilters.set(ctx.plan, (backFilter = new Map()));
  const known = backFilter.get(`${target}.${back.name}`);
  let found: Obj[];
  if (known !== undefined) found = await read(known);
  else {
    try {
      found = await read('is');
      backFilter.set(`${target}.${back.name}`, 'is');
    } catch (err) {
      if ((err as { name?: unknown }).name !== 'PrismaClientValidationError') throw err;
      found = await read('some');
      backFilter.set(`${target}.${back.name}`, 'some');
    }
  }
  if (found.length > 1) refuse(target, undefined, operation, 'the nested update matches more than one related row');
  const current = found[0];
  const next: Obj = { ...rest };
  let guard: Obj;
  if (current === undefined) {
    if (!upsert) throw notFound(target, operation);
    // Nothing to update: the upsert creates; the guard keeps the unsealed changes from ever being
    // written to a row that appears meanwhile.
    for (const f of Object.keys(changes)) delete next[f];
    guard = { [m.header]: '' };
  } else {
    const sealed = await resealRow(current, changes, m.layout, ctx.open);
    for (const f of [...m.fields.keys(), m.header, ...Object.keys(changes)]) next[f] = sealed[f];
    Object.assign(next, await beaconsOf(ctx, m, changes));
    guard = { [m.header]: current[m.header] ?? null };
  }
  return { where: where === undefined ? guard : { ...where, AND: [...(where.AND === undefined ? [] : Array.isArray(where.AND) ? where.AND : [where.AND]), guard] }, data: next };
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
