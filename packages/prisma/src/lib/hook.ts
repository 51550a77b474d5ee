import { InvalidArgumentError, resealRow, UnsupportedQueryError, type OpenRowOptions } from '@fieldseal/core';
import type { ModelPlan, Plan } from './config.js';
import { checkAggregate, checkCursorDistinct, checkOrderBy, rewriteWhere, satisfies, type Equality } from './filters.js';
import { openResult, project, type ResultPlan } from './results.js';
import { checkManaged, nestedWrites, notFound, plainChanges, sealCreate, touchesSealed, updateBeacons, type WriteContext } from './writes.js';
import { readCurrent, runDirect, type InternalParams } from './internal.js';
import type { PlaintextReport } from '../types.js';

/**
 * Rows of a `createMany` sealed at a time, as many as core's `sealRows` keeps in flight: with all of
 * them started at once, every row's intermediate keys and buffers stayed alive until the last
 * finished, and the garbage collector took a quarter of the CPU of a 1,000-row batch (issue 18).
 */
const ROWS_AT_ONCE = 64;

async function sealEach(rows: readonly unknown[], seal: (row: unknown) => Promise<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < rows.length; i += ROWS_AT_ONCE) out.push(...(await Promise.all(rows.slice(i, i + ROWS_AT_ONCE).map(seal))));
  return out;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany']);
const BEACON_READS = new Set(['findFirst', 'findFirstOrThrow', 'findMany']);
/** Attempts of an update whose compare-and-swap lost against a concurrent writer. */
const CAS_ATTEMPTS = 3;

/** What a Prisma 7 `$allOperations` hook receives. */
export interface HookParams {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
  __internalParams?: InternalParams;
}

/** The query hook: every model call of a client with the extension goes through here. */
export async function handle(plan: Plan, ctx: WriteContext, open: OpenRowOptions & { onPlaintext?: (r: PlaintextReport) => void }, client: unknown, params: HookParams): Promise<unknown> {
  const { model, operation, query } = params;
  if (model === undefined || !plan.reaching.has(model)) return query(params.args);
  const args: Obj = isObject(params.args) ? { ...params.args } : {};
  const m = plan.models.get(model);
  const dataPath = params.__internalParams?.dataPath ?? [];
  // The fluent API (`findUnique(…).posts()`) resolves to the rows at the end of dataPath.
  const finish = async (result: unknown, rp: ResultPlan): Promise<unknown> => {
    const target = dataPath.length > 0 ? findPlanAt(rp, dataPath) : rp;
    await openResult(plan, result, target, open);
    return result;
  };

  if (READS.has(operation)) {
    const equalities: Equality[] | undefined = BEACON_READS.has(operation) && dataPath.length === 0 ? [] : undefined;
    if (args.where !== undefined) args.where = await rewriteWhere(plan, model, args.where, operation, equalities);
    checkOrderBy(plan, model, args.orderBy);
    checkCursorDistinct(plan, model, args);
    if (equalities === undefined || equalities.length === 0) {
      const p = await project(plan, model, args);
      return finish(await query(p.args), p.result);
    }
    // A beacon lookup returns candidates: open them, drop false positives, then pick.
    if (args.cursor !== undefined || args.skip !== undefined || args.take !== undefined || args.distinct !== undefined) {
      throw new UnsupportedQueryError(`@fieldseal/prisma: ${model}.${operation} with a beacon lookup cannot be combined with take/skip/cursor/distinct (false positives are removed after decryption)`, { model, operation });
    }
    const p = await project(plan, model, args, equalities.map((e) => e.field));
    let rows: unknown;
    if (operation === 'findMany') rows = await query(p.args);
    else {
      // findFirst would return the first candidate only, which may be a false positive.
      if (params.__internalParams?.transaction?.kind === 'batch') throw new UnsupportedQueryError(`@fieldseal/prisma: ${model}.${operation} with a beacon lookup cannot run in a batch $transaction; use findMany or an interactive transaction`, { model, operation });
      rows = await runDirect(client, params.__internalParams, model, 'findMany', p.args);
    }
    const candidates = Array.isArray(rows) ? rows : [];
    await openResult(plan, candidates, { ...p.result, strip: [] }, open);
    const matches = candidates.filter((r) => satisfies(plan, r as Obj, equalities));
    for (const r of matches) stripRow(r, p.result);
    if (operation === 'findMany') return matches;
    if (matches.length === 0 && operation === 'findFirstOrThrow') throw notFound(model, operation);
    return matches[0] ?? null;
  }

  switch (operation) {
    case 'create': {
      args.data = await sealCreate(ctx, model, args.data, operation);
      const p = await project(plan, model, args);
      return finish(await query(p.args), p.result);
    }
    case 'createMany':
    case 'createManyAndReturn': {
      const data = args.data;
      args.data = Array.isArray(data) ? await sealEach(data, (d) => sealCreate(ctx, model, d, operation)) : await sealCreate(ctx, model, data, operation);
      if (operation === 'createMany') return query(args);
      const p = await project(plan, model, args);
      return finish(await query(p.args), p.result);
    }
    case 'update':
    case 'upsert':
      return update(plan, ctx, open, client, params, model, m, args, finish);
    case 'updateMany':
    case 'updateManyAndReturn': {
      if (isObject(args.data)) {
        checkManaged(m, args.data, operation);
        if (touchesSealed(m, args.data)) return updateEach(plan, ctx, open, client, params, model, m!, args, finish);
        args.data = await nestedWrites(ctx, model, args.data, operation);
      }
      args.where = await rewriteWhere(plan, model, args.where, operation, undefined);
      if (operation === 'updateMany') return query(args);
      const p = await project(plan, model, args);
      return finish(await query(p.args), p.result);
    }
    case 'delete': {
      args.where = await rewriteWhere(plan, model, args.where, operation, undefined);
      const p = await project(plan, model, args);
      return finish(await query(p.args), p.result);
    }
    case 'deleteMany':
      args.where = await rewriteWhere(plan, model, args.where, operation, undefined);
      return query(args);
    case 'count':
    case 'aggregate':
    case 'groupBy':
      args.where = await rewriteWhere(plan, model, args.where, operation, undefined);
      checkOrderBy(plan, model, args.orderBy);
      checkCursorDistinct(plan, model, args);
      checkAggregate(plan, model, operation, args);
      return query(args);
    default:
      throw new UnsupportedQueryError(`@fieldseal/prisma: ${model}.${operation} is not supported on a model that reaches encrypted fields`, { model, operation });
  }
}

