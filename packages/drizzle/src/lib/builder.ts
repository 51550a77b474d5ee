import { refused } from './refused.js';

/** One recorded builder call. */
export interface Call {
  readonly method: string;
  readonly args: readonly unknown[];
}

/** The chain methods each kind of query accepts through the wrapper; anything else is refused. */
export const CHAIN: Readonly<Record<string, ReadonlySet<string>>> = {
  select: new Set(['from', 'where', 'having', 'groupBy', 'orderBy', 'limit', 'offset', 'for', 'leftJoin', 'rightJoin', 'innerJoin', 'fullJoin', 'crossJoin', '$dynamic']),
  insert: new Set(['values', 'onConflictDoNothing', 'onConflictDoUpdate', 'returning', 'overridingSystemValue', '$dynamic']),
  update: new Set(['set', 'where', 'returning', '$dynamic']),
  delete: new Set(['where', 'returning', '$dynamic']),
  relational: new Set<string>(),
};

/**
 * A query builder that records its chain and runs it, sealed and checked, when it is awaited.
 * Drizzle's own builders are synchronous and build SQL from values as they are given, which is
 * too early: sealing, beacons and key unwrapping are asynchronous.
 */
export function pendingBuilder(kind: string, root: Call, run: (root: Call, calls: readonly Call[]) => Promise<unknown>): unknown {
  const calls: Call[] = [];
  const allowed = CHAIN[kind]!;
  let started: Promise<unknown> | undefined;
  const start = (): Promise<unknown> => (started ??= Promise.resolve().then(() => run(root, calls)));
  const proxy: unknown = new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (prop === 'then') return (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => start().then(ok, fail);
      if (prop === 'catch') return (fail?: (e: unknown) => unknown) => start().catch(fail);
      if (prop === 'finally') return (f?: () => void) => start().finally(f);
      if (prop === 'execute') return () => start();
      if (typeof prop === 'symbol') return prop === Symbol.toStringTag ? 'FieldsealQuery' : undefined;
      if (allowed.has(prop)) {
        return (...args: unknown[]) => {
          if (started !== undefined) throw refused('this query already ran: build a new one');
          if (prop !== '$dynamic') calls.push({ method: prop, args });
          return proxy;
        };
      }
      throw refused(`${kind} queries through withFieldseal do not support .${prop.slice(0, 40)}() (it would bypass sealing or checks): use db.$base for it, and seal or open with db.$fieldseal`);
    },
  });
  return proxy;
}
