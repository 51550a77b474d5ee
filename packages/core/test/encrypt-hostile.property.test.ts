/**
 * Issue 14, "tests that must exist": a property-based fuzz of `encrypt` over hostile option objects
 * (Proxies, getters that throw or change their answer, wrong types, huge numbers, null prototypes)
 * and hostile keyrings (promises that never settle under a short deadline, throwing, garbage
 * results, reused and scribbled-over buffers). Every run must end, within a bound, in either a
 * document that decrypts to the input or a typed fieldseal error, and no error message may carry
 * the plaintext or a data key.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, isFieldsealError, LocalKeyring, MultiKeyring, CachingKeyring, type JsonObject, type Keyring, type WrapResult, type WrappedKey } from '@fieldseal/core';

const SECRET = 'S3CR3T-078-05-1120';
const SECRET2 = 'PLAINTEXT-4111111111111111';
const DOCUMENT: JsonObject = { id: 7, ssn: SECRET, cards: [{ number: SECRET2 }], note: 'public' };
// Generous: the slowest legitimate run is a few keyring calls under a 25 ms deadline.
const HANG_BOUND_MS = 3_000;
const DEADLINE_MS = 25;

/** Getters and traps that misbehave: throw, or answer differently on the second read. */
type Hostility = 'plain' | 'null-prototype' | 'frozen' | 'throwing-getter' | 'changing-getter' | 'proxy-changing' | 'proxy-throwing-keys';

function hostile<T extends object>(value: T, how: Hostility): T {
  switch (how) {
    case 'plain':
      return value;
    case 'null-prototype':
      return Object.assign(Object.create(null), value) as T;
    case 'frozen':
      return Object.freeze({ ...value });
    case 'throwing-getter': {
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      Object.defineProperty(out, Object.keys(value)[0] ?? 'x', { enumerable: true, get: () => { throw new Error(`getter says ${SECRET}`); } });
      return out as T;
    }
    case 'changing-getter': {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value)) {
        let reads = 0;
        Object.defineProperty(out, k, { enumerable: true, get: () => (reads++ === 0 ? (value as Record<string, unknown>)[k] : 42) });
      }
      return out as T;
    }
    case 'proxy-changing': {
      const reads = new Map<PropertyKey, number>();
      return new Proxy(value, {
        get(t, p, r) {
          const n = reads.get(p) ?? 0;
          reads.set(p, n + 1);
          return n === 0 ? Reflect.get(t, p, r) : { hostile: true };
        },
      });
    }
    case 'proxy-throwing-keys':
      return new Proxy(value, {
        ownKeys() {
          throw new RangeError(`ownKeys says ${SECRET}`);
        },
      });
  }
}

const hostility = fc.oneof(
  { arbitrary: fc.constantFrom<Hostility>('plain', 'null-prototype', 'frozen', 'changing-getter', 'proxy-changing'), weight: 12 },
  { arbitrary: fc.constantFrom<Hostility>('throwing-getter', 'proxy-throwing-keys'), weight: 1 },
);
/** Usually nothing (null), once in a while junk. */
const rarely = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: fc.constant(null), weight: 20 }, { arbitrary: arb, weight: 1 });
/** Mostly valid values, sometimes junk: each run changes few things, so both outcomes occur. */
const mostly = <T,>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: junk, weight: 1 });

/** Values of the wrong type or out of range, for any option. */
const junk = fc.oneof(
  fc.constantFrom(undefined, null, true, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_VALUE, '', 'x', '$.ssn', Symbol('s'), 10n),
  fc.constantFrom(() => 1, [], [null], new Uint8Array(3), new Date(0), /re/, Object.create(null)),
  fc.constant(new Proxy([], { get: (t, p) => (p === 'length' ? 2 ** 32 - 1 : Reflect.get(t, p)) })),
  fc.constant(new Proxy({}, { get: () => { throw new Error(`trap says ${SECRET}`); } })),
);

const limitsArb = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      maxDepth: mostly(fc.integer({ min: 1, max: 200 })),
      maxFields: mostly(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1))),
      maxContextPairs: mostly(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(65_535, 65_536, 100_000))),
      maxGroups: mostly(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(255, 256))),
      maxWrappedKeys: mostly(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(255, 256))),
      maxHeaderBytes: mostly(fc.integer({ min: 1, max: 4096 })),
      maxFieldBytes: mostly(fc.integer({ min: 1, max: 64 })),
    },
    { requiredKeys: [] },
  ),
);

const contextArb = mostly(
  fc.oneof(
    fc.constant(undefined),
    fc.dictionary(
      fc.oneof({ arbitrary: fc.constantFrom('tenant', 'table', '__proto__', 'constructor'), weight: 10 }, { arbitrary: fc.constantFrom('fieldseal:x', 'fieldseal.purpose', '', '\uD800'), weight: 1 }),
      mostly(fc.constantFrom('t1', '', 'ü')),
      { maxKeys: 3 },
    ),
  ),
);

