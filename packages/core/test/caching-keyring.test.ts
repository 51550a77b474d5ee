import { describe, expect, it } from 'vitest';
import { CachingKeyring, LocalKeyring, decrypt, encrypt } from '@fieldseal/core';
import type { CachingKeyringEvent, EncryptionContext, Keyring, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';

/** A real LocalKeyring behind a counter; inner calls take a few ms so concurrent callers really overlap. */
class CountingKeyring implements Keyring {
  wraps = 0;
  unwraps = 0;
  /** Every data key handed to the cache, to check that evicted keys get zeroed. */
  readonly issued: Uint8Array[] = [];
  failNext = 0;
  constructor(
    readonly inner: Keyring,
    readonly delayMs = 5,
  ) {}
  static async create(delayMs = 5): Promise<CountingKeyring> {
    return new CountingKeyring(await LocalKeyring.generate({ name: 'kek' }), delayMs);
  }
  async wrap(request: WrapRequest): Promise<WrapResult> {
    this.wraps += 1;
    await sleep(this.delayMs);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('KMS throttled');
    }
    const r = await this.inner.wrap(request);
    this.issued.push(r.dataKey);
    return r;
  }
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    this.unwraps += 1;
    await sleep(this.delayMs);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('KMS throttled');
    }
    const k = await this.inner.unwrap(request);
    this.issued.push(k);
    return k;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const isZero = (b: Uint8Array) => b.every((x) => x === 0);
const ctx: EncryptionContext = { tenant: 't1' };

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error & { code?: string }) => e,
  );
}

