/**
 * Property-based fuzzing of decrypt and inspect over mutated sealed documents (issue 14, "Tests
 * that must exist"): bit flips, removed, duplicated, swapped and replaced fields, hostile JSON
 * (`__proto__` keys, deep nesting, huge arrays, wrong types), under full and partial decrypt.
 * Every run must give a correct result or a FieldsealError, finish (no hang), and no error
 * message may contain plaintext, key bytes or data-key bytes. Bounded to a few seconds.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decrypt, FieldsealError, inspect, KeyUnavailableError, LocalKeyring, type JsonObject, type JsonValue, type Keyring } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { nodeBackend } from './helpers/backends.js';
import { stringifyJson } from '../src/lib/json.js';

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every form in which a secret could leak into a message. */
const secretForms: string[] = [];
function rememberSecret(bytes: Uint8Array): void {
  for (const form of [b64url(bytes), b64(bytes), hex(bytes)]) secretForms.push(form.slice(0, 16));
  secretForms.push(Array.from(bytes.subarray(0, 8)).join(','));
}

/** A keyring that remembers every data key it hands out or recovers. */
function recording(inner: Keyring): Keyring {
  return {
    async wrap(req) {
      const r = await inner.wrap(req);
      rememberSecret(r.dataKey);
      return r;
    },
    async unwrap(req) {
      const key = await inner.unwrap(req);
      rememberSecret(key);
      return key;
    },
  };
}

function keyFile(name: string): { keyring: LocalKeyring; kek: Uint8Array } {
  const kek = crypto.getRandomValues(new Uint8Array(32));
  rememberSecret(kek);
  const keyring = LocalKeyring.fromKeyFile({ type: 'fieldseal-local-keyring', formatVersion: 1, name, primary: 1, keys: [{ version: 1, key: b64url(kek), createdAt: '2026-01-01T00:00:00.000Z' }] });
  return { keyring, kek };
}

const PLAIN_SECRETS = ['078-05-1120', 'secret.person@example.com', '4111111111111111', 'Sécrèt nöte 🌍'];
const plaintext: JsonObject = {
  id: 7,
  ssn: PLAIN_SECRETS[0]!,
  email: PLAIN_SECRETS[1]!,
  cards: [{ number: PLAIN_SECRETS[2]!, exp: '12/29' }, { number: '5500000000000004', exp: '01/30' }],
  profile: { note: PLAIN_SECRETS[3]!, tags: ['a', 'b'], nested: { deep: { email: 'second.secret@example.com' } } },
  public: 'hello',
};
PLAIN_SECRETS.push('second.secret@example.com', '5500000000000004');

type Path = (string | number)[];

/** Every location of a value (root excluded), down to `maxDepth` levels (mutations insert deep chains). */
function locations(v: unknown, maxDepth = 12): Path[] {
  const out: Path[] = [];
  const stack: { v: unknown; path: Path }[] = [{ v, path: [] }];
  while (stack.length > 0) {
    const { v: cur, path } = stack.pop()!;
    if (path.length > 0) out.push(path);
    if (path.length >= maxDepth) continue;
    // The first elements of an array are enough targets (an inserted array has 100,000).
    if (Array.isArray(cur)) cur.slice(0, 16).forEach((c, i) => stack.push({ v: c, path: [...path, i] }));
    else if (cur !== null && typeof cur === 'object') for (const k of Object.keys(cur)) stack.push({ v: (cur as Record<string, unknown>)[k], path: [...path, k] });
  }
  return out;
}

/** JSON text of anything a mutation may have put in place, however deep. */
const text = (v: unknown): string => (v === undefined ? 'undefined' : stringifyJson(v as JsonValue, Infinity, 'test'));

function parentOf(doc: unknown, path: Path): Record<string | number, unknown> | undefined {
  let cur: unknown = doc;
  for (const t of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[t as string];
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>) : undefined;
}

function setOwnData(container: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

const deepChain = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

/**
 * Hostile values to put anywhere. Large ones are described, and built only when applied, so that
 * fast-check can print a counterexample.
 */
type Make = { readonly make: 'deep'; readonly depth: number } | { readonly make: 'huge' } | { readonly make: 'proto' };
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, 0, -1, 1e308, true, '', 'fs1.', 'fs1.AAAA', 'fs1h.', [], {}, '__proto__', PLAIN_SECRETS[0]),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<Make>({ make: 'deep', depth: 20 }, { make: 'deep', depth: 130 }, { make: 'deep', depth: 5_000 }, { make: 'huge' }, { make: 'proto' }),
);

function build(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !('make' in value)) return value;
  const m = value as Make;
  if (m.make === 'deep') return deepChain(m.depth);
  if (m.make === 'huge') return new Array(100_000).fill('fs1.x');
  return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