const pathsArb = mostly(
  fc.oneof(
    { arbitrary: fc.constant(['$.ssn', '$.cards[*].number']), weight: 4 },
    { arbitrary: fc.subarray(['$.ssn', '$.cards[*].number', '$..number', '$.missing', '$', "$['__proto__']", '$.cards', '$[', '']), weight: 1 },
  ),
);

type KeyringKind = 'good' | 'multi' | 'caching' | 'never-settles' | 'throws-sync' | 'rejects' | 'returns-garbage' | 'short-key' | 'zero-key' | 'key-in-wrapped' | 'sparse-wrapped' | 'reuses-buffers' | 'scribbles-later' | 'getter-flips' | 'hangs-then-answers';
const keyringKind = fc.constantFrom<KeyringKind>('good', 'good', 'good', 'good', 'multi', 'caching', 'never-settles', 'throws-sync', 'rejects', 'returns-garbage', 'short-key', 'zero-key', 'key-in-wrapped', 'sparse-wrapped', 'reuses-buffers', 'scribbles-later', 'getter-flips', 'hangs-then-answers');

interface World {
  readonly inner: LocalKeyring;
  /** Every data key the honest keyring handed out, to look for in error messages. */
  readonly dataKeys: Uint8Array[];
}

function honest(world: World): Keyring {
  return {
    async wrap(req) {
      const r = await world.inner.wrap(req);
      world.dataKeys.push(r.dataKey.slice());
      return r;
    },
    unwrap: (req) => world.inner.unwrap(req),
  };
}

function makeKeyring(kind: KeyringKind, world: World): Keyring {
  const good = honest(world);
  const edit = (f: (r: WrapResult) => unknown): Keyring => ({ wrap: async (req) => f(await good.wrap(req)) as WrapResult, unwrap: good.unwrap });
  switch (kind) {
    case 'good':
      return good;
    case 'multi':
      return new MultiKeyring([good, honest(world)]);
    case 'caching':
      return new CachingKeyring({ keyring: good });
    case 'never-settles':
      return { wrap: () => new Promise(() => {}), unwrap: () => new Promise(() => {}) };
    case 'throws-sync':
      return { wrap: () => { throw new Error(`sync ${SECRET}`); }, unwrap: good.unwrap };
    case 'rejects':
      return { wrap: () => Promise.reject(new TypeError(`async ${SECRET}`)), unwrap: good.unwrap };
    case 'returns-garbage':
      return edit(() => [null, 42, 'key', { dataKey: 'x' }, { wrapped: [] }][Math.floor(Math.random() * 5)]);
    case 'short-key':
      return edit((r) => ({ dataKey: r.dataKey.subarray(0, 31), wrapped: r.wrapped }));
    case 'zero-key':
      return edit((r) => ({ dataKey: new Uint8Array(32), wrapped: r.wrapped }));
    case 'key-in-wrapped':
      return edit((r) => ({ dataKey: r.dataKey, wrapped: [{ provider: 'noop', keyId: 'k', ciphertext: Uint8Array.from([0, ...r.dataKey, 0]) }] }));
    case 'sparse-wrapped':
      // eslint-disable-next-line no-sparse-arrays
      return edit((r) => ({ dataKey: r.dataKey, wrapped: [, r.wrapped[0]] }));
    case 'reuses-buffers': {
      let cached: WrapResult | undefined;
      return { wrap: async (req) => (cached ??= await good.wrap(req)), unwrap: good.unwrap };
    }
    case 'scribbles-later':
      return edit((r) => {
        setTimeout(() => {
          r.dataKey.fill(1);
          for (const w of r.wrapped) w.ciphertext.fill(2);
        }, 0);
        return r;
      });
    case 'getter-flips':
      return edit((r) => {
        const w = r.wrapped[0]!;
        let n = 0;
        const flip = { provider: w.provider, keyId: w.keyId, get ciphertext() { return n++ === 0 ? w.ciphertext : new Uint8Array(1); } } as WrappedKey;
        let m = 0;
        return { get dataKey() { return m++ === 0 ? r.dataKey : new Uint8Array(32).fill(5); }, wrapped: [flip] };
      });
    case 'hangs-then-answers': {
      let calls = 0;
      return { wrap: (req) => (calls++ === 0 ? new Promise<WrapResult>(() => {}) : good.wrap(req)), unwrap: good.unwrap };
    }
  }
}

function encodings(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1'), key.join(',')];
}

