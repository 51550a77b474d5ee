import { describe, expect, test } from 'vitest';
import { encrypt, keyVersionOf, LocalKeyring, MultiKeyring, needsRotation, rewrap } from '@fieldseal/core';

const doc = { id: 1, ssn: '078-05-1120', email: 'a@example.com' };

describe('needsRotation', () => {
  test('a document under an older version needs rotation; after rewrap to the target it does not', async () => {
    const v1 = await LocalKeyring.generate({ name: 'main' });
    const v2 = v1.withNewPrimary();
    const sealed = await encrypt(doc, { keyring: v1, paths: ['$.ssn'] });
    const target = { provider: 'local', keyId: /^main\//, minVersion: 2 };
    expect(needsRotation(sealed, target)).toBe(true);
    const { document } = await rewrap(sealed, { keyring: v2, to: v2 });
    expect(needsRotation(document, target)).toBe(false);
    expect(needsRotation(document, { keyId: v2.keyIds[0]! })).toBe(false);
    expect(needsRotation(document, { keyId: (id) => id.endsWith('/v2') })).toBe(false);
    expect(needsRotation(document, { keyId: v2.keyIds[0]!, provider: 'aws-kms' })).toBe(true);
    expect(needsRotation(document, { keyId: /^main\//, minVersion: 3 })).toBe(true);
  });

  test('every key group must be current: one stale group is enough', async () => {
    const main = await LocalKeyring.generate({ name: 'main' });
    const restricted = await LocalKeyring.generate({ name: 'restricted' });
    const sealed = await encrypt(doc, { keyring: main, paths: ['$.email'], groups: [{ name: 'restricted', keyring: restricted, paths: ['$.ssn'] }] });
    expect(needsRotation(sealed, { keyId: main.keyIds[0]! })).toBe(true);
    expect(needsRotation(sealed, { keyId: /^(main|restricted)\/[^/]+\/v1$/ })).toBe(false);
  });

  test('a group also wrapped under a non-target key still needs rotation', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const sealed = await encrypt(doc, { keyring: new MultiKeyring([a, b]), paths: ['$.ssn'] });
    expect(needsRotation(sealed, { keyId: a.keyIds[0]! })).toBe(true);
    expect(needsRotation(sealed, { keyId: /^[ab]\/[^/]+\/v1$/ })).toBe(false);
  });

  test('a global RegExp gives the same answer every time (no lastIndex carried over)', async () => {
    const k = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(doc, { keyring: k, paths: ['$.ssn'] });
    const target = { keyId: /main/g };
    expect([1, 2, 3].map(() => needsRotation(sealed, target))).toEqual([false, false, false]);
  });

  test('bad input gets typed errors', async () => {
    const k = await LocalKeyring.generate({ name: 'main' });
    const sealed = await encrypt(doc, { keyring: k, paths: ['$.ssn'] });
    expect(() => needsRotation(sealed, { keyId: 7 as never })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => needsRotation(sealed, { keyId: 'x', minVersion: -1 })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => needsRotation({ plain: true }, { keyId: 'x' })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INCOMPLETE' }));
    expect(() => needsRotation({ _fieldseal: 'garbage' }, { keyId: 'x' })).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_FIELDSEAL_/) }));
  });

  test('keyVersionOf reads the trailing version of each provider style', () => {
    expect(keyVersionOf('main/v7')).toBe(7);
    expect(keyVersionOf('transit/orders:v3')).toBe(3);
    expect(keyVersionOf('projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/12')).toBe(12);
    expect(keyVersionOf('arn:aws:kms:us-east-1:111122223333:key/1234abcd')).toBeUndefined();
    expect(keyVersionOf('main/v')).toBeUndefined();
  });
});
