/**
 * Issue 14 items 4 and 5, issue 23 items 5 and 9: encrypt no longer trusts keyrings blindly, every
 * keyring call has a deadline and honours an AbortSignal, limits cannot overflow the format,
 * `fieldseal.` context keys are reserved for documents, and a hostile header cannot make one decrypt
 * call a key service once per wrapped-key entry.
 */
import { describe, expect, test } from 'vitest';
import {
  BeaconKey,
  CachingKeyring,
  decrypt,
  encrypt,
  FieldsealError,
  inspect,
  LocalKeyring,
  MultiKeyring,
  ProviderError,
  reencrypt,
  rewrap,
  RsaKeyring,
  type JsonObject,
  type Keyring,
  type UnwrapRequest,
  type WrapRequest,
  type WrapResult,
  type WrappedKey,
} from '@fieldseal/core';
import { encodeHeaderBody } from '../src/lib/format/header.js';
import { contextEntries } from '../src/lib/context.js';

async function rejection(p: Promise<unknown>): Promise<FieldsealError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return err as FieldsealError;
  }
  throw new Error('expected a rejection, got a result');
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A keyring that delegates to `inner` and lets a test rewrite what wrap returns. */
function tamperingKeyring(inner: Keyring, edit: (r: WrapResult) => WrapResult | Promise<WrapResult>): Keyring {
  return {
    wrap: async (req) => edit(await inner.wrap(req)),
    unwrap: (req) => inner.unwrap(req),
  };
}

