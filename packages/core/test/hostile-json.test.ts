import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, FieldsealError, LocalKeyring, type JsonObject } from '@fieldseal/core';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  throw new Error('expected a rejection');
}

describe('hostile JSON (security property 10)', () => {
  test('__proto__, constructor and prototype keys are plain data and Object.prototype stays untouched', async () => {
    const keyring = await LocalKeyring.generate();
    const doc = JSON.parse('{"__proto__": {"polluted": "yes", "ssn": "1"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": "p", "ssn": "2"}') as JsonObject;
    const sealed = await encrypt(doc, { keyring, paths: ['$.__proto__.ssn', '$.constructor.prototype.polluted', '$.ssn', '$.prototype'] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(sealed)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(sealed, '__proto__')).toBe(true);
    expect(typeof (sealed as Record<string, JsonObject>)['__proto__']!.ssn).toBe('string');
    const opened = await decrypt(sealed, { keyring });
    expect(JSON.stringify(opened)).toBe(JSON.stringify(doc));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(opened)).toBe(Object.prototype);
  });

  test('a selected __proto__ member holding an object round-trips as data', async () => {
    const keyring = await LocalKeyring.generate();
    const doc = JSON.parse('{"a": {"__proto__": {"isAdmin": true}}}') as JsonObject;
    const sealed = await encrypt(doc, { keyring, paths: ['$.a.__proto__'] });
    const opened = await decrypt(sealed, { keyring });
    expect(JSON.stringify(opened)).toBe(JSON.stringify(doc));
    expect((opened.a as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  test('getters are never invoked; non-JSON values are refused with MALFORMED', async () => {
    const keyring = await LocalKeyring.generate();
    let invoked = false;
    const withGetter = { ssn: '1' } as Record<string, unknown>;
    Object.defineProperty(withGetter, 'secret', { enumerable: true, get: () => ((invoked = true), 'x') });
    expect(await code(encrypt(withGetter as JsonObject, { keyring, paths: ['$.ssn'] }))).toBe('ERR_FIELDSEAL_MALFORMED');
    expect(invoked).toBe(false);
    for (const bad of [{ a: undefined }, { a: () => 1 }, { a: NaN }, { a: Infinity }, { a: 1n }, { a: new Date() }, { a: Symbol('s') }, { a: new Map() }, { a: [1, , 2] }]) {
      expect(await code(encrypt(bad as never, { keyring, paths: ['$.a'] }))).toBe('ERR_FIELDSEAL_MALFORMED');
    }
    for (const notObject of [null, 'str', 1, [1, 2], undefined]) {
      expect(await code(encrypt(notObject as never, { keyring, paths: ['$.a'] }))).toBe('ERR_FIELDSEAL_MALFORMED');
      expect(await code(decrypt(notObject as never, { keyring }))).toBe('ERR_FIELDSEAL_MALFORMED');
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(await code(encrypt(cyclic as JsonObject, { keyring, paths: ['$.a'] }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
  });

  test('depth 10,000 nesting gives a typed limit error, not a stack overflow', async () => {
    const keyring = await LocalKeyring.generate();
    const text = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const deep = JSON.parse(text) as JsonObject;
    expect(await code(encrypt(deep, { keyring, paths: ['$.a'] }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    expect(await code(encrypt({ ok: 1, deep }, { keyring, paths: ['$.ok'] }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    expect(await code(decrypt({ deep, _fieldseal: 'fs1h.AA' } as JsonObject, { keyring }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    // A selected value may not smuggle depth past the limit either.
    const arr = JSON.parse('['.repeat(200) + ']'.repeat(200)) as JsonObject;
    expect(await code(encrypt({ v: arr }, { keyring, paths: ['$.v'] }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
  });

  test('a 50 MB string is refused with a typed limit error; a raised limit accepts it', async () => {
    const keyring = await LocalKeyring.generate();
    const big = 'x'.repeat(50 * 1024 * 1024);
    const err = await encrypt({ big }, { keyring, paths: ['$.big'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED', limit: 'maxFieldBytes' });
    expect(String((err as Error).message)).not.toContain('xxxx');
    const sealed = await encrypt({ big: big.slice(0, 20 * 1024 * 1024) }, { keyring, paths: ['$.big'], limits: { maxFieldBytes: 32 * 1024 * 1024 } });
    expect(await code(decrypt(sealed, { keyring }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    expect(((await decrypt(sealed, { keyring, limits: { maxFieldBytes: 32 * 1024 * 1024 } })).big as string).length).toBe(20 * 1024 * 1024);
  }, 60_000);

  test('hostile header strings never crash: huge, truncated, wrong version, garbage counts', async () => {
    const keyring = await LocalKeyring.generate();
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'] });
    const header = sealed._fieldseal as string;
    const cases = ['fs1h.', 'fs1h.AQ', 'fs1h.Ag' + header.slice(7), header.slice(0, header.length - 10), header + 'AAAA', 'fs1h.' + 'A'.repeat(5_000_000), 'fs1h.AQH' + '_'.repeat(200)];
    for (const h of cases) {
      const c = await code(decrypt({ ...sealed, _fieldseal: h }, { keyring }));
      expect(['ERR_FIELDSEAL_MALFORMED', 'ERR_FIELDSEAL_UNSUPPORTED_VERSION', 'ERR_FIELDSEAL_LIMIT_EXCEEDED', 'ERR_FIELDSEAL_DECRYPTION_FAILED']).toContain(c);
    }
  });

  test('errors never contain plaintext or key material', async () => {
    const keyring = await LocalKeyring.generate();
    const keyFile = JSON.stringify(keyring.exportKeyFile());
    const secret = 'SECRET-078-05-1120';
    const sealed = await encrypt({ ssn: secret, other: 'x' }, { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
    const failures: unknown[] = [];
    failures.push(await decrypt({ ...sealed, ssn: secret }, { keyring, context: { tenant: 'acme' } }).catch((e: unknown) => e));
    failures.push(await decrypt(sealed, { keyring, context: { tenant: 'other' } }).catch((e: unknown) => e));
    failures.push(await encrypt({ ssn: secret, ok: () => 1 } as never, { keyring, paths: ['$.ssn'] }).catch((e: unknown) => e));
    failures.push(await decrypt(sealed, { keyring: await LocalKeyring.generate() }).catch((e: unknown) => e));
    const keyB64 = JSON.parse(keyFile).keys[0].key as string;
    for (const f of failures) {
      expect(f).toBeInstanceOf(FieldsealError);
      const text = `${(f as Error).message} ${JSON.stringify(f)} ${String((f as Error).stack)}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keyB64);
    }
    expect(JSON.stringify(keyring)).not.toContain(keyB64);
  });
});

describe('inspect on hostile input', () => {
  test('typed errors, no getter invoked, no copy needed', async () => {
    const { inspect } = await import('@fieldseal/core');
    let invoked = false;
    const withGetter = {};
    Object.defineProperty(withGetter, '_fieldseal', { enumerable: true, get: () => ((invoked = true), 'fs1h.AA') });
    for (const [input, code] of [
      [null, 'ERR_FIELDSEAL_MALFORMED'],
      [[1], 'ERR_FIELDSEAL_MALFORMED'],
      [{}, 'ERR_FIELDSEAL_INCOMPLETE'],
      [{ _fieldseal: 7 }, 'ERR_FIELDSEAL_MALFORMED'],
      [withGetter, 'ERR_FIELDSEAL_MALFORMED'],
    ] as const) {
      expect(() => inspect(input as never)).toThrow(expect.objectContaining({ code }));
    }
    expect(invoked).toBe(false);
  });
});