describe('CachingKeyring: encrypt side', () => {
  it('64 concurrent wraps on a cold cache make one inner call and all get the same key, each its own copy', async () => {
    const inner = await CountingKeyring.create(20);
    const keyring = new CachingKeyring({ keyring: inner });
    const results = await Promise.all(Array.from({ length: 64 }, () => keyring.wrap({ context: ctx })));
    expect(inner.wraps).toBe(1);
    const first = results[0]!;
    for (const r of results) {
      expect(hex(r.dataKey)).toBe(hex(first.dataKey));
      expect(hex(r.wrapped[0]!.ciphertext)).toBe(hex(first.wrapped[0]!.ciphertext));
    }
    expect(new Set(results.map((r) => r.dataKey)).size).toBe(64);
    expect(new Set(results.map((r) => r.wrapped[0]!.ciphertext)).size).toBe(64);
    expect(results.some((r) => r.dataKey === inner.issued[0])).toBe(false);
    expect(keyring.stats().wrap).toMatchObject({ misses: 1, coalesced: 63, hits: 0, innerCalls: 1, entries: 1 });
  });

  it('64 concurrent encrypt() calls on a cold cache make one inner wrap, and every document opens', async () => {
    const inner = await CountingKeyring.create(20);
    const keyring = new CachingKeyring({ keyring: inner });
    const docs = Array.from({ length: 64 }, (_, i) => ({ id: i, ssn: `000-00-${String(i).padStart(4, '0')}` }));
    const sealed = await Promise.all(docs.map((d) => encrypt(d, { keyring, paths: ['$.ssn'], context: ctx })));
    expect(inner.wraps).toBe(1);
    // Opened by the bare inner keyring: the cache is not needed to read what it sealed.
    const opened = await Promise.all(sealed.map((s) => decrypt(s, { keyring: inner.inner, context: ctx })));
    expect(opened).toEqual(docs);
  });

  it('with defaults, 1,000 records in one context cost one inner wrap (hit rate 99.9%)', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    for (let i = 0; i < 1000; i++) await encrypt({ ssn: `ssn-${i}` }, { keyring, paths: ['$.ssn'], context: ctx });
    expect(inner.wraps).toBe(1);
    const s = keyring.stats().wrap;
    expect(s).toMatchObject({ hits: 999, misses: 1, innerCalls: 1 });
    expect(s.hits / (s.hits + s.misses)).toBeCloseTo(0.999, 3);
  });

  it('documents sharing a cached data key still get distinct message ids and ciphertexts', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const a = await encrypt({ ssn: 'same' }, { keyring, paths: ['$.ssn'], context: ctx });
    const b = await encrypt({ ssn: 'same' }, { keyring, paths: ['$.ssn'], context: ctx });
    expect(inner.wraps).toBe(1);
    expect(a.ssn).not.toBe(b.ssn);
    expect(a._fieldseal).not.toBe(b._fieldseal);
  });

  it('never reuses a data key across contexts, and treats key order as irrelevant', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const a = await keyring.wrap({ context: { tenant: 'a', region: 'eu' } });
    const b = await keyring.wrap({ context: { tenant: 'b', region: 'eu' } });
    const a2 = await keyring.wrap({ context: { region: 'eu', tenant: 'a' } });
    const tricky = await keyring.wrap({ context: { 'tenant","a': 'region' } });
    const none = await keyring.wrap({ context: {} });
    expect(inner.wraps).toBe(4);
    expect(hex(a.dataKey)).not.toBe(hex(b.dataKey));
    expect(hex(a2.dataKey)).toBe(hex(a.dataKey));
    expect(new Set([a, b, tricky, none].map((r) => hex(r.dataKey))).size).toBe(4);
    // A row id in the context means a fresh data key per row.
    await encrypt({ ssn: 'x' }, { keyring, paths: ['$.ssn'], context: ctx, requiredContext: { rowId: '1' } });
    await encrypt({ ssn: 'x' }, { keyring, paths: ['$.ssn'], context: ctx, requiredContext: { rowId: '2' } });
    expect(inner.wraps).toBe(6);
  });

  it('retires a data key after maxDocuments and zeroes it', async () => {
    const inner = await CountingKeyring.create(0);
    const events: CachingKeyringEvent[] = [];
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxDocuments: 3 }, onEvent: (e) => events.push(e) });
    const keys: string[] = [];
    for (let i = 0; i < 10; i++) keys.push(hex((await keyring.wrap({ context: ctx })).dataKey));
    expect(inner.wraps).toBe(4);
    expect(new Set(keys).size).toBe(4);
    expect(keys.slice(0, 3).every((k) => k === keys[0])).toBe(true);
    expect(keys[3]).not.toBe(keys[0]);
    expect(inner.issued.slice(0, 3).every(isZero)).toBe(true);
    expect(isZero(inner.issued[3]!)).toBe(false);
    expect(events.filter((e) => e.type === 'evict').map((e) => 'reason' in e && e.reason)).toEqual(['documents', 'documents', 'documents']);
  });

  it('retires a data key after maxAgeMs', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxAgeMs: 60_000 }, now: c.now });
    const k1 = hex((await keyring.wrap({ context: ctx })).dataKey);
    c.t += 59_999;
    expect(hex((await keyring.wrap({ context: ctx })).dataKey)).toBe(k1);
    c.t += 1;
    expect(hex((await keyring.wrap({ context: ctx })).dataKey)).not.toBe(k1);
    expect(inner.wraps).toBe(2);
    expect(isZero(inner.issued[0]!)).toBe(true);
  });

  it('retires a data key when reported plaintext bytes would pass maxBytes', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxBytes: 1000 } });
    const k1 = hex((await keyring.wrap({ context: ctx, plaintextBytes: 600 })).dataKey);
    expect(hex((await keyring.wrap({ context: ctx, plaintextBytes: 400 })).dataKey)).toBe(k1); // exactly 1000
    const k2 = hex((await keyring.wrap({ context: ctx, plaintextBytes: 1 })).dataKey);
    expect(k2).not.toBe(k1);
    // A document bigger than the limit gets a key of its own that is not cached.
    const big = hex((await keyring.wrap({ context: ctx, plaintextBytes: 5000 })).dataKey);
    expect(big).not.toBe(k2);
    expect(hex((await keyring.wrap({ context: ctx })).dataKey)).toBe(k2);
    expect(inner.wraps).toBe(3);
    await expect(keyring.wrap({ context: ctx, plaintextBytes: -1 })).rejects.toHaveProperty('code', 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expect(keyring.wrap({ context: ctx, plaintextBytes: 1.5 })).rejects.toHaveProperty('code', 'ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  it('bounds the number of contexts held (least recently used evicted and zeroed)', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxEntries: 2 } });
    await keyring.wrap({ context: { t: 'a' } });
    await keyring.wrap({ context: { t: 'b' } });
    await keyring.wrap({ context: { t: 'a' } }); // a is now the most recent
    await keyring.wrap({ context: { t: 'c' } }); // evicts b
    expect(keyring.stats().wrap.entries).toBe(2);
    expect(isZero(inner.issued[1]!)).toBe(true);
    expect(isZero(inner.issued[0]!)).toBe(false);
    await keyring.wrap({ context: { t: 'a' } });
    expect(inner.wraps).toBe(3);
    await keyring.wrap({ context: { t: 'b' } });
    expect(inner.wraps).toBe(4);
  });

  it('a caller zeroing its copy does not touch the cache', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const r1 = await keyring.wrap({ context: ctx });
    const before = hex(r1.dataKey);
    r1.dataKey.fill(0);
    r1.wrapped[0]!.ciphertext.fill(0);
    const r2 = await keyring.wrap({ context: ctx });
    expect(hex(r2.dataKey)).toBe(before);
    expect(isZero(r2.wrapped[0]!.ciphertext)).toBe(false);
    expect(await inner.inner.unwrap({ wrapped: r2.wrapped, context: ctx })).toEqual(r2.dataKey);
  });

  it('passes a wrap with a given data key straight through', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const dataKey = crypto.getRandomValues(new Uint8Array(32));
    await keyring.wrap({ dataKey, context: ctx });
    await keyring.wrap({ dataKey, context: ctx });
    expect(inner.wraps).toBe(2);
    expect(keyring.stats().wrap).toMatchObject({ bypassed: 2, hits: 0, misses: 0, entries: 0 });
  });

  it('encrypt: false never reuses a data key', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner, encrypt: false });
    const a = await keyring.wrap({ context: ctx });
    const b = await keyring.wrap({ context: ctx });
    expect(hex(a.dataKey)).not.toBe(hex(b.dataKey));
    expect(inner.wraps).toBe(2);
  });

  it('a failing inner call fails every coalesced waiter once, and is not cached', async () => {
    const inner = await CountingKeyring.create(10);
    const keyring = new CachingKeyring({ keyring: inner });
    inner.failNext = 1;
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => keyring.wrap({ context: ctx })));
    expect(inner.wraps).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'KMS throttled')).toBe(true);
    expect(keyring.stats().wrap).toMatchObject({ innerErrors: 1, entries: 0 });
    await keyring.wrap({ context: ctx });
    expect(inner.wraps).toBe(2);
  });

  it('refuses to cache what a broken inner keyring returns', async () => {
    const short: Keyring = { wrap: async () => ({ dataKey: new Uint8Array(16), wrapped: [{ provider: 'x', keyId: 'k', ciphertext: new Uint8Array(1) }] }), unwrap: async () => new Uint8Array(31) };
    const keyring = new CachingKeyring({ keyring: short });
    expect((await rejection(keyring.wrap({ context: ctx }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect((await rejection(keyring.unwrap({ wrapped: [{ provider: 'x', keyId: 'k', ciphertext: new Uint8Array(1) }], context: ctx }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    const noWrapped: Keyring = { wrap: async () => ({ dataKey: new Uint8Array(32), wrapped: [] }), unwrap: async () => new Uint8Array(32) };
    expect((await rejection(new CachingKeyring({ keyring: noWrapped }).wrap({ context: ctx }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect(new CachingKeyring({ keyring: short }).stats().wrap.entries).toBe(0);
  });
});

describe('CachingKeyring: decrypt side', () => {
  it('caches by wrapped keys plus context: 100 documents under one cached data key cost one inner unwrap', async () => {
    const inner = await CountingKeyring.create(0);
    const sealer = new CachingKeyring({ keyring: inner });
    const sealed = [];
    for (let i = 0; i < 100; i++) sealed.push(await encrypt({ n: i, ssn: `s${i}` }, { keyring: sealer, paths: ['$.ssn'], context: ctx }));
    const opener = new CachingKeyring({ keyring: inner });
    for (let i = 0; i < 100; i++) expect(await decrypt(sealed[i]!, { keyring: opener, context: ctx })).toEqual({ n: i, ssn: `s${i}` });
    expect(inner.unwraps).toBe(1);
    expect(opener.stats().unwrap).toMatchObject({ hits: 99, misses: 1, innerCalls: 1, entries: 1 });
  });

  it('64 concurrent unwraps on a cold cache make one inner call', async () => {
    const inner = await CountingKeyring.create(20);
    const { dataKey, wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner });
    const keys = await Promise.all(Array.from({ length: 64 }, () => keyring.unwrap({ wrapped, context: ctx })));
    expect(inner.unwraps).toBe(1);
    expect(keys.every((k) => hex(k) === hex(dataKey))).toBe(true);
    expect(new Set(keys).size).toBe(64);
    expect(keyring.stats().unwrap).toMatchObject({ misses: 1, coalesced: 63 });
  });

  it('a cached key is not served for another context: the inner keyring decides, and refuses', async () => {
    const inner = await CountingKeyring.create(0);
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner });
    await keyring.unwrap({ wrapped, context: ctx });
    const err = await rejection(keyring.unwrap({ wrapped, context: { tenant: 't2' } }));
    expect(err.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    const err2 = await rejection(keyring.unwrap({ wrapped, context: { ...ctx, rowId: '1' } }));
    expect(err2.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(inner.unwraps).toBe(3);
  });

  it('a changed byte of a wrapped key, provider or key id is a different entry', async () => {
    const inner = await CountingKeyring.create(0);
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner });
    await keyring.unwrap({ wrapped, context: ctx });
    const w = wrapped[0]!;
    const flipped = w.ciphertext.slice();
    flipped[flipped.length - 1]! ^= 1;
    for (const variant of [{ ...w, ciphertext: flipped }, { ...w, keyId: w.keyId + 'x' }, { ...w, provider: 'rsa' }]) {
      expect((await rejection(keyring.unwrap({ wrapped: [variant], context: ctx }))).code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    }
    expect(inner.unwraps).toBe(4);
    // Adding a wrapped key to the group is a different group, too.
    await keyring.unwrap({ wrapped: [w, { ...w, keyId: 'other/v1' }], context: ctx });
    expect(inner.unwraps).toBe(5);
  });

  it('large requests (indexed by a keyed HMAC, not verbatim) still hit, and a changed byte is a different entry', async () => {
    const inner = await CountingKeyring.create(0);
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner });
    // A 6,000-byte foreign wrapped key pushes the request past the verbatim-index size.
    const bulky = { provider: 'aws-kms', keyId: 'arn:other', ciphertext: new Uint8Array(6000).fill(3) };
    const request = { wrapped: [bulky, wrapped[0]!], context: ctx };
    const a = await keyring.unwrap(request);
    const b = await keyring.unwrap({ wrapped: [{ ...bulky, ciphertext: bulky.ciphertext.slice() }, wrapped[0]!], context: { ...ctx } });
    expect(hex(a)).toBe(hex(b));
    expect(inner.unwraps).toBe(1);
    const changed = bulky.ciphertext.slice();
    changed[5999] = 4;
    await keyring.unwrap({ wrapped: [{ ...bulky, ciphertext: changed }, wrapped[0]!], context: ctx });
    expect(inner.unwraps).toBe(2);
    // The verbatim and hashed index spaces never meet: the small request is its own entry.
    await keyring.unwrap({ wrapped: [wrapped[0]!], context: ctx });
    expect(inner.unwraps).toBe(3);
    expect(keyring.stats().unwrap.entries).toBe(3);
  });

  it('expires entries after maxAgeMs and zeroes them', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner, decrypt: { maxAgeMs: 1000 }, now: c.now });
    await keyring.unwrap({ wrapped, context: ctx });
    c.t += 999;
    await keyring.unwrap({ wrapped, context: ctx });
    expect(inner.unwraps).toBe(1);
    c.t += 1;
    await keyring.unwrap({ wrapped, context: ctx });
    expect(inner.unwraps).toBe(2);
    expect(isZero(inner.issued[0]!)).toBe(true);
  });

  it('is LRU bounded', async () => {
    const inner = await CountingKeyring.create(0);
    const groups = await Promise.all([0, 1, 2].map(() => inner.inner.wrap({ context: ctx })));
    const keyring = new CachingKeyring({ keyring: inner, decrypt: { maxEntries: 2 } });
    const get = (i: number) => keyring.unwrap({ wrapped: groups[i]!.wrapped, context: ctx });
    await get(0);
    await get(1);
    await get(0);
    await get(2); // evicts 1
    expect(inner.unwraps).toBe(3);
    expect(isZero(inner.issued[1]!)).toBe(true);
    await get(0);
    await get(2);
    expect(inner.unwraps).toBe(3);
    await get(1);
    expect(inner.unwraps).toBe(4);
    expect(keyring.stats().unwrap.entries).toBe(2);
  });

  it('does not cache failures', async () => {
    const inner = await CountingKeyring.create(0);
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner });
    inner.failNext = 1;
    await expect(keyring.unwrap({ wrapped, context: ctx })).rejects.toThrow('KMS throttled');
    await keyring.unwrap({ wrapped, context: ctx });
    expect(inner.unwraps).toBe(2);
  });

  it('decrypt: false always asks the inner keyring', async () => {
    const inner = await CountingKeyring.create(0);
    const { wrapped } = await inner.inner.wrap({ context: ctx });
    const keyring = new CachingKeyring({ keyring: inner, decrypt: false });
    await keyring.unwrap({ wrapped, context: ctx });
    await keyring.unwrap({ wrapped, context: ctx });
    expect(inner.unwraps).toBe(2);
  });

  it('rejects malformed wrap requests with a typed error', async () => {
    const keyring = new CachingKeyring({ keyring: await CountingKeyring.create(0) });
    for (const bad of [null, 'x', { context: null }, { context: { a: 1 } }]) {
      expect((await rejection(keyring.wrap(bad as unknown as WrapRequest))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    }
  });

  it('rejects malformed unwrap requests with a typed error', async () => {
    const keyring = new CachingKeyring({ keyring: await CountingKeyring.create(0) });
    for (const bad of [null, {}, { wrapped: 'x', context: ctx }, { wrapped: [{ provider: 'local' }], context: ctx }, { wrapped: [], context: { a: 1 } }]) {
      expect((await rejection(keyring.unwrap(bad as unknown as UnwrapRequest))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    }
  });
});

describe('CachingKeyring: observability and lifecycle', () => {
  it('delivers events to onEvent and subscribers; unsubscribing stops them; a throwing listener breaks nothing', async () => {
    const inner = await CountingKeyring.create(0);
    const seen: string[] = [];
    const keyring = new CachingKeyring({
      keyring: inner,
      onEvent: (e) => {
        seen.push(`${e.operation}:${e.type}`);
        throw new Error('listener bug');
      },
    });
    const sub: CachingKeyringEvent[] = [];
    const off = keyring.subscribe((e) => sub.push(e));
    const { wrapped } = await keyring.wrap({ context: ctx });
    await keyring.wrap({ context: ctx });
    await keyring.unwrap({ wrapped, context: ctx });
    await keyring.unwrap({ wrapped, context: ctx });
    off();
    await keyring.wrap({ context: ctx });
    expect(seen).toEqual(['wrap:miss', 'wrap:hit', 'unwrap:miss', 'unwrap:hit', 'wrap:hit']);
    expect(sub.map((e) => e.type)).toEqual(['miss', 'hit', 'miss', 'hit']);
    expect(JSON.stringify(sub)).not.toMatch(/[0-9a-f]{64}/);
    expect(() => keyring.subscribe('x' as unknown as () => void)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it('clear() zeroes and drops every cached key', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const { wrapped } = await keyring.wrap({ context: ctx });
    await keyring.unwrap({ wrapped, context: ctx });
    keyring.clear();
    expect(inner.issued.every(isZero)).toBe(true);
    expect(keyring.stats().wrap.entries + keyring.stats().unwrap.entries).toBe(0);
    expect(keyring.stats().wrap.evictions + keyring.stats().unwrap.evictions).toBe(2);
    await keyring.wrap({ context: ctx });
    expect(inner.wraps).toBe(2);
  });

  it('sweeps expired keys of other contexts when it inserts', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxAgeMs: 100 }, now: c.now });
    await keyring.wrap({ context: { t: 'a' } });
    c.t += 100;
    await keyring.wrap({ context: { t: 'b' } });
    expect(isZero(inner.issued[0]!)).toBe(true);
    expect(keyring.stats().wrap.entries).toBe(1);
  });

  it('a sweep that keeps younger keys still evicts each of them once it expires (encrypt side)', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxAgeMs: 100 }, now: c.now });
    await keyring.wrap({ context: { t: 'a' } }); // created at +0
    c.t += 50;
    await keyring.wrap({ context: { t: 'b' } }); // created at +50
    c.t += 50;
    await keyring.wrap({ context: { t: 'c' } }); // +100: a expires, b stays
    expect(inner.issued.map(isZero)).toEqual([true, false, false]);
    c.t += 20;
    // A hit re-orders the cache (least recently used last) but never makes a key younger.
    await keyring.wrap({ context: { t: 'b' } });
    await keyring.wrap({ context: { t: 'd' } }); // +120: nothing expired yet
    expect(inner.issued.map(isZero)).toEqual([true, false, false, false]);
    c.t += 30;
    await keyring.wrap({ context: { t: 'e' } }); // +150: b expires
    expect(inner.issued.map(isZero)).toEqual([true, true, false, false, false]);
    expect(keyring.stats().wrap.entries).toBe(3);
    keyring.clear();
    c.t += 1000;
    await keyring.wrap({ context: { t: 'f' } }); // after clear(): an empty cache, nothing to sweep
    expect(keyring.stats().wrap.entries).toBe(1);
  });

  it('a sweep that keeps younger keys still evicts each of them once it expires (decrypt side)', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const keyring = new CachingKeyring({ keyring: inner, encrypt: false, decrypt: { maxAgeMs: 100 }, now: c.now });
    const sealed = await Promise.all(['a', 'b', 'c', 'd'].map((t) => inner.wrap({ context: { t } })));
    inner.issued.length = 0;
    await keyring.unwrap({ wrapped: sealed[0]!.wrapped, context: { t: 'a' } }); // +0
    c.t += 50;
    await keyring.unwrap({ wrapped: sealed[1]!.wrapped, context: { t: 'b' } }); // +50
    c.t += 50;
    await keyring.unwrap({ wrapped: sealed[2]!.wrapped, context: { t: 'c' } }); // +100: a expires
    expect(inner.issued.map(isZero)).toEqual([true, false, false]);
    c.t += 50;
    await keyring.unwrap({ wrapped: sealed[3]!.wrapped, context: { t: 'd' } }); // +150: b expires
    expect(inner.issued.map(isZero)).toEqual([true, true, false, false]);
    expect(keyring.stats().unwrap).toMatchObject({ entries: 2, evictions: 2 });
  });

  it('hands every listener the same frozen event, so one listener cannot change what the next sees', async () => {
    const inner = await CountingKeyring.create(0);
    const seen: CachingKeyringEvent[] = [];
    const keyring = new CachingKeyring({
      keyring: inner,
      onEvent: (e) => {
        (e as { type: string }).type = 'tampered';
      },
    });
    keyring.subscribe((e) => seen.push(e));
    await keyring.wrap({ context: ctx });
    await keyring.wrap({ context: ctx });
    expect(seen.map((e) => [e.type, e.operation])).toEqual([
      ['miss', 'wrap'],
      ['hit', 'wrap'],
    ]);
    expect(seen.every((e) => Object.isFrozen(e))).toBe(true);
  });

  it('answers cache hits without a keyring call, but never past the limits, and counts them as hits', async () => {
    const inner = await CountingKeyring.create(0);
    const c = clock();
    const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxDocuments: 3, maxAgeMs: 1000 }, decrypt: { maxAgeMs: 1000 }, now: c.now });
    const sealed = [];
    for (let i = 0; i < 4; i++) sealed.push(await encrypt({ a: String(i) }, { keyring, paths: ['$.a'], context: ctx }));
    // maxDocuments 3: the fourth document got a new data key.
    expect(inner.wraps).toBe(2);
    expect(keyring.stats().wrap).toMatchObject({ hits: 2, misses: 2 });
    for (const s of sealed) await decrypt(s, { keyring, context: ctx });
    expect(inner.unwraps).toBe(2);
    expect(keyring.stats().unwrap).toMatchObject({ hits: 2, misses: 2 });
    // Expired: the cached key is not used, the inner keyring is asked again.
    c.t += 1000;
    expect(await decrypt(sealed[0]!, { keyring, context: ctx })).toEqual({ a: '0' });
    expect(inner.unwraps).toBe(3);
    await encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: ctx });
    expect(inner.wraps).toBe(3);
  });

  it('a cache hit still has the caller\'s signal checked, and the document\'s MAC and fields verified', async () => {
    const inner = await CountingKeyring.create(0);
    const keyring = new CachingKeyring({ keyring: inner });
    const sealed = await encrypt({ a: 'secret', b: 'other' }, { keyring, paths: ['$.a', '$.b'], context: ctx });
    await decrypt(sealed, { keyring, context: ctx });
    const aborted = AbortSignal.abort();
    expect((await rejection(decrypt(sealed, { keyring, context: ctx, signal: aborted }))).code).toBe('ERR_FIELDSEAL_ABORTED');
    expect((await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: ctx, signal: aborted }))).code).toBe('ERR_FIELDSEAL_ABORTED');
    // Fields swapped under the same (cached) data key: their AADs bind the pointers.
    expect((await rejection(decrypt({ ...sealed, a: sealed.b, b: sealed.a }, { keyring, context: ctx }))).code).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // The header MAC flipped (the wrapped key, and so the cache entry, unchanged): refused.
    const header = Buffer.from((sealed._fieldseal as string).slice('fs1h.'.length), 'base64url');
    header[header.length - 1]! ^= 1;
    const forged = { ...sealed, _fieldseal: 'fs1h.' + header.toString('base64url') };
    expect((await rejection(decrypt(forged, { keyring, context: ctx }))).code).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(inner.unwraps).toBe(1);
    expect(keyring.stats().unwrap.hits).toBe(2);
  });

  it('a subclass or an instance that overrides wrap/unwrap is called, cache hit or not', async () => {
    const inner = await CountingKeyring.create(0);
    const calls: string[] = [];
    class Audited extends CachingKeyring {
      override async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
        calls.push('unwrap');
        return super.unwrap(request);
      }
    }
    const audited = new Audited({ keyring: inner });
    const sealed = await encrypt({ a: '1' }, { keyring: audited, paths: ['$.a'], context: ctx });
    await decrypt(sealed, { keyring: audited, context: ctx });
    await decrypt(sealed, { keyring: audited, context: ctx });
    expect(calls).toEqual(['unwrap', 'unwrap']);
    const patched = new CachingKeyring({ keyring: inner });
    const original = patched.wrap.bind(patched);
    patched.wrap = async (request) => {
      calls.push('wrap');
      return original(request);
    };
    await encrypt({ a: '1' }, { keyring: patched, paths: ['$.a'], context: ctx });
    await encrypt({ a: '2' }, { keyring: patched, paths: ['$.a'], context: ctx });
    expect(calls.slice(2)).toEqual(['wrap', 'wrap']);
    expect(patched.stats().wrap).toMatchObject({ hits: 1, misses: 1 });
  });

  it('rejects bad options with a typed error', () => {
    const k = { wrap: async () => ({}) as WrapResult, unwrap: async () => new Uint8Array(32) };
    const bad: unknown[] = [
      undefined,
      {},
      { keyring: {} },
      { keyring: k, encrypt: { maxDocuments: 0 } },
      { keyring: k, encrypt: { maxDocuments: 1.5 } },
      { keyring: k, encrypt: { maxAgeMs: -1 } },
      { keyring: k, encrypt: { maxAgeMs: Infinity } },
      { keyring: k, encrypt: { maxBytes: '10' } },
      { keyring: k, decrypt: { maxEntries: 0 } },
      { keyring: k, onEvent: 'x' },
      { keyring: k, now: 5 },
    ];
    for (const options of bad) {
      expect(() => new CachingKeyring(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    }
  });
});

describe('CachingKeyring: server-side re-wrap', () => {
  it('passes rewrapInService through to an inner keyring that offers it, and answers undefined otherwise', async () => {
    const local = await LocalKeyring.generate({ name: 'svc' });
    let calls = 0;
    const capable = {
      wrap: (r: WrapRequest) => local.wrap(r),
      unwrap: (r: UnwrapRequest) => local.unwrap(r),
      async rewrapInService(r: UnwrapRequest) {
        calls += 1;
        return r.wrapped.map((w) => ({ ...w, keyId: `${w.keyId}+rewrapped` }));
      },
    };
    const { wrapped } = await local.wrap({ context: ctx });
    const out = await new CachingKeyring({ keyring: capable }).rewrapInService({ wrapped, context: ctx });
    expect(calls).toBe(1);
    expect(out?.[0]?.keyId).toBe(`${wrapped[0]!.keyId}+rewrapped`);
    expect(await new CachingKeyring({ keyring: local }).rewrapInService({ wrapped, context: ctx })).toBeUndefined();
  });
});