type Mutation =
  | { kind: 'flip'; target: number; at: number; to: number }
  | { kind: 'remove'; target: number }
  | { kind: 'duplicate'; target: number; dest: number }
  | { kind: 'swap'; target: number; dest: number }
  | { kind: 'replace'; target: number; value: unknown }
  | { kind: 'insert'; dest: number; key: string; value: unknown }
  | { kind: 'header'; value: unknown }
  | { kind: 'truncate'; target: number; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), target: fc.nat(), at: fc.nat(), to: fc.nat({ max: 63 }) }),
  fc.record({ kind: fc.constant('remove' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), target: fc.nat(), dest: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), target: fc.nat(), dest: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), target: fc.nat(), value: hostileValue }),
  fc.record({ kind: fc.constant('insert' as const), dest: fc.nat(), key: fc.constantFrom('__proto__', 'constructor', 'prototype', '_fieldseal', 'x', 'ssn', '0', ''), value: hostileValue }),
  fc.record({ kind: fc.constant('header' as const), value: hostileValue }),
  fc.record({ kind: fc.constant('truncate' as const), target: fc.nat(), at: fc.nat() }),
);

/** Apply mutations to a copy of a sealed document; strings that look sealed are the usual target. */
function mutate(sealed: JsonObject, mutations: readonly Mutation[]): unknown {
  const doc = JSON.parse(JSON.stringify(sealed)) as JsonObject;
  for (const m of mutations) {
    const all = locations(doc);
    if (all.length === 0) break;
    const sealedStrings = all.filter((p) => {
      const parent = parentOf(doc, p);
      const v = parent?.[p[p.length - 1] as number];
      return typeof v === 'string' && v.startsWith('fs1');
    });
    const pick = (n: number, from: Path[]) => from[n % from.length]!;
    const targets = sealedStrings.length > 0 && m.kind !== 'remove' ? sealedStrings : all;
    const containerOf = (p: Path) => parentOf(doc, p)!;
    const keyOf = (p: Path) => p[p.length - 1]!;
    switch (m.kind) {
      case 'flip':
      case 'truncate': {
        const p = pick(m.target, targets);
        const c = containerOf(p);
        const s = (c as Record<string, unknown>)[keyOf(p) as string];
        if (typeof s !== 'string' || s.length === 0) break;
        const at = m.at % s.length;
        if (m.kind === 'truncate') setOwnData(c, keyOf(p), s.slice(0, at));
        else {
          const ch = BASE64URL[m.to]! === s[at] ? BASE64URL[(m.to + 1) % 64]! : BASE64URL[m.to]!;
          setOwnData(c, keyOf(p), s.slice(0, at) + ch + s.slice(at + 1));
        }
        break;
      }
      case 'remove': {
        const p = pick(m.target, all);
        const c = containerOf(p);
        if (Array.isArray(c)) c.splice(keyOf(p) as number, 1);
        else delete (c as Record<string, unknown>)[keyOf(p) as string];
        break;
      }
      case 'duplicate':
      case 'swap': {
        const a = pick(m.target, targets);
        const b = pick(m.dest, all);
        const ca = containerOf(a);
        const cb = containerOf(b);
        const va = (ca as Record<string, unknown>)[keyOf(a) as string];
        const vb = (cb as Record<string, unknown>)[keyOf(b) as string];
        setOwnData(cb, keyOf(b), va);
        if (m.kind === 'swap') setOwnData(ca, keyOf(a), vb);
        break;
      }
      case 'replace': {
        const p = pick(m.target, targets);
        setOwnData(containerOf(p), keyOf(p), build(m.value));
        break;
      }
      case 'insert': {
        const objects = [[] as Path, ...all.filter((p) => {
          const v = (containerOf(p) as Record<string, unknown>)[keyOf(p) as string];
          return v !== null && typeof v === 'object' && !Array.isArray(v);
        })];
        const p = pick(m.dest, objects);
        const target = p.length === 0 ? doc : (containerOf(p) as Record<string, unknown>)[keyOf(p) as string];
        setOwnData(target as Record<string, unknown>, m.key, build(m.value));
        break;
      }
      case 'header':
        setOwnData(doc, '_fieldseal', build(m.value));
        break;
    }
  }
  return doc;
}

/** How an exotic object (a Proxy over one container of the mutated document) misbehaves. */
type Exotic = { readonly target: number; readonly trap: 'ownKeys' | 'descriptor' | 'accessor' | 'prototype' | 'length' | 'consistent' };
const exotic: fc.Arbitrary<Exotic | null> = fc.option(fc.record({ target: fc.nat(), trap: fc.constantFrom('ownKeys', 'descriptor', 'accessor', 'prototype', 'length', 'consistent') }), { freq: 4 });