describe('encrypt over hostile options and keyrings (fast-check, bounded)', () => {
  test('a document that decrypts, or a typed error; never a hang; no plaintext or key bytes in a message', async () => {
    const inner = await LocalKeyring.generate({ name: 'fuzz' });
    let runs = 0;
    let sealedCount = 0;
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          keyringKind,
          keyringJunk: rarely(junk),
          paths: pathsArb,
          secondGroup: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.record({ kind: keyringKind, name: mostly(fc.constantFrom('g2', 'g2', 'g2', 'default', '', 'n'.repeat(256))) }), weight: 1 }),
          groupsJunk: rarely(junk),
          context: contextArb,
          requiredContext: contextArb,
          strict: mostly(fc.boolean()),
          headerName: mostly(fc.oneof({ arbitrary: fc.constantFrom(undefined, '_fieldseal', '_h'), weight: 8 }, { arbitrary: fc.constantFrom('', 'x'.repeat(300)), weight: 1 })),
          limits: limitsArb,
          signal: fc.constantFrom<'none' | 'aborted' | 'junk' | 'later'>('none', 'none', 'none', 'none', 'none', 'none', 'aborted', 'junk', 'later'),
          timeout: fc.oneof({ arbitrary: fc.constant(DEADLINE_MS), weight: 12 }, { arbitrary: junk, weight: 1 }),
          optionsHostility: hostility,
          limitsHostility: hostility,
          contextHostility: hostility,
        }),
        async (c) => {
          runs++;
          const world: World = { inner, dataKeys: [] };
          const keyring = c.keyringJunk ?? makeKeyring(c.keyringKind, world);
          const ac = new AbortController();
          const signal = c.signal === 'none' ? undefined : c.signal === 'aborted' ? AbortSignal.abort(new Error('cancelled')) : c.signal === 'junk' ? { aborted: false } : ac.signal;
          if (c.signal === 'later') setTimeout(() => ac.abort(), 5);
          const groups = c.groupsJunk ?? (c.secondGroup ? [{ name: c.secondGroup.name, keyring: makeKeyring(c.secondGroup.kind, world), paths: ['$.note'] }] : undefined);
          const wrapObj = <T,>(v: T, how: Hostility): T => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date) && !(v instanceof RegExp) ? hostile(v as object, how) as T : v);
          const raw: Record<string, unknown> = {
            keyring,
            paths: c.paths,
            ...(groups !== undefined ? { groups } : {}),
            context: wrapObj(c.context, c.contextHostility),
            requiredContext: c.requiredContext,
            strict: c.strict,
            headerName: c.headerName,
            limits: wrapObj(c.limits, c.limitsHostility),
            signal,
            keyringTimeoutMs: c.timeout,
          };
          const options = hostile(raw, c.optionsHostility);

          let timer: ReturnType<typeof setTimeout> | undefined;
          const hang = new Promise<'hang'>((resolve) => {
            timer = setTimeout(() => resolve('hang'), HANG_BOUND_MS);
          });
          let outcome: unknown;
          try {
            outcome = await Promise.race([encrypt(structuredClone(DOCUMENT), options as never).then((doc) => ({ doc })), hang]);
          } catch (err) {
            outcome = { err };
          } finally {
            clearTimeout(timer);
          }
          expect(outcome, 'encrypt must not hang').not.toBe('hang');
          const o = outcome as { doc?: JsonObject; err?: unknown };
          if (o.err !== undefined) {
            expect(isFieldsealError(o.err), `untyped error: ${String(o.err)}`).toBe(true);
            const err = o.err as Error & { code: string };
            codes.add(err.code);
            const text = `${err.message} ${String(err)} ${JSON.stringify(err)}`;
            expect(text).not.toContain(SECRET);
            expect(text).not.toContain(SECRET2);
            for (const k of world.dataKeys) for (const e of encodings(k)) expect(text).not.toContain(e);
            return;
          }
          // It sealed: with what was read (each option once), the document must open again.
          sealedCount++;
          const sealed = o.doc!;
          const serialized = JSON.stringify(sealed);
          // Selected values are sealed (a run may select nothing: then they stay, by request).
          if (Array.isArray(c.paths) && c.paths.includes('$.ssn')) expect(serialized).not.toContain(SECRET);
          for (const k of world.dataKeys) for (const e of encodings(k).slice(0, 3)) expect(serialized).not.toContain(e);
          const headerName = typeof c.headerName === 'string' && c.headerName.length > 0 && c.headerName.length <= 256 ? c.headerName : '_fieldseal';
          const context = { ...(c.context as object | undefined), ...(c.requiredContext as object | undefined) } as Record<string, string>;
          const opened = await decrypt(sealed, { keyring: inner, context, headerName, ...(c.limits !== undefined ? { limits: c.limits as never } : {}) });
          expect(opened).toEqual(DOCUMENT);
        },
      ),
      { numRuns: 400, interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false },
    );
    // The fuzz must have reached both outcomes and several failure kinds, or it tested little.
    expect(runs).toBeGreaterThan(20);
    expect(sealedCount).toBeGreaterThan(0);
    expect(codes.size, [...codes].join()).toBeGreaterThanOrEqual(4);
  }, 30_000);
});
