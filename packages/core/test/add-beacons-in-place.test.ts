import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { BeaconIndex, BeaconKey, addBeacons, type JsonObject } from '@fieldseal/core';
import { addBeaconsInPlace } from '../src/beacons/add-beacons.js';

function index(): BeaconIndex {
  return new BeaconIndex({
    keys: BeaconKey.import(randomBytes(32), { id: 'b1' }),
    fields: { email: { path: '$.contacts[*].email', normalize: 'email', bits: 12, distinctValues: 10_000 } },
  });
}

describe('addBeaconsInPlace (for encrypt, which owns its clone)', () => {
  test('writes into the given document exactly what addBeacons returns, without a second copy', async () => {
    const idx = index();
    const doc: JsonObject = { contacts: [{ email: 'A@example.com', email_bidx: 'stale' }, { email: null, email_bidx: 'gone' }, { name: 'x' }] };
    const expected = await addBeacons(doc, idx);
    const own = structuredClone(doc);
    const result = await addBeaconsInPlace(own, idx);
    expect(result).toBe(own);
    expect(own).toEqual(expected);
    expect(doc.contacts).toEqual([{ email: 'A@example.com', email_bidx: 'stale' }, { email: null, email_bidx: 'gone' }, { name: 'x' }]);
  });

  test('a value that cannot be beaconed leaves the document untouched (all beacons are computed before any is written)', async () => {
    const idx = index();
    const own: JsonObject = { contacts: [{ email: 'a@example.com' }, { email: 42 }] };
    await expect(addBeaconsInPlace(own, idx)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_MALFORMED' });
    expect(own).toEqual({ contacts: [{ email: 'a@example.com' }, { email: 42 }] });
  });

  test('refuses what is not a BeaconIndex', async () => {
    await expect(addBeaconsInPlace({ email: 'a' }, {} as BeaconIndex)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });
});

describe('encrypt with beacons', () => {
  test('honours a raised maxDepth (the beacon pass used to re-clone at the default depth of 128)', async () => {
    const { encrypt, decrypt, LocalKeyring } = await import('@fieldseal/core');
    const keyring = await LocalKeyring.generate();
    let deep: JsonObject = { leaf: 'x' };
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const doc: JsonObject = { contacts: [{ email: 'a@example.com' }], deep };
    const sealed = await encrypt(doc, { keyring, paths: ['$.contacts[*].email'], beacons: index(), limits: { maxDepth: 300 } });
    expect(typeof (sealed.contacts as JsonObject[])[0]!.email_bidx).toBe('string');
    const opened = await decrypt(sealed, { keyring, limits: { maxDepth: 300 } });
    expect((opened.contacts as JsonObject[])[0]!.email).toBe('a@example.com');
  });
});
