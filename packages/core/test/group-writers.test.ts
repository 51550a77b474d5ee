import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { reencryptWith } from '../src/reencrypt.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { encodeEntries } from '../src/lib/context.js';
import { decodeHeader, encodeHeaderBody, headerToString } from '../src/lib/format/header.js';
import { deriveGroupKeys, fieldAadPrefix, fieldAads, headerMac } from '../src/lib/format/document-keys.js';
import { encodeFieldPlaintext, fieldToString } from '../src/lib/format/field.js';
import type { Backend } from '../src/lib/backend/types.js';
import { backends } from './helpers/backends.js';

// Issue 23 item 1: a key group separates who can read; these tests check that, by default, it also
// separates who can write. The attacker holds the "support" keyring and can write rows; the reader
// holds both keyrings.

const record: JsonObject = { id: 7, email: 'ada@example.com', ssn: '078-05-1120' };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  return 'resolved';
}

/**
 * What a holder of group `support`'s keyring can do to a sealed two-group document: keep the
 * message id, the context and support's wrapped key and commitment, rewrite the group list with
 * `rewrite`, encrypt `forged` values under support's field key, and recompute support's MAC.
 * Billing's MAC (if billing is kept) is copied as it was and no longer matches.
 */
async function forgeAsSupport(backend: Backend, sealed: JsonObject, support: LocalKeyring, forged: Record<string, string>, keepBilling: boolean): Promise<JsonObject> {
  const header = decodeHeader(backend, sealed._fieldseal, DEFAULT_LIMITS);
  const si = header.groups.findIndex((g) => g.name === 'support');
  const bi = header.groups.findIndex((g) => g.name === 'billing');
  const s = header.groups[si]!;
  const b = header.groups[bi]!;
  const dataKey = await support.unwrap({ wrapped: s.wrapped, context: {} });
  const keys = await deriveGroupKeys(backend, dataKey, header.messageId, 'support');
  const moved = Object.keys(forged).map((k) => `/${k}`);
  const supportPointers = [...s.pointers.filter((p) => !moved.includes(p)), ...moved];
  const groups = keepBilling
    ? header.groups.map((g, i) => (i === si ? { ...s, pointers: supportPointers } : { ...b, pointers: b.pointers.filter((p) => !moved.includes(p)) }))
    : [{ ...s, pointers: supportPointers }];
  const body = encodeHeaderBody({ messageId: header.messageId, storedContext: header.storedContext, requiredKeys: header.requiredKeys, groups });
  const canonical = encodeEntries([]);
  const macs = await Promise.all(groups.map(async (g) => (g.name === 'support' ? headerMac(backend, keys.macKey, body, canonical) : header.macs[header.groups.findIndex((h) => h.name === g.name)]!)));
  const aads = fieldAads(fieldAadPrefix(header.messageId, 'support', canonical), moved);
  const blobs = await backend.sealMany(
    keys.encryptionKey,
    Object.values(forged).map((v, i) => ({ aad: aads[i]!, plaintext: encodeFieldPlaintext(v, DEFAULT_LIMITS.maxFieldBytes) })),
  );
  const out: JsonObject = { ...sealed, _fieldseal: headerToString(backend, body, macs) };
  Object.keys(forged).forEach((k, i) => (out[k] = fieldToString(backend, blobs[i]!)));
  return out;
}

