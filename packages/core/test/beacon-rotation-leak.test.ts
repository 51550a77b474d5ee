import { afterEach, describe, expect, test } from 'vitest';
import { addBeacons, BeaconIndex, BeaconKey, computeBeacons, verifyBeacons, type BeaconFieldOptions } from '@fieldseal/core';

// Issue 23 item 4: while a row stores beacons under two independent keys, the pair acts as one
// beacon of twice the length. With N inside the safe range (2^N > sqrt(X)), 2^(2N) > X: the pair
// nearly always singles a value out. 20,000 distinct values, N = 10 (safe range 8..13): one key
// leaves essentially no value alone in its bucket (20,000 values in 1,024 buckets), a stored pair
// (2^20 buckets) leaves about e^(-20,000/2^20) = 98% alone.

const X = 20_000;
const BITS = 10;
const field: BeaconFieldOptions = { path: '$.email', normalize: 'email', bits: BITS, distinctValues: X };
const rawKey = () => crypto.getRandomValues(new Uint8Array(32));

/** Share of values whose stored beacon member no other value has. */
function aloneShare(members: readonly string[]): number {
  const count = new Map<string, number>();
  for (const m of members) count.set(m, (count.get(m) ?? 0) + 1);
  let alone = 0;
  for (const m of members) if (count.get(m) === 1) alone++;
  return alone / members.length;
}

const warnings: string[] = [];
const onWarning = (w: Error & { code?: string }) => {
  if (w.code === 'FIELDSEAL_BEACON_KEYS') warnings.push(w.message);
};
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

describe('beacon key rotation does not double the beacon length', () => {
  test('what rows store during a rotation leaks no more equality than one beacon (distinct values, bucket occupancy)', async () => {
    const b1 = BeaconKey.import(rawKey(), { id: 'b1' });
    const b2 = BeaconKey.import(rawKey(), { id: 'b2' });
    const single = new BeaconIndex({ keys: b1, fields: { email: field } });
    const dual = new BeaconIndex({ keys: [b2, b1], fields: { email: field } });
    const values = Array.from({ length: X }, (_, i) => `user${i}@example.com`);

    const before: string[] = [];
    const during: string[] = [];
    for (const v of values) {
      before.push(JSON.stringify((await addBeacons({ email: v }, single)).email_bidx));
      during.push(JSON.stringify((await addBeacons({ email: v }, dual)).email_bidx));
    }
    const aloneBefore = aloneShare(before);
    const aloneDuring = aloneShare(during);
    // One key: 1,024 buckets of about 19.5 values each; P(alone) = (1 - 2^-10)^19,999 ~ 3e-9.
    expect(aloneBefore).toBeLessThan(0.001);
    // During the rotation the stored member must stay one N-bit beacon (a pair would leave ~98% alone).
    expect(aloneDuring).toBeLessThan(0.001);
    const occupied = new Set(during).size;
    expect(occupied).toBeLessThanOrEqual(2 ** BITS);
    expect(occupied).toBeGreaterThan(2 ** BITS * 0.99);
  });

  test('rows store only the primary beacon; queries still find rows written under either key', async () => {
    const b1 = BeaconKey.import(rawKey(), { id: 'b1' });
    const b2 = BeaconKey.import(rawKey(), { id: 'b2' });
    const old = new BeaconIndex({ keys: b1, fields: { email: field } });
    const dual = new BeaconIndex({ keys: [b2, b1], fields: { email: field } });
    const v = 'carol@example.com';
    const written = await addBeacons({ email: v }, dual);
    expect(written.email_bidx).toBe(await dual.beacon('email', v));
    expect(written.email_bidx).toMatch(/^b2:/);
    expect((await computeBeacons({ email: v }, dual))[0]!.beacons).toEqual([written.email_bidx]);
    const query = await dual.beacons('email', v);
    expect(query).toContain(written.email_bidx);
    expect(query).toContain((await addBeacons({ email: v }, old)).email_bidx);
    // A row stored as a pair by an earlier version is reported, so a backfill can fix it.
    const pair = { email: v, email_bidx: query };
    expect((await verifyBeacons(pair, dual)).issues).toEqual([{ field: 'email', targetPointer: '/email_bidx', reason: 'several-keys' }]);
    // A row not yet backfilled is reported as such.
    expect((await verifyBeacons(await addBeacons({ email: v }, old), dual)).issues).toEqual([{ field: 'email', targetPointer: '/email_bidx', reason: 'missing-key', keyId: 'b2' }]);
    expect((await verifyBeacons(written, dual)).valid).toBe(true);
  });

  test('an index holding several keys warns once per primary key that each query links the old and the new beacon', async () => {
    const w1 = BeaconKey.import(rawKey(), { id: 'w1' });
    const w2 = BeaconKey.import(rawKey(), { id: 'w2' });
    const mine = () => warnings.filter((w) => w.includes('(w2, w1)'));
    const tick = () => new Promise((r) => setTimeout(r, 20));
    new BeaconIndex({ keys: w1, fields: { email: field } });
    await tick();
    expect(warnings.filter((w) => w.includes('w1'))).toEqual([]);
    new BeaconIndex({ keys: [w2, w1], fields: { email: field } });
    new BeaconIndex({ keys: [w2, w1], fields: { email: field } });
    await tick();
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatch(/2 keys/);
  });
});
