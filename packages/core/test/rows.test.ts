import { describe, expect, test } from 'vitest';
import { decrypt, defineRowLayout, inspect, inspectRow, LocalKeyring, openRow, openRows, resealRow, sealRow, sealRows, encrypt, FieldsealError } from '@fieldseal/core';
import { openRowWith } from '../src/rows/open-row.js';
import { sealRowWith } from '../src/rows/seal-row.js';
import { backends } from './helpers/backends.js';

const users = defineRowLayout({
  columns: ['email', { name: 'ssn', group: 'restricted' }, { name: 'born', codec: 'date' }, { name: 'balance', codec: 'bigint' }, { name: 'photo', codec: 'bytes' }, 'prefs'],
  header: 'fieldseal',
  id: 'id',
  contextColumns: { tenant: 'tenant_id' },
  context: { table: 'users' },
});

const plain = {
  id: 7,
  tenant_id: 'acme',
  email: 'ada@example.com',
  ssn: '078-05-1120',
  born: new Date('1815-12-10T00:00:00.000Z'),
  balance: 12345678901234567890n,
  photo: new Uint8Array([0, 1, 2, 250, 255]),
  prefs: { theme: 'dark', n: 3, list: [true, null] },
  plan: 'pro',
  fieldseal: null,
};

async function keyrings() {
  return { keyring: await LocalKeyring.generate({ name: 'contact' }), keyrings: { restricted: await LocalKeyring.generate({ name: 'restricted' }) } };
}

async function expectCode(p: Promise<unknown>, code: string | string[]) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  expect(typeof code === 'string' ? [code] : code).toContain((err as FieldsealError).code);
  return err as FieldsealError;
}

