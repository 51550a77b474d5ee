/**
 * Red-team suite: resource exhaustion before authentication, limit symmetry between encrypt and
 * decrypt, hostile or buggy keyrings, and rotation on tampered input. Each test asserts the secure
 * behaviour and fails if the weakness exists.
 */
import { describe, expect, test } from 'vitest';
import { CachingKeyring, FieldsealError, LocalKeyring, MultiKeyring, RsaKeyring, rewrap, type JsonObject, type Keyring } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { rewrapWith } from '../src/rewrap.js';
import { compileSelector, evaluateSelector } from '../src/lib/selector.js';
import { backends } from './helpers/backends.js';

async function rejectCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  throw new Error('expected a rejection, got a result');
}

function chain(depth: number, leaf: unknown = 'x'): JsonObject {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v as JsonObject;
}

describe('selector evaluation on hostile documents is bounded', () => {
  test('stacked descendant segments over a deep chain stay linear (no O(depth^k) blow-up before authentication)', () => {
    const doc = chain(120);
    for (const sel of ['$..a..a..a', '$..a..a..a..a..a', '$..*..*..*..*', '$..a[*,*,*]..a[*,*,*]']) {
      const t0 = performance.now();
      const out = evaluateSelector(compileSelector(sel), doc);
      expect(performance.now() - t0).toBeLessThan(1_000);
      const unique = new Set(out.map((p) => JSON.stringify(p)));
      expect(unique.size).toBe(out.length);
    }
    // repeated selectors in brackets do not multiply segment after segment
    const wide = { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: { a: 1 } } } } } } } } } } } };
    const t0 = performance.now();
    const out = evaluateSelector(compileSelector('$' + "['a','a','a','a','a','a','a','a']".repeat(12)), wide);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(out).toEqual([Array(12).fill('a')]);
  });

  // Expected orders were checked against the implementation before deduplication was added (differential run, 4,800 cases).
  test('deduplication keeps RFC 9535 results and document order', () => {
    const doc = { a: { a: { b: 1 }, b: 2 }, b: 3, c: [{ a: { b: 4 } }] };
    expect(evaluateSelector(compileSelector('$..a..b'), doc)).toEqual([['a', 'b'], ['a', 'a', 'b'], ['c', 0, 'a', 'b']]);
    expect(evaluateSelector(compileSelector('$..a..a..b'), doc)).toEqual([['a', 'a', 'b']]);
    // Each location once, in document order (a union does not reorder siblings).
    expect(evaluateSelector(compileSelector("$['b','a','b']"), doc)).toEqual([['a'], ['b']]);
    expect(evaluateSelector(compileSelector('$..*'), { x: [1, { y: 2 }] })).toEqual([['x'], ['x', 0], ['x', 1], ['x', 1, 'y']]);
  });
});