function proxied(container: object, trap: Exotic['trap']): object {
  const boom = () => {
    throw new Error(PLAIN_SECRETS[0]);
  };
  switch (trap) {
    case 'ownKeys':
      return new Proxy(container, { ownKeys: boom });
    case 'descriptor':
      return new Proxy(container, { getOwnPropertyDescriptor: boom });
    case 'accessor':
      return new Proxy(container, { getOwnPropertyDescriptor: (t, k) => (k === 'length' ? Reflect.getOwnPropertyDescriptor(t, k) : { get: boom, enumerable: true, configurable: true }) });
    case 'prototype':
      return new Proxy(container, { getPrototypeOf: boom });
    case 'length':
      return new Proxy(container, { getOwnPropertyDescriptor: (t, k) => (k === 'length' ? { value: 2 ** 32 - 1, writable: true, enumerable: false, configurable: false } : Reflect.getOwnPropertyDescriptor(t, k)) });
    case 'consistent':
      return new Proxy(container, {});
  }
}

/** The mutated document with one container (or the whole document) behind a Proxy. */
function withExotic(doc: unknown, e: Exotic | null): unknown {
  if (e === null) return doc;
  const copy = JSON.parse(text(doc)) as Record<string, unknown>;
  const containers = [[] as Path, ...locations(copy).filter((p) => {
    const v = parentOf(copy, p)?.[p[p.length - 1]!];
    return v !== null && typeof v === 'object';
  })];
  const p = containers[e.target % containers.length]!;
  if (p.length === 0) return proxied(copy, e.trap);
  const parent = parentOf(copy, p)!;
  setOwnData(parent as Record<string, unknown>, p[p.length - 1]!, proxied(parent[p[p.length - 1]!] as object, e.trap));
  return copy;
}

function messagesOf(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e instanceof Error && !seen.has(e)) {
    seen.add(e);
    out.push(e.message, String(e));
    if (e instanceof KeyUnavailableError) for (const r of e.reasons) out.push(r.message);
    e = e.cause;
  }
  return out;
}

function expectNoSecrets(err: unknown): void {
  for (const msg of messagesOf(err)) {
    for (const s of PLAIN_SECRETS) expect(msg).not.toContain(s);
    for (const s of secretForms) expect(msg).not.toContain(s);
  }
}

/**
 * Every place that held a ciphertext in the sealed document either holds what the (mutated)
 * input held there, untouched, or exactly the original plaintext: nothing else ever comes out.
 */
function expectCorrect(out: JsonObject, input: unknown, sealed: JsonObject, original: JsonObject): void {
  const at = (doc: unknown, p: Path) => parentOf(doc, p)?.[p[p.length - 1] as number];
  for (const p of locations(original)) {
    const was = at(sealed, p);
    if (typeof was !== 'string' || !was.startsWith('fs1.')) continue;
    const now = at(out, p);
    if (text(now) === text(at(input, p))) continue;
    expect(now).toEqual(at(original, p));
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('decrypt and inspect over mutated sealed documents (property-based)', () => {
  test('a correct result or a typed error, never a hang, never a secret in a message', { timeout: 120_000 }, async () => {
    const a = keyFile('a');
    const b = keyFile('b');
    const sealed = await encryptWith(nodeBackend, plaintext, {
      keyring: recording(a.keyring),
      paths: ['$.ssn', '$.cards[*].number', '$..email'],
      groups: [{ name: 'restricted', keyring: recording(b.keyring), paths: ['$.profile.note', '$.profile.tags'] }],
      context: { tenant: 't1' },
      requiredContext: { row: '7' },
    });
    const keyrings = { default: recording(a.keyring), restricted: recording(b.keyring) };
    const context = { tenant: 't1', row: '7' };
    // The untouched document opens: what the mutations break is theirs.
    expect(await decrypt(sealed, { keyrings, context })).toEqual(plaintext);

    const options = fc.oneof(
      fc.constant({}),
      fc.record({ paths: fc.subarray(['$..*', '$.ssn', '$..email', '$.cards[*].number', '$[*]', "$['__proto__']", '$..[0]', '$.profile..*'], { minLength: 1 }) }),
      fc.record({ groups: fc.subarray(['default', 'restricted'], { minLength: 1 }) }),
      fc.constant({ context: { tenant: 't2', row: '7' } }),
      fc.constant({ limits: { maxDepth: 10_000 } }),
    );
    let opened = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), options, exotic, async (mutations, extra, odd) => {
        const plain = mutate(sealed, mutations);
        const doc = withExotic(plain, odd);
        try {
          const info = inspect(doc as JsonObject, 'limits' in extra ? { limits: extra.limits } : {});
          expect(info.groups.length).toBeGreaterThan(0);
        } catch (err) {
          expect(err).toBeInstanceOf(FieldsealError);
          expectNoSecrets(err);
        }
        try {
          const out = await decrypt(doc as JsonObject, { keyrings, context, ...extra } as Parameters<typeof decrypt>[1]);
          opened++;
          expectCorrect(out, plain, sealed, plaintext);
        } catch (err) {
          refused++;
          if (!(err instanceof FieldsealError)) throw err;
          expectNoSecrets(err);
        }
      }),
      { numRuns: 200, interruptAfterTimeLimit: 20_000 },
    );
    // Both outcomes happened: mutations that touch nothing authenticated still open.
    expect(refused).toBeGreaterThan(0);
    expect(opened).toBeGreaterThan(0);
  });
});