describe('row layout: seal and open', () => {
  test.each(backends)('round trip restores every type on the %s backend, and the row holds no plaintext', async (_name, backend) => {
    const k = await keyrings();
    const sealed = await sealRowWith(backend, plain, users, k);
    for (const col of ['email', 'ssn', 'born', 'balance', 'photo', 'prefs']) expect(sealed[col]).toMatch(/^fs1\./);
    expect(sealed.fieldseal).toMatch(/^fs1h\./);
    expect(sealed.plan).toBe('pro');
    expect(sealed.id).toBe(7);
    const text = JSON.stringify(sealed, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    for (const secret of ['ada@example.com', '078-05-1120', '1815-12-10', '12345678901234567890', 'dark']) expect(text).not.toContain(secret);
    const opened = await openRowWith(backend, sealed, users, k);
    expect(opened).toEqual({ ...plain, fieldseal: sealed.fieldseal });
    expect(opened.born).toBeInstanceOf(Date);
    expect(typeof opened.balance).toBe('bigint');
    expect(opened.photo).toBeInstanceOf(Uint8Array);
  });

  test('the row is a sealed document in the documented mapping: core decrypt opens it', async () => {
    const k = await keyrings();
    const sealed = await sealRow(plain, users, k);
    const doc = { email: sealed.email, ssn: sealed.ssn, born: sealed.born, balance: sealed.balance, photo: sealed.photo, prefs: sealed.prefs, fieldseal: sealed.fieldseal } as Record<string, string>;
    const info = inspect(doc, { headerName: 'fieldseal' });
    expect(info.context).toEqual({ table: 'users' });
    expect([...info.requiredContextKeys].sort()).toEqual(['id', 'tenant']);
    expect(info.groups.map((g) => [g.name, g.fields])).toEqual([
      ['default', ['/email', '/born', '/balance', '/photo', '/prefs']],
      ['restricted', ['/ssn']],
    ]);
    const opened = await decrypt(doc, { keyrings: { default: k.keyring, restricted: k.keyrings.restricted }, headerName: 'fieldseal', context: { table: 'users', id: '7', tenant: 'acme' } });
    expect(opened).toEqual({ email: plain.email, ssn: plain.ssn, born: '1815-12-10T00:00:00.000Z', balance: '12345678901234567890', photo: 'AAEC-v8', prefs: plain.prefs });
  });

  test('NULL stays NULL and is not listed; an all-NULL row gets no header and no key call', async () => {
    let calls = 0;
    const inner = await LocalKeyring.generate({ name: 'c' });
    const counting = { wrap: (r: any) => (calls++, inner.wrap(r)), unwrap: (r: any) => (calls++, inner.unwrap(r)) };
    const empty = await sealRow({ id: 1, tenant_id: 't', email: null, ssn: null }, users, { keyring: counting });
    expect(empty).toEqual({ id: 1, tenant_id: 't', email: null, ssn: null, fieldseal: null });
    expect(calls).toBe(0);
    expect(inspectRow(empty, users).state).toBe('empty');
    expect(await openRow(empty, users, { keyring: counting })).toEqual(empty);
    const one = await sealRow({ id: 2, tenant_id: 't', email: 'x@y.z', ssn: null }, users, { keyring: counting });
    expect(one.ssn).toBeNull();
    expect(inspect({ email: one.email, fieldseal: one.fieldseal } as any, { headerName: 'fieldseal' }).groups.map((g) => g.name)).toEqual(['default']);
    expect(await openRow(one, users, { keyring: counting })).toEqual({ ...one, email: 'x@y.z' });
  });

  test('property names differ from column names (ORM mapping); the pointer is the column name', async () => {
    const layout = defineRowLayout({ columns: [{ name: 'email_address', property: 'email' }], header: { name: 'fs_header', property: 'fsHeader' }, id: { name: 'user_id', property: 'id' } });
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await sealRow({ id: 'u1', email: 'a@b.c' }, layout, { keyring });
    expect(Object.keys(sealed).sort()).toEqual(['email', 'fsHeader', 'id']);
    expect(inspect({ email_address: sealed.email, fs_header: sealed.fsHeader } as any, { headerName: 'fs_header' }).groups[0]!.fields).toEqual(['/email_address']);
    expect((await openRow(sealed, layout, { keyring })).email).toBe('a@b.c');
  });

  test('column names that need escaping, and __proto__, are plain data', async () => {
    const layout = defineRowLayout({ columns: ["it's", 'a/b~c', '__proto__', 'back\\slash'], header: 'h', id: 'id' });
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const row = JSON.parse(`{"id":1,"it's":"q","a/b~c":"p","__proto__":"x","back\\\\slash":"y"}`);
    const sealed = await sealRow(row, layout, { keyring });
    expect(Object.getPrototypeOf(sealed)).toBe(Object.prototype);
    expect(Object.keys(sealed)).toContain('__proto__');
    const opened = await openRow(sealed, layout, { keyring });
    expect(JSON.stringify(opened)).toBe(JSON.stringify({ ...row, h: sealed.h }));
  });

  test('members named like Object.prototype members, or like a setter a polluted prototype carries, are own data', async () => {
    const layout = defineRowLayout({ columns: ['constructor', 'toString', 'email'], header: 'hasOwnProperty', id: 'id' });
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const row = { id: 1, constructor: 'c', toString: 't', email: 'e', valueOf: 'v', plan: 'p' };
    const setterCalls: unknown[] = [];
    // Copying the row's other members must not run a setter a polluted prototype carries.
    Object.defineProperty(Object.prototype, 'plan', { set: (v) => setterCalls.push(v), get: () => undefined, configurable: true });
    try {
      const sealed = await sealRow(row, layout, { keyring });
      for (const key of ['constructor', 'toString', 'email', 'valueOf', 'hasOwnProperty', 'plan']) {
        expect(Object.getOwnPropertyDescriptor(sealed, key), key).toMatchObject({ enumerable: true, writable: true, configurable: true });
      }
      expect(String(sealed.email)).toMatch(/^fs1\./);
      const opened = await openRow(sealed, layout, { keyring });
      expect(Object.getOwnPropertyDescriptor(opened, 'email')).toMatchObject({ value: 'e', enumerable: true, writable: true });
      expect(Object.getOwnPropertyDescriptor(opened, 'plan')).toMatchObject({ value: 'p', enumerable: true, writable: true });
      expect({ constructor: opened.constructor, toString: opened.toString, valueOf: opened.valueOf }).toEqual({ constructor: 'c', toString: 't', valueOf: 'v' });
      expect(setterCalls).toEqual([]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).plan;
    }
  });
});

describe('row layout: what must fail', () => {
  test('a ciphertext copied to another row fails (id bound)', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    const b = await sealRow({ ...plain, id: 8, email: 'bob@example.com' }, users, k);
    await expectCode(openRow({ ...b, email: a.email }, users, k), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
    // Even the whole sealed state copied to another id fails: the local wrap binds the full
    // context, so the data key does not unwrap (or, with a keyring that ignores context, the MAC fails).
    const authFailure = ['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE'];
    await expectCode(openRow({ ...a, id: 8 }, users, k), authFailure);
    await expectCode(openRow({ ...a, tenant_id: 'other' }, users, k), authFailure);
  });

  test('a ciphertext moved to another column of the same row fails (column bound)', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    await expectCode(openRow({ ...a, prefs: a.email, email: a.prefs }, users, k), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('plaintext in a sealed column is an error, never returned (fail closed)', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    const err = await expectCode(openRow({ ...a, email: 'injected@evil.example' }, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
    expect(err.message).toContain('email');
    expect(err.message).not.toContain('injected@evil.example');
    // A column the header did not list (it was NULL) now holds plaintext.
    const b = await sealRow({ ...plain, prefs: null }, users, k);
    await expectCode(openRow({ ...b, prefs: 'sneaky' }, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
    // A plaintext row without a header.
    await expectCode(openRow({ id: 1, tenant_id: 't', email: 'plain@x.y' }, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
  });

  test('a listed column set to NULL is a removed ciphertext', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    await expectCode(openRow({ ...a, ssn: null }, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
  });

  test('a ciphertext with no header, or a header that is not a string, is refused', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    await expectCode(openRow({ ...a, fieldseal: null }, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
    await expectCode(openRow({ ...a, fieldseal: 42 }, users, k), 'ERR_FIELDSEAL_MALFORMED');
  });

  test('a group key holder who moves another group\'s column into their group is refused', async () => {
    const k = await keyrings();
    // The attacker holds only the default group's keyring and seals a forged ssn under it.
    const forged = await encrypt({ email: 'ada@example.com', ssn: 'forged' }, { keyring: k.keyring, paths: ["$['email']", "$['ssn']"], context: { table: 'users' }, requiredContext: { id: '7', tenant: 'acme' }, headerName: 'fieldseal' });
    const row = { ...plain, born: null, balance: null, photo: null, prefs: null, email: forged.email, ssn: forged.ssn, fieldseal: forged.fieldseal };
    // The restricted group is expected (its column holds a ciphertext) and missing.
    await expectCode(openRow(row, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
  });

  test('codecs refuse values they cannot hold, naming the column and not the value', async () => {
    const k = await keyrings();
    const err = await expectCode(sealRow({ ...plain, born: '1815-12-10' }, users, k), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect(err.message).toContain('born');
    expect(err.message).not.toContain('1815');
    await expectCode(sealRow({ ...plain, born: new Date(NaN) }, users, k), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(sealRow({ ...plain, email: new Date() }, users, k), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(sealRow({ ...plain, id: null }, users, k), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(sealRow({ ...plain, tenant_id: undefined }, users, k), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(sealRow(plain, users, { keyrings: k.keyrings }), 'ERR_FIELDSEAL_INVALID_ARGUMENT'); // no keyring for "default"
  });

  test('a value sealed under one codec that the layout decodes with another is a typed error', async () => {
    const k = await keyrings();
    const asJson = defineRowLayout({ columns: ['born'], header: 'fieldseal', id: 'id' });
    const asDate = defineRowLayout({ columns: [{ name: 'born', codec: 'date' }], header: 'fieldseal', id: 'id' });
    const sealed = await sealRow({ id: 1, born: 'not a date' }, asJson, k);
    await expectCode(openRow(sealed, asDate, k), 'ERR_FIELDSEAL_MALFORMED');
    const sealed2 = await sealRow({ id: 1, born: '2020-02-30T00:00:00.000Z' }, asJson, k);
    await expectCode(openRow(sealed2, asDate, k), 'ERR_FIELDSEAL_MALFORMED');
  });

  test('invalid layouts are refused when they are defined', async () => {
    const bad = [
      { columns: [], header: 'h' },
      { columns: ['a', 'a'], header: 'h' },
      { columns: ['a'], header: 'a' },
      { columns: ['a'], header: 'h', id: 'a' },
      { columns: ['a'], header: 'h', contextColumns: { t: 'h' } },
      { columns: [{ name: 'a', codec: 'uuid' }], header: 'h' },
      { columns: ['a'], header: 'h', id: 'id', contextColumns: { id: 'other' } },
      { columns: ['a'], header: 'h', id: 'id', context: { id: 'x' } },
      { columns: [''], header: 'h' },
      { columns: ['\uD800'], header: 'h' },
      null,
    ];
    for (const spec of bad) expect(() => defineRowLayout(spec as any), JSON.stringify(spec)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    await expectCode(sealRow({}, { columns: [], header: {} } as any, {} as any), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
  });
});

describe('row layout: migration helpers', () => {
  test('inspectRow classifies rows without keys', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    expect(inspectRow(a, users)).toEqual({ state: 'sealed', sealedColumns: ['email', 'ssn', 'born', 'balance', 'photo', 'prefs'], plaintextColumns: [] });
    expect(inspectRow({ ...a, email: 'p@x.y' }, users).state).toBe('mixed');
    expect(inspectRow({ id: 1, email: 'p@x.y' }, users)).toEqual({ state: 'plaintext', sealedColumns: [], plaintextColumns: ['email'] });
  });

  test('allowPlaintext opens what is sealed and passes plaintext through; resealRow seals it all', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    const mixed = { ...a, email: 'new@example.com' };
    const opened = await openRow(mixed, users, { ...k, allowPlaintext: true });
    expect(opened.email).toBe('new@example.com');
    expect(opened.ssn).toBe(plain.ssn);
    const resealed = await resealRow(mixed, {}, users, { ...k, allowPlaintext: true });
    expect(inspectRow(resealed, users).state).toBe('sealed');
    expect((await openRow(resealed, users, k)).email).toBe('new@example.com');
    // A plaintext row with no header opens as it is in migration mode.
    expect(await openRow({ id: 1, tenant_id: 't', email: 'p@x.y' }, users, { ...k, allowPlaintext: true })).toEqual({ id: 1, tenant_id: 't', email: 'p@x.y' });
  });

  test('resealRow applies changes and gives a fresh message id', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    const b = await resealRow(a, { email: 'changed@example.com', ssn: null }, users, k);
    expect(b.fieldseal).not.toBe(a.fieldseal);
    expect(b.ssn).toBeNull();
    const opened = await openRow(b, users, k);
    expect(opened.email).toBe('changed@example.com');
    expect(opened.prefs).toEqual(plain.prefs);
    await expectCode(resealRow({ ...a, email: 'plain' }, {}, users, k), 'ERR_FIELDSEAL_INCOMPLETE');
  });

  test('sealRows and openRows handle batches', async () => {
    const k = await keyrings();
    const rows = Array.from({ length: 50 }, (_, i) => ({ ...plain, id: i, email: `u${i}@example.com` }));
    const sealed = await sealRows(rows, users, k);
    const opened = await openRows(sealed, users, k);
    expect(opened.map((r) => r.email)).toEqual(rows.map((r) => r.email));
  });
});

describe('row layout: partial open (a query that selected some sealed columns)', () => {
  test('opens only the named columns; the others may be left out, and their group needs no keyring', async () => {
    const k = await keyrings();
    const sealed = await sealRow(plain, users, k);
    const { ssn: _ssn, born: _born, ...rest } = sealed;
    const opened = await openRow(rest, users, { keyring: k.keyring, columns: ['email', 'prefs'] });
    expect(opened.email).toBe(plain.email);
    expect(opened.prefs).toEqual(plain.prefs);
    // Not named: left as stored (still ciphertext), never opened.
    expect(opened.balance).toBe(sealed.balance);
    expect('ssn' in opened).toBe(false);
    // Only the restricted column, with only the restricted keyring.
    const onlySsn = await openRow({ id: 7, tenant_id: 'acme', ssn: sealed.ssn, fieldseal: sealed.fieldseal }, users, { keyrings: k.keyrings, columns: ['ssn'] });
    expect(onlySsn.ssn).toBe(plain.ssn);
  });

  test('a named column that the header lists but the row holds as NULL or plaintext is refused', async () => {
    const k = await keyrings();
    const sealed = await sealRow(plain, users, k);
    const row = { id: 7, tenant_id: 'acme', email: null, fieldseal: sealed.fieldseal };
    await expectCode(openRow(row, users, { ...k, columns: ['email'] }), 'ERR_FIELDSEAL_INCOMPLETE');
    await expectCode(openRow({ ...row, email: 'ada@example.com' }, users, { ...k, columns: ['email'] }), 'ERR_FIELDSEAL_INCOMPLETE');
    // A named column that is NULL and unlisted is simply NULL.
    const partial = await sealRow({ ...plain, email: null }, users, k);
    expect((await openRow({ id: 7, tenant_id: 'acme', email: null, fieldseal: partial.fieldseal }, users, { ...k, columns: ['email'] })).email).toBeNull();
  });

  test('a partial open still binds the row: a ciphertext copied from another row or column fails', async () => {
    const k = await keyrings();
    const a = await sealRow(plain, users, k);
    const b = await sealRow({ ...plain, id: 8 }, users, k);
    await expectCode(openRow({ id: 8, tenant_id: 'acme', email: a.email, fieldseal: b.fieldseal }, users, { ...k, columns: ['email'] }), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
    await expectCode(openRow({ id: 7, tenant_id: 'acme', email: a.prefs, fieldseal: a.fieldseal }, users, { ...k, columns: ['email'] }), ['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_INCOMPLETE']);
  });

  test('columns must name sealed columns the row holds', async () => {
    const k = await keyrings();
    const sealed = await sealRow(plain, users, k);
    await expectCode(openRow(sealed, users, { ...k, columns: ['plan'] }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    const { email: _e, ...noEmail } = sealed;
    await expectCode(openRow(noEmail, users, { ...k, columns: ['email'] }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(openRow(sealed, users, { ...k, columns: 'email' as never }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
  });
});