describe.each(backends)('key groups separate writers (%s backend)', (_name, backend) => {
  async function setup() {
    const support = await LocalKeyring.generate({ name: 'support' });
    const billing = await LocalKeyring.generate({ name: 'billing' });
    const sealed = await encryptWith(backend, record, { groups: [{ name: 'support', keyring: support, paths: ['$.email'] }, { name: 'billing', keyring: billing, paths: ['$.ssn'] }] });
    return { support, billing, sealed };
  }

  test('a support key holder who drops billing from the header is refused by a reader holding both keyrings', async () => {
    const { support, billing, sealed } = await setup();
    const forged = await forgeAsSupport(backend, sealed, support, { ssn: '000-00-0000' }, false);
    // The forgery is well made: a reader who opts out of the group check accepts it.
    const accepted = await decryptWith(backend, forged, { keyrings: { support, billing }, expectGroups: false });
    expect(accepted.ssn).toBe('000-00-0000');
    // The default refuses it.
    expect(await code(decryptWith(backend, forged, { keyrings: { support, billing } }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    expect(await code(decryptWith(backend, forged, { keyrings: { support, billing }, paths: ['$.ssn'] }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    expect(await code(reencryptWith(backend, forged, { keyrings: { support, billing }, to: support }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // An explicit expectation works with a single keyring too.
    const both = new (await import('@fieldseal/core')).MultiKeyring([support, billing]);
    expect(await code(decryptWith(backend, forged, { keyring: both, expectGroups: ['support', 'billing'] }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // A document sealed from scratch under support alone, with values at billing's paths: the same.
    const fresh = await encryptWith(backend, { ...record, ssn: '000-00-0000' }, { groups: [{ name: 'support', keyring: support, paths: ['$.email', '$.ssn'] }] });
    expect(await code(decryptWith(backend, fresh, { keyrings: { support, billing } }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // The genuine document still opens, fully.
    expect(await decryptWith(backend, sealed, { keyrings: { support, billing } })).toEqual(record);
  });

  test('moving a billing path into the support group is refused even by a partial decrypt that opens only support', async () => {
    const { support, billing, sealed } = await setup();
    const forged = await forgeAsSupport(backend, sealed, support, { ssn: '000-00-0000' }, true);
    // Before the fix, a partial decrypt of $.ssn targeted only support (which now lists /ssn) and
    // never checked billing's MAC.
    expect(await code(decryptWith(backend, forged, { keyrings: { support, billing }, paths: ['$.ssn'] }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(await code(decryptWith(backend, forged, { keyrings: { support, billing } }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(await code(decryptWith(backend, forged, { keyrings: { support, billing }, groups: ['support'] }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // A reader of support alone cannot tell (it holds no key that could): documented in SECURITY.md.
    expect((await decryptWith(backend, forged, { keyrings: { support } })).ssn).toBe('000-00-0000');
  });

  test('keyrings for some groups open exactly those groups and keep the header (README: least privilege)', async () => {
    const { support, billing, sealed } = await setup();
    const onlySupport = await decryptWith(backend, sealed, { keyrings: { support } });
    expect(onlySupport.email).toBe(record.email);
    expect(onlySupport.ssn).toBe(sealed.ssn);
    expect(onlySupport._fieldseal).toBe(sealed._fieldseal);
    const onlyBilling = await decryptWith(backend, sealed, { keyrings: { billing } });
    expect(onlyBilling.ssn).toBe(record.ssn);
    expect(onlyBilling.email).toBe(sealed.email);
    // A single keyring still means "every group in the document".
    expect(await code(decryptWith(backend, sealed, { keyring: support }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    // An expected group needs a keyring.
    expect(await code(decryptWith(backend, sealed, { keyrings: { support }, expectGroups: ['support', 'billing'] }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    // A keyring named for a group the document lacks is an expectation, not a wish.
    expect(await code(decryptWith(backend, sealed, { keyrings: { support, audit: billing } }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    expect((await decryptWith(backend, sealed, { keyrings: { support, billing, audit: billing }, expectGroups: false }))).toEqual(record);
    // Bad option values are typed errors.
    expect(await code(decryptWith(backend, sealed, { keyrings: { support }, expectGroups: 'support' as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect(await code(decryptWith(backend, sealed, { keyrings: { support }, expectGroups: true as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('verifying an expected group that is not opened costs one unwrap and opens none of its fields', async () => {
    const { support, billing, sealed } = await setup();
    let billingCalls = 0;
    const counted = { wrap: billing.wrap.bind(billing), unwrap: (r: Parameters<LocalKeyring['unwrap']>[0]) => (billingCalls++, billing.unwrap(r)) };
    const partial = await decryptWith(backend, sealed, { keyrings: { support, billing: counted }, paths: ['$.email'] });
    expect(partial.email).toBe(record.email);
    expect(partial.ssn).toBe(sealed.ssn);
    expect(billingCalls).toBe(1);
  });
});

describe('operations that need every group', () => {
  test('updateBeacons with keyrings for only some groups refuses instead of beaconing ciphertext', async () => {
    const { BeaconIndex, BeaconKey, updateBeacons } = await import('@fieldseal/core');
    const support = await LocalKeyring.generate({ name: 'support' });
    const billing = await LocalKeyring.generate({ name: 'billing' });
    const index = new BeaconIndex({ keys: BeaconKey.import(crypto.getRandomValues(new Uint8Array(32)), { id: 'b1' }), fields: { ssn: { path: '$.ssn', bits: 16, distinctValues: 1_000_000 } } });
    const sealed = await encryptWith(backends[0]![1], record, { groups: [{ name: 'support', keyring: support, paths: ['$.email'] }, { name: 'billing', keyring: billing, paths: ['$.ssn'] }] });
    expect(await code(updateBeacons(sealed, { keyrings: { support }, index }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    const updated = await updateBeacons(sealed, { keyrings: { support, billing }, index });
    expect(updated.document.ssn_bidx).toBe(await index.beacon('ssn', record.ssn as string));
  });
});
