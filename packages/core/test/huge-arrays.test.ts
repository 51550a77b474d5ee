/**
 * Issue 14, item 3: an array of 10 million elements through every path of encrypt, decrypt,
 * inspect and beacons (the CLI has its own test). Arrays of more than about 125,000 elements
 * used to overflow the call stack (a large array spread into push).
 */
import { describe, expect, test } from 'vitest';
import { addBeacons, BeaconIndex, BeaconKey, decrypt, encrypt, inspect, LocalKeyring, updateBeacons, verifyBeacons, type JsonObject } from '@fieldseal/core';

const N = 10_000_000;

function hugeDocument(): JsonObject {
  const rows: unknown[] = new Array(N).fill(0);
  rows[5] = { ssn: 's5', email: 'a@example.com' };
  rows[N - 1] = { ssn: 'sLast', email: 'b@example.com' };
  return { email: 'top@example.com', rows } as JsonObject;
}

describe('an array of 10 million elements', () => {
  test('encrypt ($.rows[*].ssn, $..email, beacons), inspect, full and partial decrypt, beacon upkeep', { timeout: 120_000 }, async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const index = new BeaconIndex({ keys: BeaconKey.import(crypto.getRandomValues(new Uint8Array(32)), { id: 'b1' }), fields: { email: { path: '$.rows[*].email', normalize: 'email', bits: 16, distinctValues: 1_000_000 } } });
    const doc = hugeDocument();
    const sealed = await encrypt(doc, { keyring, paths: ['$.rows[*].ssn', '$..email'], beacons: index });
    const info = inspect(sealed);
    expect([...info.groups[0]!.fields].sort()).toEqual(['/email', '/rows/5/email', '/rows/5/ssn', `/rows/${N - 1}/email`, `/rows/${N - 1}/ssn`].sort());
    const rows = sealed.rows as { ssn: string; email_bidx: string }[];
    expect(rows).toHaveLength(N);
    expect(rows[5]!.ssn).toMatch(/^fs1\./);
    expect(typeof rows[5]!.email_bidx).toBe('string');

    const partial = await decrypt(sealed, { keyring, paths: ['$.rows[*].ssn'] });
    expect((partial.rows as { ssn: string }[])[N - 1]!.ssn).toBe('sLast');
    expect(partial.email).toBe(sealed.email);

    const updated = await updateBeacons(sealed, { keyring, index });
    expect(updated.changed).toBe(false);

    const plain = await decrypt(sealed, { keyring });
    expect((await verifyBeacons(plain, index)).valid).toBe(true);
    const back = plain.rows as { ssn: string; email: string }[];
    expect(back).toHaveLength(N);
    expect(back[5]).toEqual({ ssn: 's5', email: 'a@example.com', email_bidx: rows[5]!.email_bidx });
    expect(back[N - 2]).toBe(0);
    expect(plain.email).toBe('top@example.com');
  });

  test('the whole array as one field, and beacons computed beside it', { timeout: 120_000 }, async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const doc = hugeDocument();
    const limits = { maxFieldBytes: 64 * 1024 * 1024 };
    const sealed = await encrypt(doc, { keyring, paths: ['$.rows'], limits });
    expect(typeof sealed.rows).toBe('string');
    const plain = await decrypt(sealed, { keyring, limits, paths: ['$..rows'] });
    expect(plain.rows as unknown[]).toHaveLength(N);
    expect((plain.rows as unknown[])[N - 1]).toEqual({ ssn: 'sLast', email: 'b@example.com' });

    const index = new BeaconIndex({ keys: BeaconKey.import(crypto.getRandomValues(new Uint8Array(32)), { id: 'b1' }), fields: { email: { path: '$..email', normalize: 'email', bits: 16, distinctValues: 1_000_000 } } });
    const withBeacons = await addBeacons(doc, index);
    expect(((withBeacons.rows as unknown[])[N - 1] as Record<string, unknown>).email_bidx).toEqual(expect.any(String));
  });
});
