/**
 * Walks over hostile documents (issue 14, items 2, 3 and 6): selector evaluation is linear in the
 * number of nodes, huge arrays never meet the call stack, deep documents never meet the call
 * stack, and exotic objects (Proxies) get a typed error.
 */
import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, FieldsealError, inspect, LocalKeyring, type JsonObject, type JsonValue } from '@fieldseal/core';
import { compileSelector, evaluateSelector } from '../src/lib/selector.js';

/** A chain of `depth` single-member objects ending in `leaf`, built without recursion. */
function chain(depth: number, leaf: JsonValue, key = 'c'): JsonValue {
  let v: JsonValue = leaf;
  for (let i = 0; i < depth; i++) v = { [key]: v };
  return v;
}

/** Depth of a chain built by {@link chain}, measured without recursion (toEqual would recurse). */
function chainDepth(v: unknown, key = 'c'): number {
  let n = 0;
  while (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    v = (v as Record<string, unknown>)[key];
    n++;
  }
  return n;
}

const expectTyped = async (p: Promise<unknown> | (() => unknown), code?: string) => {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FieldsealError);
  if (code !== undefined) expect((err as FieldsealError).code).toBe(code);
  return err as FieldsealError;
};

describe('selector evaluation is linear in the number of nodes (item 2)', () => {
  test('partial decrypt with $..email and $..* on a 200,000-element array under a 120-deep chain', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const rows: JsonValue[] = new Array(200_000).fill(1);
    const sealed = await encrypt({ email: 'a@b', deep: chain(120, { rows, email: 'c@d' }) }, { keyring, paths: ['$..email'] });
    for (const paths of [['$..email'], ['$..*'], ['$..[*]'], ['$..email..email..*']]) {
      const out = await decrypt(sealed, { keyring, paths });
      if (paths[0] === '$..email..email..*') {
        expect(out.email).toBe(sealed.email);
        continue;
      }
      expect(out.email).toBe('a@b');
      let inner: unknown = out.deep;
      for (let i = 0; i < 120; i++) inner = (inner as Record<string, unknown>).c;
      expect((inner as { email: string; rows: unknown[] }).email).toBe('c@d');
      expect((inner as { rows: unknown[] }).rows).toHaveLength(200_000);
    }
  });

  test('$..* over a document of 2 MB of small nodes is evaluated in one pass and refused as overlapping, not by running out of memory', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const doc = { items: Array.from({ length: 200_000 }, (_, i) => ({ a: i })) };
    expect(JSON.stringify(doc).length).toBeGreaterThan(2_000_000);
    // Every node is selected, so the selections overlap: a typed refusal once the walk is done.
    await expectTyped(encrypt(doc, { keyring, paths: ['$..*'], limits: { maxFields: 1_000_000 } }), 'ERR_FIELDSEAL_INVALID_SELECTOR');
    // With the default maxFields the walk stops as soon as the limit is passed.
    await expectTyped(encrypt(doc, { keyring, paths: ['$..*'] }), 'ERR_FIELDSEAL_LIMIT_EXCEEDED');
  });

  test('partial decrypt with $..* of a 2 MB array of 1,000,000 elements under a 120-deep chain (the issue: out of memory)', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encrypt({ email: 'a@b', deep: chain(120, new Array(1_000_000).fill(0)) }, { keyring, paths: ['$.email', '$..nothing'] });
    expect(JSON.stringify(sealed).length).toBeGreaterThan(2_000_000);
    for (const paths of [['$..*'], ['$..email'], ['$..[0]..*']]) {
      const out = await decrypt(sealed, { keyring, paths });
      expect(out.email).toBe(paths[0] === '$..[0]..*' ? sealed.email : 'a@b');
    }
  });

  test('thousands of concrete paths against a header listing 50,000 fields: each path costs its own length', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const f = Array.from({ length: 50_000 }, (_, i) => 'v' + i);
    const sealed = await encrypt({ f }, { keyring, paths: ['$.f[*]'] });
    const paths = Array.from({ length: 5_000 }, (_, i) => `$.f[${i * 10}]`);
    const out = await decrypt(sealed, { keyring, paths, strict: true });
    expect((out.f as string[])[49_990]).toBe('v49990');
    expect((out.f as string[])[49_991]).toBe((sealed.f as string[])[49_991]);
  });

  test('every node is visited once: nested descendant segments over a 120-deep chain give each location once', () => {
    const doc = chain(120, 1, 'a') as JsonObject;
    const out = evaluateSelector(compileSelector('$..a..a..a..a'), doc);
    expect(out).toHaveLength(117);
    expect(new Set(out.map((p) => p.length)).size).toBe(117);
  });
});