describe.each(backends)('adversarial limits and keyrings (%s backend)', (_name, backend) => {
  test('decrypt with paths over a hostile deep document finishes quickly', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encryptWith(backend, { s: 'x', ...chain(120) }, { keyring, paths: ['$.s'] });
    const t0 = performance.now();
    const out = await decryptWith(backend, sealed, { keyring, paths: ['$..a..a..a..a', '$.s'] });
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(out.s).toBe('x');
  });

  test('every header encrypt writes under maxHeaderBytes, decrypt with the same limits reads (MACs are not body)', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const limits = { maxHeaderBytes: 2000 };
    let accepted = 0;
    for (let n = 240; n < 300; n++) {
      const doc: Record<string, string> = {};
      for (let i = 0; i < n; i++) doc['f' + i] = 'v';
      let sealed: JsonObject;
      try {
        sealed = await encryptWith(backend, doc, { keyring, paths: ['$.*'], limits });
      } catch (err) {
        expect((err as FieldsealError).code).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
        break;
      }
      accepted++;
      expect(await decryptWith(backend, sealed, { keyring, limits })).toEqual(doc);
    }
    expect(accepted).toBeGreaterThan(10);
  });

  test('a keyring that returns the data key of another document, a short key, or throws untyped errors never yields plaintext', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const a = await encryptWith(backend, { s: 'secret-a' }, { keyring, paths: ['$.s'] });
    const b = await encryptWith(backend, { s: 'secret-b' }, { keyring, paths: ['$.s'] });
    const { decodeHeader } = await import('../src/lib/format/header.js');
    const { DEFAULT_LIMITS } = await import('../src/lib/limits.js');
    const bWrapped = decodeHeader(backend, b._fieldseal, DEFAULT_LIMITS).groups[0]!.wrapped;
    const confused: Keyring = { wrap: (r) => keyring.wrap(r), unwrap: (r) => keyring.unwrap({ ...r, wrapped: bWrapped }) };
    expect(await rejectCode(decryptWith(backend, a, { keyring: confused }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    const short: Keyring = { wrap: (r) => keyring.wrap(r), unwrap: async () => new Uint8Array(16) };
    expect(await rejectCode(decryptWith(backend, a, { keyring: short }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    const untyped: Keyring = {
      wrap: (r) => keyring.wrap(r),
      unwrap: async () => {
        throw new TypeError('boom secret-a');
      },
    };
    expect(await rejectCode(decryptWith(backend, a, { keyring: untyped }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await rejectCode(decryptWith(backend, a, { keyring: new MultiKeyring([untyped, short]) }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect(await rejectCode(decryptWith(backend, a, { keyring: new MultiKeyring([untyped, confused]) }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('core zeroing the data keys it is handed never corrupts a CachingKeyring (hits, coalesced misses, multi)', async () => {
    const inner = await LocalKeyring.generate({ name: 'k' });
    const caching = new CachingKeyring({ keyring: inner, encrypt: { maxAgeMs: 60_000, maxDocuments: 100, maxBytes: 1 << 20 }, decrypt: { maxAgeMs: 60_000 } });
    const docs = await Promise.all(Array.from({ length: 8 }, (_, i) => encryptWith(backend, { s: `v${i}` }, { keyring: caching, paths: ['$.s'] })));
    for (let round = 0; round < 3; round++) {
      const out = await Promise.all(docs.map((d) => decryptWith(backend, d, { keyring: caching })));
      expect(out.map((o) => o.s)).toEqual(docs.map((_, i) => `v${i}`));
    }
    const multi = new MultiKeyring([caching, await LocalKeyring.generate({ name: 'm' })]);
    const m = await encryptWith(backend, { s: 'm' }, { keyring: multi, paths: ['$.s'] });
    expect((await decryptWith(backend, m, { keyring: caching })).s).toBe('m');
    expect((await decryptWith(backend, docs[0]!, { keyring: inner })).s).toBe('v0');
    expect(caching.stats().unwrap.hits).toBeGreaterThan(0);
  });

  test('rewrap refuses a tampered header, a data key swap by the target, and keeps every group', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const to = await LocalKeyring.generate({ name: 'to' });
    const sealed = await encryptWith(backend, { x: '1', y: '2' }, { keyring: a, paths: ['$.x'], groups: [{ name: 'g2', keyring: b, paths: ['$.y'] }], context: { t: '1' } });
    const keyrings = { default: a, g2: b };
    // flipping a byte of the header anywhere after the message id: nothing changes, typed error
    const header = sealed._fieldseal as string;
    for (let i = 60; i < header.length; i += 7) {
      const c = header[i] === 'A' ? 'B' : 'A';
      const tampered = { ...sealed, _fieldseal: header.slice(0, i) + c + header.slice(i + 1) };
      expect(await rejectCode(rewrapWith(backend, tampered, { keyrings, to, context: { t: '1' } }))).toMatch(/^ERR_FIELDSEAL_/);
    }
    // a target that swaps in its own data key is refused
    const swapper: Keyring = { wrap: async (r) => to.wrap({ context: r.context }), unwrap: (r) => to.unwrap(r) };
    expect(await rejectCode(rewrapWith(backend, sealed, { keyrings, to: swapper, context: { t: '1' } }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    // a target for only one group is refused, not a silently dropped group
    expect(await rejectCode(rewrap(sealed, { keyrings, toKeyrings: { default: to }, context: { t: '1' } }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    const { document } = await rewrapWith(backend, sealed, { keyrings, to, context: { t: '1' } });
    expect(await decryptWith(backend, document, { keyring: to, context: { t: '1' } })).toEqual({ x: '1', y: '2' });
    // the old header cannot be spliced onto the new fields or vice versa to get a mix that opens with the old key
    expect(await rejectCode(decryptWith(backend, { ...document, _fieldseal: sealed._fieldseal! }, { keyring: to, context: { t: '1' } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('RsaKeyring given hostile wrapped keys from a header answers with a typed error', async () => {
    const rsa = await RsaKeyring.generate({ name: 'r' });
    const sealed = await encryptWith(backend, { s: 'x' }, { keyring: rsa, paths: ['$.s'] });
    const { decodeHeader, encodeHeaderBody, headerToString } = await import('../src/lib/format/header.js');
    const { DEFAULT_LIMITS } = await import('../src/lib/limits.js');
    const h = decodeHeader(backend, sealed._fieldseal, DEFAULT_LIMITS);
    for (const mutate of [(c: Uint8Array) => c.slice(0, 0 + 1), (c: Uint8Array) => c.slice(0, 100), (c: Uint8Array) => new Uint8Array(c.length + 1), (c: Uint8Array) => c.map((x) => x ^ 1)]) {
      const groups = h.groups.map((g) => ({ ...g, wrapped: g.wrapped.map((w) => ({ ...w, ciphertext: mutate(w.ciphertext) })) }));
      const body = encodeHeaderBody({ suite: h.suite, messageId: h.messageId, storedContext: h.storedContext, requiredKeys: h.requiredKeys, groups });
      const doc = { ...sealed, _fieldseal: headerToString(backend, body, h.macs) };
      expect(await rejectCode(decryptWith(backend, doc, { keyring: rsa }))).toMatch(/KEY_UNAVAILABLE|DECRYPTION_FAILED/);
    }
  });
});

describe.each(backends)('key material buffers (%s backend)', (_name, backend) => {
  test('random bytes and local data keys own their ArrayBuffer (never a slice of a shared allocation pool)', async () => {
    for (const n of [12, 32, 64]) expect(backend.randomBytes(n).buffer.byteLength).toBe(n);
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const { dataKey, wrapped } = await keyring.wrap({ context: {} });
    expect(dataKey.buffer.byteLength).toBe(32);
    expect((await keyring.unwrap({ wrapped, context: {} })).buffer.byteLength).toBe(32);
  });
});
