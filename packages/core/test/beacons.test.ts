import { describe, expect, test } from 'vitest';
import {
  addBeacons,
  BeaconIndex,
  BeaconKey,
  beaconLengthBounds,
  computeBeacons,
  ContextMismatchError,
  decrypt,
  DecryptionFailedError,
  encrypt,
  InvalidArgumentError,
  InvalidSelectorError,
  KeyUnavailableError,
  LimitExceededError,
  LocalKeyring,
  MalformedError,
  UnsafeBeaconLengthError,
  UnsupportedVersionError,
  updateBeacons,
  verifyBeacons,
  type BeaconFieldOptions,
  type JsonObject,
  type Keyring,
} from '@fieldseal/core';

const rawKey = () => crypto.getRandomValues(new Uint8Array(32));
const email: BeaconFieldOptions = { path: '$.email', normalize: 'email', bits: 16, distinctValues: 1_000_000 };
const ssn: BeaconFieldOptions = { path: '$.ssn', normalize: 'ssn', bits: 16, distinctValues: 1_000_000 };

function indexWith(keys: BeaconKey | BeaconKey[], fields: Record<string, BeaconFieldOptions> = { email, ssn }) {
  return new BeaconIndex({ keys, fields });
}

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('beacon values', () => {
  test('equal values under a normalizer give equal beacons; different values differ', async () => {
    const index = indexWith(BeaconKey.import(rawKey(), { id: 'b1' }));
    const a = await index.beacon('email', 'alice@example.com');
    expect(a).toMatch(/^b1:[0-9a-f]{4}$/);
    for (const variant of ['  Alice@Example.COM ', 'ALICE@EXAMPLE.COM\n', '\uFEFFalice@example.com\u3000']) expect(await index.beacon('email', variant)).toBe(a);
    // NFC: a precomposed and a decomposed "é" are the same address.
    expect(await index.beacon('email', 'jos\u00e9@example.com')).toBe(await index.beacon('email', 'jose\u0301@example.com'));
    expect(await index.beacon('ssn', '123-45-6789')).toBe(await index.beacon('ssn', '123 45 6789'));
    expect(await index.beacon('ssn', '123-45-6789')).toBe(await index.beacon('ssn', '\uff11\uff12\uff13-45-6789')); // full-width digits
    // With 16 bits two given different values collide with probability 2^-16; check a few distinct ones.
    const others = await Promise.all(['bob@example.com', 'alice@example.org', 'alice@example.co'].map((v) => index.beacon('email', v)));
    expect(new Set([a, ...others]).size).toBe(4);
  });

  test('different fields give unrelated beacons for the same value', async () => {
    const fields = { a: { bits: 32, allowUnsafeLength: true }, b: { bits: 32, allowUnsafeLength: true } } as const;
    const index = new BeaconIndex({ keys: BeaconKey.import(rawKey(), { id: 'k' }), fields });
    let same = 0;
    for (let i = 0; i < 50; i++) if ((await index.beacon('a', `v${i}`)) === (await index.beacon('b', `v${i}`))) same++;
    expect(same).toBe(0);
  });

  test('a different root key gives different beacons; the same root key gives the same beacons', async () => {
    const bytes = rawKey();
    const one = indexWith(BeaconKey.import(bytes, { id: 'b1' }));
    const same = indexWith(BeaconKey.import(bytes, { id: 'b1' }));
    const other = indexWith(BeaconKey.import(rawKey(), { id: 'b1' }));
    const values = Array.from({ length: 20 }, (_, i) => `user${i}@example.com`);
    const b1 = await Promise.all(values.map((v) => one.beacon('email', v)));
    expect(await Promise.all(values.map((v) => same.beacon('email', v)))).toEqual(b1);
    const b2 = await Promise.all(values.map((v) => other.beacon('email', v)));
    // 16-bit beacons: a few coincidences are possible, 20 out of 20 are not.
    expect(b2.filter((b, i) => b === b1[i]).length).toBeLessThan(3);
  });

  test('hex width follows the bit length, and the value fits in it', async () => {
    const key = BeaconKey.import(rawKey(), { id: 'x' });
    for (const bits of [1, 3, 4, 7, 13, 32, 63, 64]) {
      const index = new BeaconIndex({ keys: key, fields: { f: { bits, allowUnsafeLength: true } } });
      for (let i = 0; i < 8; i++) {
        const digits = (await index.beacon('f', `value ${i}`)).split(':')[1]!;
        expect(digits).toHaveLength(Math.ceil(bits / 4));
        expect(BigInt(`0x${digits}`) < 2n ** BigInt(bits)).toBe(true);
      }
    }
  });

  test('the key id prefix survives rotation: writes under the new key, queries under both keys, old beacons unchanged', async () => {
    const oldKey = BeaconKey.import(rawKey(), { id: 'b1' });
    const newKey = BeaconKey.import(rawKey(), { id: 'b2' });
    const before = indexWith(oldKey);
    const during = indexWith([newKey, oldKey]);
    const after = indexWith(newKey);
    const v = 'carol@example.com';
    const oldBeacon = await before.beacon('email', v);
    const both = await during.beacons('email', v);
    expect(both).toHaveLength(2);
    expect(both[0]).toMatch(/^b2:/);
    expect(both[1]).toBe(oldBeacon);
    expect(await during.beacon('email', v)).toBe(both[0]);
    expect(await during.beacon('email', v, { keyId: 'b1' })).toBe(oldBeacon);
    expect(await after.beacon('email', v)).toBe(both[0]);
    const doc = await addBeacons({ email: v }, during);
    expect(doc.email_bidx).toBe(both[0]);
    await expect(during.beacon('email', v, { keyId: 'b3' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => indexWith([oldKey, BeaconKey.import(rawKey(), { id: 'b1' })])).toThrow(InvalidArgumentError);
  });

  test('index.equals filters false positives with the same normalizer', () => {
    const index = indexWith(BeaconKey.import(rawKey(), { id: 'b1' }));
    expect(index.equals('email', ' Dan@Example.com', 'dan@example.com')).toBe(true);
    expect(index.equals('email', 'dan@example.com', 'dana@example.com')).toBe(false);
    expect(index.normalize('ssn', '078-05-1120')).toBe('078051120');
  });

  test('a destroyed key computes no more beacons', async () => {
    const key = BeaconKey.import(rawKey(), { id: 'b1' });
    const index = indexWith(key);
    await index.beacon('email', 'a@example.com');
    key.destroy();
    await expect(index.beacon('email', 'a@example.com')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(JSON.stringify(key)).toBe('{"id":"b1"}');
  });
});

describe('beacon length bounds', () => {
  test('sqrt(X) < 2^N < X/2, computed exactly at the edges', () => {
    expect(beaconLengthBounds(10_000)).toEqual({ min: 7, max: 12 });
    expect(beaconLengthBounds(1_000_000)).toEqual({ min: 10, max: 18 });
    expect(beaconLengthBounds(16)).toBeUndefined();
    expect(beaconLengthBounds(17)).toEqual({ min: 3, max: 3 });
    // 2^N < X/2 is strict: X = 2^13 allows 2^11 < 4096 but not 2^12.
    expect(beaconLengthBounds(8192)!.max).toBe(11);
    expect(beaconLengthBounds(8193)!.max).toBe(12);
    // sqrt(X) < 2^N is strict: X = 2^14 needs N > 7.
    expect(beaconLengthBounds(16_384)!.min).toBe(8);
    expect(beaconLengthBounds(16_383)!.min).toBe(7);
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53, '100' as unknown as number]) expect(() => beaconLengthBounds(bad)).toThrow(InvalidArgumentError);
  });

  test('the index refuses lengths outside the bounds with a typed error, unless overridden', () => {
    const key = BeaconKey.import(rawKey(), { id: 'b1' });
    const make = (f: BeaconFieldOptions) => new BeaconIndex({ keys: key, fields: { f } });
    for (const bits of [6, 13, 32]) {
      const err = captureError(() => make({ bits, distinctValues: 10_000 }));
      expect(err).toBeInstanceOf(UnsafeBeaconLengthError);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as UnsafeBeaconLengthError).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect((err as UnsafeBeaconLengthError).bounds).toEqual({ min: 7, max: 12 });
    }
    for (const bits of [7, 12]) expect(() => make({ bits, distinctValues: 10_000 })).not.toThrow();
    expect(() => make({ bits: 32, distinctValues: 10_000, allowUnsafeLength: true })).not.toThrow();
    expect(captureError(() => make({ bits: 2, distinctValues: 2 }))).toBeInstanceOf(UnsafeBeaconLengthError);
    // Without distinctValues nothing can be checked: refused unless overridden.
    expect(() => make({ bits: 12 })).toThrow(InvalidArgumentError);
    // Outside what the format can encode: refused even with the override.
    for (const bits of [0, 65, 12.5, NaN]) expect(() => make({ bits, allowUnsafeLength: true })).toThrow(InvalidArgumentError);
  });
});