describe('large arrays never meet the call stack (item 3)', () => {
  test('$.rows[*].ssn over 200,000 rows: encrypt, full and partial decrypt', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const rows = Array.from({ length: 200_000 }, (_, i) => (i % 1000 === 0 ? { ssn: String(i) } : i));
    const sealed = await encrypt({ rows }, { keyring, paths: ['$.rows[*].ssn'] });
    expect(inspect(sealed).groups[0]!.fields).toHaveLength(200);
    const partial = await decrypt(sealed, { keyring, paths: ['$.rows[*].ssn'] });
    expect((partial.rows as { ssn: string }[])[199_000]!.ssn).toBe('199000');
    expect(await decrypt(sealed, { keyring })).toEqual({ rows });
  });
});

describe('deep documents never meet the call stack (item 6)', () => {
  test('a raised maxDepth: a 100,000-deep document is sealed, inspected and opened, or refused with a typed error', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const limits = { maxDepth: 200_000, maxFieldBytes: 64 * 1024 * 1024 };
    const doc = { deep: chain(100_000, 'x'), other: chain(100_000, 'y'), ssn: '1' } as JsonObject;
    const sealed = await encrypt(doc, { keyring, paths: ['$.deep', '$..ssn'], limits });
    expect(inspect(sealed, { limits }).groups[0]!.fields).toEqual(['/deep', '/ssn']);
    const out = await decrypt(sealed, { keyring, limits });
    expect(chainDepth(out.deep)).toBe(100_000);
    expect(chainDepth(out.other)).toBe(100_000);
    expect(out.ssn).toBe('1');
    const partial = await decrypt(sealed, { keyring, limits, paths: ['$..ssn'] });
    expect(partial.ssn).toBe('1');
    // The default depth limit still applies, with a typed error, to the same document.
    await expectTyped(decrypt(sealed, { keyring }), 'ERR_FIELDSEAL_LIMIT_EXCEEDED');
    await expectTyped(encrypt(doc, { keyring, paths: ['$.ssn'] }), 'ERR_FIELDSEAL_LIMIT_EXCEEDED');
  });
});

describe('exotic input gets a typed error (item 6)', () => {
  test('an array Proxy reporting a huge or invalid length', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    for (const length of [2 ** 40, 2 ** 32, -1, 1.5, NaN, '5', 2 ** 32 - 1, 1e9]) {
      const rows = new Proxy([] as unknown[], {
        get: (t, k) => (k === 'length' ? length : Reflect.get(t, k)),
        getOwnPropertyDescriptor: (t, k) => (k === 'length' ? { value: length, writable: true, enumerable: false, configurable: false } : Reflect.getOwnPropertyDescriptor(t, k)),
      });
      await expectTyped(encrypt({ rows } as unknown as JsonObject, { keyring, paths: ['$.x'] }), 'ERR_FIELDSEAL_MALFORMED');
      await expectTyped(decrypt({ rows, _fieldseal: 'x' } as unknown as JsonObject, { keyring }));
    }
  });

  test('Proxy traps that throw, lie or return values of the wrong type', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const hostile: object[] = [
      new Proxy({}, { ownKeys: () => { throw new Error('trap says no'); } }),
      new Proxy({}, { ownKeys: () => ['a', 'a'] }),
      new Proxy({}, { ownKeys: () => ['a'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }) , has: () => true }),
      new Proxy({ a: 1 }, { getOwnPropertyDescriptor: () => { throw new TypeError('no'); } }),
      new Proxy({}, { getPrototypeOf: () => { throw new Error('proto'); } }),
      new Proxy([1, 2], { getOwnPropertyDescriptor: (t, k) => (k === '0' ? { get: () => 1, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(t, k)) }),
      new Proxy([1, 2], { get: () => { throw new Error('get'); } }),
      (() => {
        const r = Proxy.revocable({}, {});
        r.revoke();
        return r.proxy;
      })(),
    ];
    for (const h of hostile) {
      let result: unknown;
      try {
        result = await encrypt({ h } as unknown as JsonObject, { keyring, paths: ['$.h'] });
      } catch (err) {
        expect(err).toBeInstanceOf(FieldsealError);
        continue;
      }
      // A Proxy that answers consistently is read as the data it reports.
      expect(await decrypt(result as JsonObject, { keyring })).toHaveProperty('h');
    }
    for (const h of hostile) {
      let err: unknown;
      try {
        inspect(h as JsonObject);
        await decrypt(h as JsonObject, { keyring });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FieldsealError);
    }
  });
});

describe('hostile option objects of inspect get a typed error (item 6)', () => {
  // decrypt's options are read once, as data, on the encrypt-hardening branch (issue 14, item 4).
  test('getters and Proxy traps that throw', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encrypt({ ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'] });
    const throwing = new Proxy({}, { get: () => { throw new Error('078-05-1120'); }, ownKeys: () => { throw new Error('078-05-1120'); } });
    for (const options of [throwing, { get headerName() { throw new Error('x'); } }, { limits: throwing }]) {
      const err = await expectTyped(() => inspect(sealed, options as Parameters<typeof inspect>[1]), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(err.message).not.toContain('078-05-1120');
    }
  });
});
