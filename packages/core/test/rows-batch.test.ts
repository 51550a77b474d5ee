// openRows resolves its options once for the whole batch (issue 18): these tests check that the
// batch gives exactly what openRow gives row by row, still refuses what openRow refuses, and reads
// each option once per call instead of once per row.
import { describe, expect, test } from 'vitest';
import { CachingKeyring, DecryptionFailedError, IncompleteError, InvalidArgumentError, KeyUnavailableError, LocalKeyring, defineRowLayout, openRow, openRows, sealRows, type Keyring } from '../src/index.js';

const users = defineRowLayout({ columns: ['email', { name: 'ssn', group: 'restricted' }], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' }, context: { table: 'users' } });

async function fixture() {
  const keyring = new CachingKeyring({ keyring: await LocalKeyring.generate() });
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, tenant_id: `t${i % 3}`, email: `u${i}@example.com`, ssn: i % 5 === 0 ? null : `123-45-${1000 + i}`, fieldseal: null, plan: 'pro' }));
  const sealed = await sealRows(rows, users, { keyring });
  return { keyring, rows, sealed };
}

describe('openRows (batch)', () => {
  test('gives what openRow gives for each row, NULL-only rows included', async () => {
    const { keyring, rows, sealed } = await fixture();
    const allNull = { id: 99, tenant_id: 't0', email: null, ssn: null, fieldseal: null, plan: 'free' };
    const opened = await openRows([...sealed, allNull], users, { keyring });
    // The header column keeps the header; every other member is the original row.
    const withoutHeader = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'fieldseal'));
    expect(opened.map(withoutHeader)).toEqual([...rows, allNull].map(withoutHeader));
    expect(opened[1]!.fieldseal).toBe(sealed[1]!.fieldseal);
    for (let i = 0; i < 5; i++) expect(opened[i]).toEqual(await openRow(sealed[i]!, users, { keyring }));
  });

  test('reads each option once per call, not once per row', async () => {
    const { keyring, sealed } = await fixture();
    let reads = 0;
    const options = {
      get keyring(): Keyring {
        reads++;
        return keyring;
      },
    };
    await openRows(sealed, users, options);
    // Once per key group of the layout, however many rows.
    expect(reads).toBeLessThanOrEqual(users.groups.length);
  });

  test('still binds every row: a ciphertext moved to another row, a changed tenant, a removed column each fail the batch', async () => {
    const { keyring, sealed } = await fixture();
    const moved = sealed.map((r) => ({ ...r }));
    moved[3] = { ...moved[3]!, email: sealed[4]!.email };
    await expect(openRows(moved, users, { keyring })).rejects.toBeInstanceOf(DecryptionFailedError);
    const tenant = sealed.map((r) => ({ ...r }));
    tenant[7] = { ...tenant[7]!, tenant_id: 'other' };
    // The tenant is bound to the data key's unwrap too: the same typed refusal as openRow gives.
    const single = await openRow(tenant[7]!, users, { keyring }).catch((e: unknown) => e);
    expect(single).toBeInstanceOf(KeyUnavailableError);
    await expect(openRows(tenant, users, { keyring })).rejects.toBeInstanceOf(KeyUnavailableError);
    const removed = sealed.map((r) => ({ ...r }));
    removed[8] = { ...removed[8]!, ssn: null };
    await expect(openRows(removed, users, { keyring })).rejects.toBeInstanceOf(IncompleteError);
  });

  test('a batch with rows to open and no keyring is a typed error; a batch of NULL-only rows needs none, as openRow', async () => {
    const { sealed } = await fixture();
    await expect(openRow(sealed[0]!, users, {})).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(openRows(sealed, users, {})).rejects.toBeInstanceOf(KeyUnavailableError);
    const allNull = { id: 1, tenant_id: 't0', email: null, ssn: null, fieldseal: null };
    expect(await openRows([allNull], users, {})).toEqual([allNull]);
    expect(await openRow(allNull, users, {})).toEqual(allNull);
    await expect(openRows('rows' as unknown as [], users, {})).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