/** Top-level update and upsert: read the row, reseal it with the changes, write with compare-and-swap on the header. */
async function update(plan: Plan, ctx: WriteContext, open: OpenRowOptions, client: unknown, params: HookParams, model: string, m: ModelPlan | undefined, args: Obj, finish: (r: unknown, rp: ResultPlan) => Promise<unknown>): Promise<unknown> {
  const operation = params.operation;
  const upsert = operation === 'upsert';
  const data = (upsert ? args.update : args.data) as Obj;
  if (!isObject(data)) throw new InvalidArgumentError(`@fieldseal/prisma: ${model}.${operation} needs ${upsert ? 'update' : 'data'}`);
  checkManaged(m, data, operation);
  const where = await rewriteWhere(plan, model, args.where, operation, undefined);
  const parent = { model, where: where as Obj, findMany: (target: string, a: Obj) => runDirect(client, params.__internalParams, target, 'findMany', a) };
  const rest = await nestedWrites(ctx, model, data, operation, parent);
  if (upsert) args.create = await sealCreate(ctx, model, args.create, operation);
  if (m === undefined || !touchesSealed(m, data)) {
    args.where = where;
    args[upsert ? 'update' : 'data'] = rest;
    const p = await project(plan, model, args);
    return finish(await params.query(p.args), p.result);
  }
  const changes = plainChanges(m, data, operation);
  for (let attempt = 1; ; attempt++) {
    const current = await readCurrent(client, params.__internalParams, model, where as Obj, [...m.fields.keys(), m.header, ...m.bound]);
    const next: Obj = { ...rest };
    let guard: unknown;
    if (current === null) {
      // No such row: an update fails as Prisma fails it; an upsert creates. Either way the guard
      // makes sure the update branch never runs against a row that appeared meanwhile.
      for (const f of Object.keys(changes)) delete next[f];
      guard = { [m.header]: '' };
    } else {
      const sealed = await resealRow(current, changes, m.layout, open);
      for (const f of [...m.fields.keys(), m.header, ...Object.keys(changes)]) next[f] = sealed[f];
      Object.assign(next, await updateBeacons(ctx, m, changes));
      guard = { [m.header]: current[m.header] ?? null };
    }
    const a: Obj = { ...args, where: { ...(where as Obj), AND: [...asArray((where as Obj).AND), guard] }, [upsert ? 'update' : 'data']: next };
    const p = await project(plan, model, a);
    try {
      return await finish(await params.query(p.args), p.result);
    } catch (err) {
      // P2025: no row matched. If the row is there with another header, a concurrent writer won
      // the compare-and-swap: read it again and reseal.
      if (current === null || attempt >= CAS_ATTEMPTS || (err as { code?: unknown }).code !== 'P2025' || upsert) throw err;
    }
  }
}