describe('configuration errors', () => {
  const key = BeaconKey.import(rawKey(), { id: 'b1' });
  test.each([
    ['bad field name', { 'a b': { bits: 8, allowUnsafeLength: true } }, InvalidArgumentError],
    ['unknown step', { f: { bits: 8, allowUnsafeLength: true, normalize: ['upper' as never] } }, InvalidArgumentError],
    ['unknown preset', { f: { bits: 8, allowUnsafeLength: true, normalize: 'nope' as never } }, InvalidArgumentError],
    ['empty steps', { f: { bits: 8, allowUnsafeLength: true, normalize: [] } }, InvalidArgumentError],
    ['filter path', { f: { bits: 8, allowUnsafeLength: true, path: '$.a[?(@.x)]' } }, InvalidSelectorError],
    ['path ending in an index', { f: { bits: 8, allowUnsafeLength: true, path: '$.a[0]' } }, InvalidSelectorError],
    ['path ending in a wildcard', { f: { bits: 8, allowUnsafeLength: true, path: '$.a.*' } }, InvalidSelectorError],
    ['target equal to source', { f: { bits: 8, allowUnsafeLength: true, path: '$.a', target: 'a' } }, InvalidArgumentError],
    ['target without path', { f: { bits: 8, allowUnsafeLength: true, target: 'a' } }, InvalidArgumentError],
    ['two fields, one target', { f: { bits: 8, allowUnsafeLength: true, path: '$.a', target: 't' }, g: { bits: 8, allowUnsafeLength: true, path: '$.b', target: 't' } }, InvalidArgumentError],
    ['target overwriting another source', { f: { bits: 8, allowUnsafeLength: true, path: '$.a', target: 'b' }, g: { bits: 8, allowUnsafeLength: true, path: '$.b' } }, InvalidArgumentError],
    ['no fields', {}, InvalidArgumentError],
  ] as const)('%s', (_name, fields, type) => {
    expect(() => new BeaconIndex({ keys: key, fields: fields as never })).toThrow(type);
  });

  test('keys must be BeaconKeys with valid ids', () => {
    expect(() => new BeaconIndex({ keys: [] as never, fields: { email } })).toThrow(InvalidArgumentError);
    expect(() => new BeaconIndex({ keys: [{ id: 'b1' }] as never, fields: { email } })).toThrow(InvalidArgumentError);
    for (const id of ['', 'a:b', 'x'.repeat(33), 'é']) expect(() => BeaconKey.import(rawKey(), { id })).toThrow(InvalidArgumentError);
    expect(() => BeaconKey.import(new Uint8Array(16), { id: 'b1' })).toThrow(InvalidArgumentError);
  });
});

