import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, MultiKeyring } from '@fieldseal/core';

const record = {
  id: 42,
  name: 'Ada Lovelace',
  ssn: '123-45-6789',
  email: 'ada@example.com',
  cards: [{ number: '4111111111111111', exp: '12/30' }, { number: '5500000000000004', exp: '01/31' }],
  profile: { dob: '1815-12-10', tags: ['a', 'b'], score: 3.5, vip: true, note: null },
};

describe('encrypt / decrypt', () => {
  test('round trip restores every selected value exactly, and only selected values change', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(record, { keyring, paths: ['$.ssn', '$.cards[*].number', '$.profile'], context: { tenant: 't1' } });
    expect(sealed.name).toBe('Ada Lovelace');
    expect(sealed.ssn).toMatch(/^fs1\./);
    expect((sealed.cards as any)[1].number).toMatch(/^fs1\./);
    expect((sealed.cards as any)[1].exp).toBe('01/31');
    expect(typeof sealed.profile).toBe('string');
    expect(JSON.stringify(sealed)).not.toContain('123-45-6789');
    const opened = await decrypt(sealed, { keyring, context: { tenant: 't1' } });
    expect(opened).toEqual(record);
    expect(Object.keys(opened)).toEqual(Object.keys(record));
  });

  test('inspect shows groups, fields and key ids but no secrets', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(record, { keyring, paths: ['$.ssn'], context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    const info = inspect(sealed);
    expect(info.groups).toEqual([{ name: 'default', fields: ['/ssn'], wrappedKeys: [{ provider: 'local', keyId: keyring.keyIds[0] }] }]);
    expect(info.requiredContextKeys).toEqual(['rowId']);
    expect({ ...info.context }).toEqual({ tenant: 't1' });
    expect((sealed._fieldseal as string).length).toBeLessThanOrEqual(300);
  });

  test('multi keyring: either keyring opens', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const sealed = await encrypt(record, { keyring: new MultiKeyring([a, b]), paths: ['$.ssn'] });
    expect((await decrypt(sealed, { keyring: b })).ssn).toBe(record.ssn);
    expect((await decrypt(sealed, { keyring: a })).ssn).toBe(record.ssn);
  });
});

describe('wrap requests', () => {
  test('encrypt tells the keyring how many plaintext bytes the group protects, the full context and (suite 2) the group', async () => {
    const inner = await LocalKeyring.generate({ name: 'main' });
    const seen: { plaintextBytes?: number; context: Record<string, string> }[] = [];
    const spy = { wrap: (r: { plaintextBytes?: number; context: Record<string, string> }) => (seen.push(r), inner.wrap(r)), unwrap: inner.unwrap.bind(inner) };
    await encrypt({ a: 'abc', b: 'é', n: 12 }, { keyring: spy, paths: ['$.a', '$.b', '$.n'], context: { t: '1' }, requiredContext: { row: '9' } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.plaintextBytes).toBe(3 + 2 + 2);
    expect({ ...seen[0]!.context }).toEqual({ row: '9', t: '1', 'fieldseal.group': 'default' });
  });
});