describe('issue 14.4: encrypt does not trust what a keyring returns', () => {
  test('(a) a wrapped key whose bytes contain the data key is refused', async () => {
    const inner = await LocalKeyring.generate();
    let leaked: Uint8Array | undefined;
    for (const place of ['whole', 'inside'] as const) {
      const keyring = tamperingKeyring(inner, (r) => {
        leaked = r.dataKey.slice();
        const ciphertext = place === 'whole' ? r.dataKey.slice() : Uint8Array.from([1, 2, 3, ...r.dataKey, 4, 5]);
        return { dataKey: r.dataKey, wrapped: [...r.wrapped, { provider: 'noop', keyId: 'k', ciphertext }] };
      });
      const err = await rejection(encrypt({ ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'] }));
      expect(err.code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(err.message).toMatch(/contains the data key/);
      expect(err.message).not.toContain(hex(leaked!));
    }
  });

  test('(b) a keyring that reuses or keeps its returned buffers cannot corrupt a document', async () => {
    const inner = await LocalKeyring.generate();
    // Returns the same data key buffer and the same ciphertext buffer every time and scribbles over
    // them after a tick (a keyring with a naive cache, or one that zeroes "its" key after use).
    let cached: WrapResult | undefined;
    const reusing: Keyring = {
      async wrap(req) {
        cached ??= await inner.wrap(req);
        const r = cached;
        setTimeout(() => r.wrapped[0]!.ciphertext.fill(7), 0);
        return r;
      },
      unwrap: (req) => inner.unwrap(req),
    };
    const doc = { ssn: '078-05-1120' };
    const first = await encrypt(doc, { keyring: reusing, paths: ['$.ssn'] });
    await new Promise((r) => setTimeout(r, 5));
    // The header kept its own copy of the wrapped key, and encrypt zeroed only its own copy of the data key.
    expect(await decrypt(first, { keyring: inner })).toEqual(doc);
    // A second document from the same reused buffers: the data key buffer was zeroed by the first
    // encrypt (the caller owns it), so this is refused instead of sealed under an all-zero key.
    expect((await rejection(encrypt(doc, { keyring: reusing, paths: ['$.ssn'] }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    // Zeroed after it came back: encrypt already holds its own copy.
    const zeroingLater: Keyring = {
      async wrap(req) {
        const r = await inner.wrap(req);
        setTimeout(() => r.dataKey.fill(0), 0);
        return r;
      },
      unwrap: (req) => inner.unwrap(req),
    };
    const second = await encrypt(doc, { keyring: zeroingLater, paths: ['$.ssn'] });
    await new Promise((r) => setTimeout(r, 5));
    expect(await decrypt(second, { keyring: inner })).toEqual(doc);
    // Zeroed before encrypt could read it: a typed refusal, not a document sealed under zeros.
    const zeroingFirst: Keyring = {
      async wrap(req) {
        const r = await inner.wrap(req);
        queueMicrotask(() => r.dataKey.fill(0));
        return r;
      },
      unwrap: (req) => inner.unwrap(req),
    };
    expect((await rejection(encrypt(doc, { keyring: zeroingFirst, paths: ['$.ssn'] }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('(b) an all-zero data key (a buffer zeroed before it came back) is refused', async () => {
    const inner = await LocalKeyring.generate();
    const keyring = tamperingKeyring(inner, (r) => ({ dataKey: new Uint8Array(32), wrapped: r.wrapped }));
    expect((await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'] }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('(b) a wrapped key whose getters answer differently on each read is read once', async () => {
    const inner = await LocalKeyring.generate();
    const keyring = tamperingKeyring(inner, (r) => {
      const real = r.wrapped[0]!;
      let reads = 0;
      const w = {
        provider: real.provider,
        keyId: real.keyId,
        get ciphertext() {
          reads++;
          return reads === 1 ? real.ciphertext : new Uint8Array(0);
        },
      } as WrappedKey;
      return { dataKey: r.dataKey, wrapped: [w] };
    });
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'] });
    expect(await decrypt(sealed, { keyring: inner })).toEqual({ a: 'x' });
  });

  test('(c) a sparse or non-array wrapped list gives a typed error, directly and through MultiKeyring', async () => {
    const inner = await LocalKeyring.generate();
    const lists: unknown[] = [
      // eslint-disable-next-line no-sparse-arrays
      (r: WrapResult) => [r.wrapped[0], , r.wrapped[0]],
      () => 'not a list',
      () => ({ length: 1, 0: null }),
      () => null,
      (r: WrapResult) => new Proxy([r.wrapped[0]], { get: (t, p) => (p === 'length' ? 2 ** 32 - 1 : Reflect.get(t, p)) }),
    ];
    for (const make of lists as ((r: WrapResult) => unknown)[]) {
      const bad = tamperingKeyring(inner, (r) => ({ dataKey: r.dataKey, wrapped: make(r) as WrappedKey[] }));
      expect((await rejection(encrypt({ a: 'x' }, { keyring: bad, paths: ['$.a'] }))).code).toMatch(/^ERR_FIELDSEAL_(INVALID_ARGUMENT|LIMIT_EXCEEDED)$/);
      const multiFirst = new MultiKeyring([bad, inner]);
      expect((await rejection(encrypt({ a: 'x' }, { keyring: multiFirst, paths: ['$.a'] }))).code).toMatch(/^ERR_FIELDSEAL_/);
      const multiSecond = new MultiKeyring([inner, bad]);
      expect((await rejection(encrypt({ a: 'x' }, { keyring: multiSecond, paths: ['$.a'] }))).code).toMatch(/^ERR_FIELDSEAL_/);
    }
  });

  test('(c) a MultiKeyring child that modifies the data key it was given cannot corrupt the generator\'s wrap', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const scribbler: Keyring = {
      async wrap(req) {
        const r = await b.wrap(req);
        req.dataKey?.fill(9);
        return r;
      },
      unwrap: (req) => b.unwrap(req),
    };
    const sealed = await encrypt({ a: 'x' }, { keyring: new MultiKeyring([a, scribbler]), paths: ['$.a'] });
    expect(await decrypt(sealed, { keyring: a })).toEqual({ a: 'x' });
  });

  test('(d) errors thrown by wrap and unwrap are typed and keep their cause', async () => {
    const inner = await LocalKeyring.generate();
    const boom = new Error('wrap exploded');
    const throwing: Keyring = {
      wrap: () => Promise.reject(boom),
      unwrap: () => {
        throw new TypeError('unwrap exploded synchronously');
      },
    };
    const err = await rejection(encrypt({ a: 'x' }, { keyring: throwing, paths: ['$.a'] }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.code).toBe('ERR_FIELDSEAL_PROVIDER');
    expect(err.cause).toBe(boom);
    expect((err as ProviderError).retryable).toBe(false);
    // A synchronous throw, and a non-promise return value, are typed too.
    const syncThrow: Keyring = { wrap: () => { throw 'a string'; }, unwrap: inner.unwrap.bind(inner) };
    expect((await rejection(encrypt({ a: 'x' }, { keyring: syncThrow, paths: ['$.a'] }))).cause).toBe('a string');
    const sealed = await encrypt({ a: 'x' }, { keyring: inner, paths: ['$.a'] });
    const uerr = await rejection(decrypt(sealed, { keyring: throwing }));
    expect(uerr.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('(e) a keyring that never settles times out with a typed, retryable error (encrypt, decrypt, rewrap, reencrypt)', async () => {
    const inner = await LocalKeyring.generate();
    const seen: (AbortSignal | undefined)[] = [];
    const hanging: Keyring = {
      wrap: (req) => {
        seen.push(req.signal);
        return new Promise(() => {});
      },
      unwrap: (req) => {
        seen.push(req.signal);
        return new Promise(() => {});
      },
    };
    const opts = { keyringTimeoutMs: 50 };
    const e1 = await rejection(encrypt({ a: 'x' }, { keyring: hanging, paths: ['$.a'], ...opts }));
    expect(e1).toBeInstanceOf(ProviderError);
    expect((e1 as ProviderError).retryable).toBe(true);
    expect((e1 as ProviderError).kind).toBe('unavailable');
    const sealed = await encrypt({ a: 'x' }, { keyring: inner, paths: ['$.a'] });
    expect(((await rejection(decrypt(sealed, { keyring: hanging, ...opts }))) as ProviderError).retryable).toBe(true);
    expect(((await rejection(rewrap(sealed, { keyring: hanging, to: inner, ...opts }))) as ProviderError).retryable).toBe(true);
    expect(((await rejection(rewrap(sealed, { keyring: inner, to: hanging, ...opts }))) as ProviderError).retryable).toBe(true);
    expect(((await rejection(reencrypt(sealed, { keyring: inner, to: hanging, ...opts }))) as ProviderError).retryable).toBe(true);
    // The keyring was told: every call got a signal, aborted once the deadline passed.
    expect(seen.length).toBe(5);
    for (const s of seen) {
      expect(s).toBeInstanceOf(AbortSignal);
      expect(s!.aborted).toBe(true);
    }
  });

  test('(e) keyringTimeoutMs is validated when given', async () => {
    const keyring = await LocalKeyring.generate();
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 31, '100', null]) {
      expect((await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], keyringTimeoutMs: bad as number }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect((await rejection(decrypt({ a: 'x' }, { keyring, keyringTimeoutMs: bad as number }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    }
    expect((await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], signal: {} as AbortSignal }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('(e) an AbortSignal stops encrypt, decrypt, rewrap and reencrypt, and reaches the keyring', async () => {
    const inner = await LocalKeyring.generate();
    const sealed = await encrypt({ a: 'x' }, { keyring: inner, paths: ['$.a'] });
    let seen: AbortSignal | undefined;
    const slow: Keyring = {
      wrap: (req) => {
        seen = req.signal;
        return new Promise(() => {});
      },
      unwrap: (req) => {
        seen = req.signal;
        return new Promise(() => {});
      },
    };
    const runs: ((signal: AbortSignal) => Promise<unknown>)[] = [
      (signal) => encrypt({ a: 'x' }, { keyring: slow, paths: ['$.a'], signal }),
      (signal) => decrypt(sealed, { keyring: slow, signal }),
      (signal) => rewrap(sealed, { keyring: slow, to: inner, signal }),
      (signal) => reencrypt(sealed, { keyring: inner, to: slow, signal }),
    ];
    for (const run of runs) {
      seen = undefined;
      const ac = new AbortController();
      const p = run(ac.signal);
      await new Promise((r) => setTimeout(r, 5));
      ac.abort(new Error('user cancelled'));
      const err = await rejection(p);
      expect(err.code).toBe('ERR_FIELDSEAL_ABORTED');
      expect(seen!.aborted).toBe(true);
    }
    // Already aborted: no keyring call at all.
    let calls = 0;
    const counting: Keyring = { wrap: (r) => (calls++, inner.wrap(r)), unwrap: (r) => (calls++, inner.unwrap(r)) };
    expect((await rejection(encrypt({ a: 'x' }, { keyring: counting, paths: ['$.a'], signal: AbortSignal.abort() }))).code).toBe('ERR_FIELDSEAL_ABORTED');
    expect((await rejection(decrypt(sealed, { keyring: counting, signal: AbortSignal.abort() }))).code).toBe('ERR_FIELDSEAL_ABORTED');
    expect(calls).toBe(0);
  });

  test('(e) core keyrings forward the signal: Multi to its children, Caching to waiters, Local and Rsa refuse an aborted one', async () => {
    const local = await LocalKeyring.generate();
    const rsa = await RsaKeyring.generate({ modulusLength: 2048 });
    const aborted = AbortSignal.abort(new Error('stop'));
    for (const k of [local, rsa]) {
      await expect(k.wrap({ context: {}, signal: aborted })).rejects.toThrow('stop');
      const { dataKey, wrapped } = await k.wrap({ context: {} });
      // The same unwrap succeeds without the signal, so the refusal is the signal's doing.
      expect(await k.unwrap({ wrapped, context: {} })).toEqual(dataKey);
      await expect(k.unwrap({ wrapped, context: {}, signal: aborted })).rejects.toThrow('stop');
    }
    let childSignal: AbortSignal | undefined;
    const child: Keyring = {
      wrap: (req) => ((childSignal = req.signal), local.wrap(req)),
      unwrap: (req) => ((childSignal = req.signal), local.unwrap(req)),
    };
    const ac = new AbortController();
    await new MultiKeyring([local, child]).wrap({ context: {}, signal: ac.signal });
    expect(childSignal).toBe(ac.signal);
    // A hung inner call does not poison a CachingKeyring: once every waiter gave up, the next call starts afresh.
    let hang = true;
    const flaky: Keyring = { wrap: (req) => (hang ? new Promise(() => {}) : local.wrap(req)), unwrap: (req) => local.unwrap(req) };
    const caching = new CachingKeyring({ keyring: flaky });
    const e = await rejection(encrypt({ a: 'x' }, { keyring: caching, paths: ['$.a'], keyringTimeoutMs: 30 }));
    expect((e as ProviderError).retryable).toBe(true);
    hang = false;
    const sealed = await encrypt({ a: 'x' }, { keyring: caching, paths: ['$.a'], keyringTimeoutMs: 1_000 });
    expect(await decrypt(sealed, { keyring: local })).toEqual({ a: 'x' });
  });
});

describe('issue 14.5: limits cannot overflow the format', () => {
  test('limits above what a header field can hold are refused when given', async () => {
    const keyring = await LocalKeyring.generate();
    for (const limits of [{ maxContextPairs: 65_536 }, { maxContextPairs: 100_000 }, { maxFields: 2 ** 32 }, { maxGroups: 256 }, { maxWrappedKeys: 256 }]) {
      const err = await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], limits }));
      expect(err.code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect((await rejection(decrypt({ a: 'x' }, { keyring, limits }))).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    }
  });

  test('65,535 context pairs are the most a document holds, and it opens and inspects', async () => {
    const keyring = await LocalKeyring.generate();
    const context: Record<string, string> = {};
    for (let i = 0; i < 65_535; i++) context[`k${i}`] = '';
    const limits = { maxContextPairs: 65_535, maxHeaderBytes: 4 * 1024 * 1024 };
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context, limits });
    expect(inspect(sealed, { limits }).context).toEqual(context);
    expect(await decrypt(sealed, { keyring, limits })).toEqual({ a: 'x' });
  });

  test('the header encoder range-checks every count it writes (a wrapped u16 would authenticate a different header)', () => {
    const stored = contextEntries({ a: 'b' }, 'context', 10);
    const base = { suite: 2, messageId: new Uint8Array(32), storedContext: stored, requiredKeys: [] as string[] };
    const group = { name: 'default', wrapped: [{ provider: 'local', keyId: 'k', ciphertext: new Uint8Array(1) }], commitment: new Uint8Array(32), pointers: ['/a'] };
    const many = Array.from({ length: 65_536 }, () => stored[0]!);
    expect(() => encodeHeaderBody({ ...base, storedContext: many, groups: [group] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
    expect(() => encodeHeaderBody({ ...base, requiredKeys: Array.from({ length: 65_536 }, (_, i) => `r${i}`), groups: [group] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
    expect(() => encodeHeaderBody({ ...base, groups: Array.from({ length: 256 }, () => group) })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
    expect(() => encodeHeaderBody({ ...base, groups: [{ ...group, wrapped: Array.from({ length: 256 }, () => group.wrapped[0]!) }] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
    expect(() => encodeHeaderBody({ ...base, groups: [{ ...group, name: 'n'.repeat(256) }] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
    expect(() => encodeHeaderBody({ ...base, groups: [{ ...group, wrapped: [{ ...group.wrapped[0]!, ciphertext: new Uint8Array(65_536) }] }] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' }));
  });
});

describe('issue 23.5: "fieldseal." context keys are reserved for documents', () => {
  test('encrypt refuses them in context and requiredContext; decrypt and rewrap refuse them as expected context', async () => {
    const keyring = await LocalKeyring.generate();
    for (const key of ['fieldseal.purpose', 'fieldseal.beacon-key-id', 'fieldseal.x']) {
      const c1 = await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: { [key]: 'beacon-root-key' } }));
      expect(c1.code).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
      const c2 = await rejection(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], requiredContext: { [key]: 'v' } }));
      expect(c2.code).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
      const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'] });
      expect((await rejection(decrypt(sealed, { keyring, context: { [key]: 'v' } }))).code).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
      expect((await rejection(rewrap(sealed, { keyring, to: keyring, context: { [key]: 'v' } }))).code).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
    }
  });

  test('a header that carries a beacon root-key wrap and its context is refused before any keyring call', async () => {
    const keyring = await LocalKeyring.generate();
    const { document: keyDoc } = await BeaconKey.generate({ keyring, context: { tenant: 't1' } });
    // An attacker who can write storage builds a header around the beacon key's wrapped root key,
    // with the context the root key was wrapped under.
    const wrapped = keyDoc.wrapped.map((w) => ({ provider: w.provider, keyId: w.keyId, ciphertext: new Uint8Array(Buffer.from(w.ciphertext, 'base64url')) }));
    const sealedField = (await encrypt({ a: 'x' }, { keyring, paths: ['$.a'] })).a as string;
    const stored = contextEntries({ tenant: 't1', 'fieldseal.purpose': 'beacon-root-key', 'fieldseal.beacon-key-id': keyDoc.id }, 'context', 10);
    const body = encodeHeaderBody({ suite: 2, messageId: new Uint8Array(32), storedContext: stored, requiredKeys: [], groups: [{ name: 'default', wrapped, commitment: new Uint8Array(32), pointers: ['/a'] }] });
    const header = 'fs1h.' + Buffer.concat([body, new Uint8Array(16)]).toString('base64url');
    let calls = 0;
    const counting: Keyring = { wrap: (r) => keyring.wrap(r), unwrap: (r) => (calls++, keyring.unwrap(r)) };
    const err = await rejection(decrypt({ a: sealedField, _fieldseal: header }, { keyring: counting }));
    expect(err.message).toMatch(/reserved/);
    expect(err.code).toBe('ERR_FIELDSEAL_MALFORMED');
    expect(calls).toBe(0);
    // The internal wraps themselves still work: the key document loads.
    const loaded = await BeaconKey.load(keyDoc, { keyring });
    expect(loaded.id).toBe(keyDoc.id);
  });
});

describe('issue 23.9: a hostile header cannot amplify key-service calls', () => {
  /** Stands in for a KMS keyring: one "service call" per wrapped key that names its key, as the provider keyrings loop. */
  function countingKms(local: LocalKeyring): Keyring & { calls: number } {
    const k = {
      calls: 0,
      wrap: (req: WrapRequest) => local.wrap(req),
      async unwrap(req: UnwrapRequest): Promise<Uint8Array> {
        for (const w of req.wrapped) {
          if (w.provider !== 'local') continue;
          k.calls++;
          try {
            return await local.unwrap({ ...req, wrapped: [w] });
          } catch {
            // next entry
          }
        }
        throw new Error('none');
      },
    };
    return k;
  }

  test('16 groups x 16 wrapped keys naming the configured key cost at most one call per group', async () => {
    const local = await LocalKeyring.generate();
    const doc: JsonObject = {};
    const groups = [];
    for (let g = 0; g < 16; g++) {
      doc[`f${g}`] = 'x';
      groups.push({ name: `g${g}`, keyring: local, paths: [`$.f${g}`] });
    }
    const sealed = await encrypt(doc, { groups });
    // Forge: every group lists 16 copies of a garbage wrapped key under the configured key id.
    const info = inspect(sealed);
    const keyId = info.groups[0]!.wrappedKeys[0]!.keyId;
    const garbage = { provider: 'local', keyId, ciphertext: new Uint8Array(60).fill(1) };
    const stored = contextEntries({}, 'context', 10);
    const body = encodeHeaderBody({
      suite: 2,
      messageId: new Uint8Array(32),
      storedContext: stored,
      requiredKeys: [],
      groups: info.groups.map((g) => ({ name: g.name, wrapped: Array.from({ length: 16 }, () => garbage), commitment: new Uint8Array(32), pointers: g.fields })),
    });
    const header = 'fs1h.' + Buffer.concat([body, new Uint8Array(16 * 16)]).toString('base64url');
    const kms = countingKms(local);
    const err = await rejection(decrypt({ ...sealed, _fieldseal: header }, { keyring: kms }));
    expect(err.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(kms.calls).toBeLessThanOrEqual(16);
    // A genuine document still opens with the same keyring.
    const genuine = countingKms(local);
    expect(await decrypt(sealed, { keyring: genuine })).toEqual(doc);
    expect(genuine.calls).toBe(16);
  });

  test('a legitimate multi-KEK group still opens with any one of its KEKs', async () => {
    const ks = await Promise.all(['a', 'b', 'c'].map((name) => LocalKeyring.generate({ name })));
    const sealed = await encrypt({ a: 'x' }, { keyring: new MultiKeyring(ks), paths: ['$.a'] });
    for (const k of ks) expect(await decrypt(sealed, { keyring: k })).toEqual({ a: 'x' });
  });
});
