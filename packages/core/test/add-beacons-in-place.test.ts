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