/**
 * updateMany of sealed fields: each row's ciphertexts are bound to it, so the rows are read and
 * resealed one by one, and each is written with compare-and-swap on its header, all in one
 * transaction (the caller's interactive one, or one of its own). A row changed meanwhile fails
 * the whole call. Refused in a batch transaction, which cannot hold the reads.
 */
async function updateEach(plan: Plan, ctx: WriteContext, open: OpenRowOptions, client: unknown, params: HookParams, model: string, m: ModelPlan, args: Obj, finish: (r: unknown, rp: ResultPlan) => Promise<unknown>): Promise<unknown> {
  const operation = params.operation;
  const internal = params.__internalParams;
  if (internal?.transaction?.kind === 'batch') throw new UnsupportedQueryError(`@fieldseal/prisma: ${model}.${operation} of encrypted, id or context fields reads every row first and cannot run in a batch $transaction; use an interactive transaction`, { model, operation });
  const data = args.data as Obj;
  const changes = plainChanges(m, data, operation);
  const where = await rewriteWhere(plan, model, args.where, operation, undefined);
  const returning = operation === 'updateManyAndReturn';
  const p = returning ? await project(plan, model, { select: args.select, include: args.include, omit: args.omit }) : undefined;
  const run = async (exec: (action: string, a: Obj) => Promise<unknown>): Promise<unknown[]> => {
    const select = Object.fromEntries([...m.fields.keys(), m.header, ...m.bound].map((f) => [f, true]));
    const rows = (await exec('findMany', { where, select, ...(args.limit !== undefined ? { take: args.limit } : {}) })) as Obj[];
    const out: unknown[] = [];
    for (const row of rows) {
      const sealed = await resealRow(row, changes, m.layout, open);
      const next: Obj = { ...data };
      for (const f of [...m.fields.keys(), m.header, ...Object.keys(changes)]) next[f] = sealed[f];
      Object.assign(next, await updateBeacons(ctx, m, changes));
      const idWhere = Object.fromEntries(m.ids.map((i) => [i, row[i]]));
      const projection = p !== undefined ? Object.fromEntries(Object.entries(p.args).filter(([, v]) => v !== undefined)) : { select: Object.fromEntries(m.ids.map((i) => [i, true])) };
      out.push(await exec('update', { where: { ...idWhere, AND: [{ [m.header]: row[m.header] ?? null }] }, data: next, ...projection }));
    }
    return out;
  };
  let results: unknown[];
  if (internal?.transaction?.kind === 'itx') results = await run((action, a) => runDirect(client, internal, model, action, a));
  else {
    const base = client as { $transaction: (f: (tx: unknown) => Promise<unknown[]>) => Promise<unknown[]> };
    const jsName = model.charAt(0).toLowerCase() + model.slice(1);
    results = await base.$transaction((tx) => run((action, a) => (tx as Record<string, Record<string, (a: Obj) => Promise<unknown>>>)[jsName]![action]!(a)));
  }
  if (!returning) return { count: results.length };
  return finish(results, p!.result);
}

function stripRow(row: unknown, rp: ResultPlan): void {
  if (row === null || typeof row !== 'object') return;
  for (const f of rp.strip) delete (row as Obj)[f];
}

function asArray(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function findPlanAt(rp: ResultPlan, dataPath: readonly string[]): ResultPlan {
  let cur = rp;
  for (let i = 1; i < dataPath.length; i += 2) {
    const next = cur.relations.get(dataPath[i]!);
    if (next === undefined) return { model: cur.model, open: false, strip: [], relations: new Map() };
    cur = next;
  }
  return cur;
}