describe('hostile values get typed errors, never the value', () => {
  const secret = 'S3cr3t-Pl41nt3xt';
  const index = new BeaconIndex({
    keys: BeaconKey.import(rawKey(), { id: 'b1' }),
    fields: {
      email,
      ssn,
      custom: { bits: 8, allowUnsafeLength: true, normalize: [() => { throw new Error(`boom ${secret}`); }] },
      returnsNumber: { bits: 8, allowUnsafeLength: true, normalize: [(() => 42) as never] },
      nfkcOnly: { bits: 8, allowUnsafeLength: true, normalize: ['nfkc'] },
    },
  });
  const cases: [string, string, unknown, unknown][] = [
    ['non-string', 'email', 12345, MalformedError],
    ['null', 'email', null, MalformedError],
    ['object', 'email', { toString: () => secret }, MalformedError],
    ['lone high surrogate', 'email', `${secret}\ud800`, MalformedError],
    ['lone low surrogate', 'email', `\udc00${secret}`, MalformedError],
    ['empty after normalization', 'ssn', `no digits ${secret.replace(/[0-9]/g, '')}`, MalformedError],
    ['whitespace only', 'email', ' \t\u3000 ', MalformedError],
    ['too long', 'email', secret.repeat(10_000), LimitExceededError],
    ['NFKC expansion past the limit', 'nfkcOnly', '\ufdfa'.repeat(4000), LimitExceededError],
    ['custom normalizer throws', 'custom', secret, MalformedError],
    ['custom normalizer returns a number', 'returnsNumber', secret, MalformedError],
  ];
  test.each(cases)('%s', async (_name, field, value, type) => {
    const err = await index.beacon(field, value as string).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type as never);
    const text = `${(err as Error).message} ${String((err as Error).cause ?? '')} ${JSON.stringify(err)}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain('S3cr3t');
  });

  test('unknown field names are refused', async () => {
    await expect(index.beacon('nope', 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(index.beacon('__proto__', 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

// A keyring that binds the context with AES-GCM, to test the document with a keyring that is not LocalKeyring.
function contextBindingKeyring(bindContext = true): Keyring & { calls: number } {
  const kek = crypto.getRandomValues(new Uint8Array(32));
  const aad = (ctx: Record<string, string>) => new TextEncoder().encode(bindContext ? JSON.stringify(Object.keys(ctx).sort().map((k) => [k, ctx[k]])) : '');
  const state = {
    calls: 0,
    async wrap({ dataKey, context }: { dataKey?: Uint8Array; context: Record<string, string> }) {
      const key = dataKey ?? crypto.getRandomValues(new Uint8Array(32));
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const k = await crypto.subtle.importKey('raw', kek as BufferSource, 'AES-GCM', false, ['encrypt']);
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(context) }, k, key as BufferSource));
      const blob = new Uint8Array(12 + ct.length);
      blob.set(iv);
      blob.set(ct, 12);
      return { dataKey: key.slice(), wrapped: [{ provider: 'test', keyId: 'kek-1', ciphertext: blob }] };
    },
    async unwrap({ wrapped, context }: { wrapped: readonly { ciphertext: Uint8Array }[]; context: Record<string, string> }) {
      state.calls++;
      const k = await crypto.subtle.importKey('raw', kek as BufferSource, 'AES-GCM', false, ['decrypt']);
      try {
        const blob = wrapped[0]!.ciphertext;
        return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: blob.subarray(0, 12) as BufferSource, additionalData: aad(context) }, k, blob.subarray(12) as BufferSource));
      } catch {
        throw new KeyUnavailableError('test keyring could not unwrap', [{ provider: 'test', message: 'authentication failed' }]);
      }
    },
  };
  return state as Keyring & { calls: number };
}

describe('beacon key documents', () => {
  test('generate -> store as JSON -> load with one unwrap gives the same beacons (LocalKeyring)', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const { key, document } = await BeaconKey.generate({ keyring, id: 'b1', context: { app: 'crm' } });
    const text = JSON.stringify(document);
    expect(document).toMatchObject({ type: 'fieldseal.beacon-key', version: 1, id: 'b1', context: { app: 'crm' } });
    const loaded = await BeaconKey.load(text, { keyring, context: { app: 'crm' }, id: 'b1' });
    expect(loaded.id).toBe('b1');
    const v = 'erin@example.com';
    expect(await indexWith(loaded).beacon('email', v)).toBe(await indexWith(key).beacon('email', v));
    // Nothing secret is reachable from the key object.
    expect(Object.keys(loaded)).toEqual(['id']);
  });

  test('a generated id is short and valid; each generated key is different', async () => {
    const keyring = contextBindingKeyring();
    const a = await BeaconKey.generate({ keyring });
    const b = await BeaconKey.generate({ keyring });
    expect(a.key.id).toMatch(/^[a-z2-7]{6}$/);
    const fields = { f: { bits: 32, allowUnsafeLength: true } };
    expect(await new BeaconIndex({ keys: a.key, fields }).beacon('f', 'x')).not.toBe(await new BeaconIndex({ keys: BeaconKey.import(rawKey(), { id: a.key.id }), fields }).beacon('f', 'x'));
    expect(a.document.wrapped[0]!.ciphertext).not.toBe(b.document.wrapped[0]!.ciphertext);
  });

  test('loading costs exactly one unwrap; beacons afterwards make no keyring call', async () => {
    const keyring = contextBindingKeyring();
    const { document } = await BeaconKey.generate({ keyring, id: 'b1' });
    const key = await BeaconKey.load(document, { keyring });
    const index = indexWith(key);
    for (let i = 0; i < 100; i++) await index.beacon('email', `u${i}@example.com`);
    expect(keyring.calls).toBe(1);
  });

  test('an edited id, context or check value, a wrong keyring, a bad version: typed errors', async () => {
    const keyring = contextBindingKeyring();
    const { document } = await BeaconKey.generate({ keyring, id: 'b1', context: { app: 'crm' } });
    await expect(BeaconKey.load({ ...document, id: 'b2' }, { keyring })).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(BeaconKey.load({ ...document, context: { app: 'other' } }, { keyring })).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(BeaconKey.load(document, { keyring, context: { app: 'other' } })).rejects.toBeInstanceOf(ContextMismatchError);
    await expect(BeaconKey.load(document, { keyring, id: 'b9' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(BeaconKey.load(document, { keyring: contextBindingKeyring() })).rejects.toBeInstanceOf(KeyUnavailableError);
    const check = document.check.startsWith('A') ? `B${document.check.slice(1)}` : `A${document.check.slice(1)}`;
    await expect(BeaconKey.load({ ...document, check }, { keyring })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(BeaconKey.load({ ...document, version: 2 } as never, { keyring })).rejects.toBeInstanceOf(UnsupportedVersionError);
  });

  test('with a keyring that does not bind the context, the key check still catches an edited id or context', async () => {
    const keyring = contextBindingKeyring(false);
    const { document } = await BeaconKey.generate({ keyring, id: 'b1', context: { app: 'crm' } });
    expect((await BeaconKey.load(document, { keyring })).id).toBe('b1');
    await expect(BeaconKey.load({ ...document, id: 'b2' }, { keyring })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(BeaconKey.load({ ...document, context: { app: 'other' } }, { keyring })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(BeaconKey.load({ ...document, context: {} }, { keyring })).rejects.toBeInstanceOf(DecryptionFailedError);
  });

  test('a key check catches a keyring that returns the wrong key', async () => {
    const honest = contextBindingKeyring();
    const { document } = await BeaconKey.generate({ keyring: honest, id: 'b1' });
    const liar: Keyring = { wrap: honest.wrap, unwrap: async () => crypto.getRandomValues(new Uint8Array(32)) };
    await expect(BeaconKey.load(document, { keyring: liar })).rejects.toBeInstanceOf(DecryptionFailedError);
  });

  test.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['wrong type', { type: 'x' }],
    ['no wrapped keys', { wrapped: [] }],
    ['wrapped key not base64url', { wrapped: [{ provider: 'local', keyId: 'k', ciphertext: '!!' }] }],
    ['bad id', { id: 'a:b' }],
    ['reserved context key', { context: { 'fieldseal.purpose': 'x' } }],
    ['short check', { check: 'AAAA' }],
    ['accessor property', 'getter'],
  ])('malformed document: %s', async (_name, patch) => {
    const keyring = contextBindingKeyring();
    const { document } = await BeaconKey.generate({ keyring, id: 'b1' });
    let input: unknown = typeof patch === 'string' ? patch : { ...document, ...patch };
    if (patch === 'getter') {
      input = { ...document };
      Object.defineProperty(input, 'id', { get: () => 'b1', enumerable: true });
    }
    await expect(BeaconKey.load(input as never, { keyring })).rejects.toBeInstanceOf(MalformedError);
  });

  test('toDocument moves the root key to a new KEK without changing beacons', async () => {
    const oldRing = contextBindingKeyring();
    const newRing = await LocalKeyring.generate({ name: 'next' });
    const { key, document } = await BeaconKey.generate({ keyring: oldRing, id: 'b1' });
    const moved = await key.toDocument({ keyring: newRing });
    // Same root key, id and context: same check value.
    expect(moved.check).toBe(document.check);
    const loaded = await BeaconKey.load(moved, { keyring: newRing });
    expect(await indexWith(loaded).beacon('ssn', '078-05-1120')).toBe(await indexWith(key).beacon('ssn', '078-05-1120'));
    await expect(BeaconKey.load(moved, { keyring: oldRing })).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  test('reserved context prefixes are refused', async () => {
    const keyring = contextBindingKeyring();
    await expect(BeaconKey.generate({ keyring, context: { 'fieldseal.x': '1' } })).rejects.toBeInstanceOf(ContextMismatchError);
    await expect(BeaconKey.generate({ keyring, context: { 'fieldseal:x': '1' } })).rejects.toBeInstanceOf(ContextMismatchError);
  });
});

describe('beacons in documents', () => {
  const key = BeaconKey.import(rawKey(), { id: 'b1' });
  const index = new BeaconIndex({
    keys: key,
    fields: {
      email,
      ssn,
      contactEmail: { path: '$.contacts[*].email', target: 'email_idx', normalize: 'email', bits: 16, distinctValues: 1_000_000 },
      phoneOnly: { normalize: 'phone', bits: 16, distinctValues: 1_000_000 },
    },
  });
  const doc: JsonObject = { id: 7, email: 'Frank@Example.com', ssn: '123-45-6789', contacts: [{ email: 'a@x.io' }, { name: 'no email' }, { email: null }], __proto__x: 1 };

  test('addBeacons writes siblings, leaves the input alone, and encrypt/decrypt keep them (decrypt ignores them)', async () => {
    const withBeacons = await addBeacons(doc, index);
    expect(doc).not.toHaveProperty('email_bidx');
    expect(withBeacons.email_bidx).toBe(await index.beacon('email', 'frank@example.com'));
    expect(withBeacons.ssn_bidx).toBe(await index.beacon('ssn', '123456789'));
    const contacts = withBeacons.contacts as Record<string, unknown>[];
    expect(contacts[0]!.email_idx).toBe(await index.beacon('contactEmail', 'a@x.io'));
    expect(contacts[1]).not.toHaveProperty('email_idx');
    expect(contacts[2]).not.toHaveProperty('email_idx');

    const keyring = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(withBeacons, { keyring, paths: ['$.email', '$.ssn', '$.contacts[*].email'] });
    expect(sealed.email).not.toContain('Frank');
    expect(sealed.email_bidx).toBe(withBeacons.email_bidx);
    // Two encryptions of the same value differ; their beacons do not (that is the point, and the leak).
    const again = await encrypt(withBeacons, { keyring, paths: ['$.email'] });
    expect(again.email).not.toBe(sealed.email);
    const opened = await decrypt(sealed, { keyring });
    expect(opened.email).toBe(doc.email);
    expect(await verifyBeacons(opened, index)).toEqual({ valid: true, issues: [] });
  });

  test('encrypt writes the beacons itself with the beacons option, the same as addBeacons first', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(doc, { keyring, paths: ['$.email', '$.ssn'], beacons: index, requiredContext: { rowId: '7' } });
    expect(sealed.email).toMatch(/^fs1\./);
    expect(sealed.email_bidx).toBe(await index.beacon('email', 'frank@example.com'));
    expect(sealed.ssn_bidx).toBe(await index.beacon('ssn', '123456789'));
    expect(doc).not.toHaveProperty('email_bidx');
    const opened = await decrypt(sealed, { keyring, context: { rowId: '7' } });
    expect((await verifyBeacons(opened, index)).valid).toBe(true);
    // Selecting a beacon member (or an object holding one) for encryption is refused: it could never match a query.
    await expect(encrypt(doc, { keyring, paths: ['$.email', '$.email_bidx'], beacons: index })).rejects.toBeInstanceOf(InvalidSelectorError);
    await expect(encrypt(doc, { keyring, paths: ['$.contacts'], beacons: index })).rejects.toBeInstanceOf(InvalidSelectorError);
    await expect(encrypt(doc, { keyring, paths: ['$.contacts[*].*'], beacons: index })).rejects.toBeInstanceOf(InvalidSelectorError);
    expect((await encrypt(doc, { keyring, paths: ['$.contacts[*].email'], beacons: index })).contacts).toBeDefined();
    // A value the normalizer refuses fails the whole encrypt with a typed error and no output.
    await expect(encrypt({ email: 'x\ud800' }, { keyring, paths: ['$.email'], beacons: index })).rejects.toBeInstanceOf(MalformedError);
  });

  test('computeBeacons returns them separately, with pointers', async () => {
    const computed = await computeBeacons(doc, index);
    expect(computed.map((c) => [c.field, c.pointer, c.targetPointer])).toEqual([
      ['email', '/email', '/email_bidx'],
      ['ssn', '/ssn', '/ssn_bidx'],
      ['contactEmail', '/contacts/0/email', '/contacts/0/email_idx'],
    ]);
    expect(computed[0]!.beacons).toEqual([await index.beacon('email', 'frank@example.com')]);
  });

  test('verifyBeacons detects a beacon that no longer matches its value, and every other kind of drift', async () => {
    const good = await addBeacons(doc, index);
    const changed = { ...good, email: 'someone.else@example.com' };
    const r1 = await verifyBeacons(changed, index);
    expect(r1.valid).toBe(false);
    expect(r1.issues).toEqual([{ field: 'email', targetPointer: '/email_bidx', reason: 'mismatch', keyId: 'b1' }]);

    const { ssn_bidx: _drop, ...missing } = good;
    expect((await verifyBeacons(missing, index)).issues).toEqual([{ field: 'ssn', targetPointer: '/ssn_bidx', reason: 'missing' }]);
    expect((await verifyBeacons({ ...good, ssn_bidx: 42 }, index)).issues[0]!.reason).toBe('malformed');
    expect((await verifyBeacons({ ...good, ssn_bidx: 'zz:0000' }, index)).issues[0]).toMatchObject({ reason: 'unknown-key', keyId: 'zz' });
    expect((await verifyBeacons({ ...good, ssn: null }, index)).issues).toEqual([{ field: 'ssn', targetPointer: '/ssn_bidx', reason: 'orphan' }]);

    const newKey = BeaconKey.import(rawKey(), { id: 'b2' });
    const rotating = new BeaconIndex({ keys: [newKey, key], fields: { email, ssn } });
    const issues = (await verifyBeacons(good, rotating)).issues;
    expect(issues).toEqual([
      { field: 'email', targetPointer: '/email_bidx', reason: 'missing-key', keyId: 'b2' },
      { field: 'ssn', targetPointer: '/ssn_bidx', reason: 'missing-key', keyId: 'b2' },
    ]);
    // Re-running addBeacons with the rotation index brings the document up to date.
    expect((await verifyBeacons(await addBeacons(good, rotating), rotating)).valid).toBe(true);
  });

  test('updateBeacons rewrites only the beacon members of a sealed document', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(doc, { keyring, paths: ['$.email', '$.ssn', '$.contacts[*].email'], beacons: index });
    const same = await updateBeacons(sealed, { keyring, index });
    expect(same.changed).toBe(false);
    expect(same.document).toEqual(sealed);

    const b2 = BeaconKey.import(rawKey(), { id: 'b2' });
    const rotating = new BeaconIndex({ keys: [b2, key], fields: { email, ssn } });
    const updated = await updateBeacons(sealed, { keyring, index: rotating });
    expect(updated.changed).toBe(true);
    // Only the new key's beacon is stored (issue 23 item 4); the query list covers both keys.
    expect(updated.document.email_bidx).toBe(await rotating.beacon('email', 'frank@example.com'));
    expect(await rotating.beacons('email', 'frank@example.com')).toContain(updated.document.email_bidx);
    expect(updated.document.email).toBe(sealed.email);
    expect(updated.document._fieldseal).toBe(sealed._fieldseal);
    // contactEmail is not in the rotating index: its members are left alone.
    expect(updated.document.contacts).toEqual(sealed.contacts);
    expect((await decrypt(updated.document, { keyring })).email).toBe(doc.email);

    // A beacon whose value is gone is removed.
    const orphaned = await updateBeacons({ ...sealed, ssn_bidx: 'b1:0000', ssn: null }, { keyring, index }).catch((e: unknown) => e);
    // (Replacing an encrypted value by null is caught by decrypt's completeness check.)
    expect(orphaned).toMatchObject({ code: 'ERR_FIELDSEAL_INCOMPLETE' });
    const plainNull = await encrypt({ email: 'h@example.com', ssn: null, ssn_bidx: 'b1:0000' }, { keyring, paths: ['$.email'] });
    const cleaned = await updateBeacons(plainNull, { keyring, index });
    expect(cleaned.changed).toBe(true);
    expect(cleaned.document).not.toHaveProperty('ssn_bidx');

    await expect(updateBeacons(sealed, { keyring, index, paths: ['$.email'] } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const other = await LocalKeyring.generate({ name: 'other' });
    await expect(updateBeacons(sealed, { keyring: other, index })).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  test('updateBeacons refuses a beacon member that would lie inside an encrypted value', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const nested = new BeaconIndex({ keys: key, fields: { email: { ...email, path: '$.profile.email' } } });
    const sealed = await encrypt({ profile: { email: 'i@example.com' } }, { keyring, paths: ['$.profile'] });
    await expect(updateBeacons(sealed, { keyring, index: nested })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test('a null value removes a stale beacon', async () => {
    const good = await addBeacons(doc, index);
    const cleared = await addBeacons({ ...good, email: null }, index);
    expect(cleared).not.toHaveProperty('email_bidx');
  });

  test('hostile documents: typed errors, no prototype pollution', async () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "email": "g@example.com", "constructor": {"prototype": {"polluted": true}}}');
    const out = await addBeacons(hostile, index);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    let deep: Record<string, unknown> = { email: 'x@example.com' };
    for (let i = 0; i < 200; i++) deep = { a: deep };
    await expect(addBeacons(deep as never, index)).rejects.toBeInstanceOf(LimitExceededError);
    await expect(addBeacons({ email: 5 } as never, index)).rejects.toBeInstanceOf(MalformedError);
    await expect(addBeacons({ email: 'a@b.c', f: () => 1 } as never, index)).rejects.toBeInstanceOf(MalformedError);
    await expect(addBeacons({ email: 'a@b.c' }, {} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    const getter = Object.defineProperty({}, 'email', { get: () => 'x', enumerable: true });
    await expect(addBeacons(getter, index)).rejects.toBeInstanceOf(MalformedError);
  });
});
