import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, type JsonObject, type Keyring } from '@fieldseal/core';
import { rewrapWith } from '../src/rewrap.js';
import { SUITE_V1 } from '../src/lib/format/constants.js';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { reencryptWith } from '../src/reencrypt.js';
import { DEFAULT_LIMITS } from '../src/lib/limits.js';
import { encodeEntries } from '../src/lib/context.js';
import { decodeHeader, encodeHeaderBody, headerToString } from '../src/lib/format/header.js';
import { deriveGroupKeys, fieldAadPrefix, fieldAads, groupKeyringContext, headerMac } from '../src/lib/format/document-keys.js';
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
  const dataKey = await support.unwrap({ wrapped: s.wrapped, context: groupKeyringContext(header.suite, [], 'support') });
  const keys = await deriveGroupKeys(backend, dataKey, header.messageId, 'support', header.suite);
  const moved = Object.keys(forged).map((k) => `/${k}`);
  const supportPointers = [...s.pointers.filter((p) => !moved.includes(p)), ...moved];
  const groups = keepBilling
    ? header.groups.map((g, i) => (i === si ? { ...s, pointers: supportPointers } : { ...b, pointers: b.pointers.filter((p) => !moved.includes(p)) }))
    : [{ ...s, pointers: supportPointers }];
  const body = encodeHeaderBody({ suite: header.suite, messageId: header.messageId, storedContext: header.storedContext, requiredKeys: header.requiredKeys, groups });
  const canonical = encodeEntries([]);
  const macs = await Promise.all(groups.map(async (g) => (g.name === 'support' ? headerMac(backend, keys.macKey, body, canonical) : header.macs[header.groups.findIndex((h) => h.name === g.name)]!)));
  const aads = fieldAads(fieldAadPrefix(header.messageId, 'support', canonical, header.suite), moved);
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

/**
 * Issue 23.1, the second half: a reader of group `support` knows support's data key. Under one KEK
 * shared by both groups, it relabels support's wrapped key as billing's, derives billing's keys from
 * support's data key, writes any value at billing's path and recomputes both MACs: nothing in the
 * header is wrong except that a wrap made for one group now claims another.
 */
async function relabelAsBilling(backend: Backend, sealed: JsonObject, shared: LocalKeyring, forgedSsn: string): Promise<JsonObject> {
  const header = decodeHeader(backend, sealed._fieldseal, DEFAULT_LIMITS);
  const s = header.groups.find((g) => g.name === 'support')!;
  const b = header.groups.find((g) => g.name === 'billing')!;
  const supportKey = await shared.unwrap({ wrapped: s.wrapped, context: groupKeyringContext(header.suite, [], 'support') });
  const supportKeys = await deriveGroupKeys(backend, supportKey, header.messageId, 'support', header.suite);
  const billingKeys = await deriveGroupKeys(backend, supportKey, header.messageId, 'billing', header.suite);
  const groups = header.groups.map((g) => (g === b ? { ...b, wrapped: s.wrapped, commitment: billingKeys.commitment } : g));
  const body = encodeHeaderBody({ suite: header.suite, messageId: header.messageId, storedContext: header.storedContext, requiredKeys: header.requiredKeys, groups });
  const canonical = encodeEntries([]);
  const macs = await Promise.all(groups.map((g) => headerMac(backend, (g.name === 'support' ? supportKeys : billingKeys).macKey, body, canonical)));
  const [aad] = fieldAads(fieldAadPrefix(header.messageId, 'billing', canonical, header.suite), ['/ssn']);
  const [blob] = await backend.sealMany(billingKeys.encryptionKey, [{ aad: aad!, plaintext: encodeFieldPlaintext(forgedSsn, DEFAULT_LIMITS.maxFieldBytes) }]);
  return { ...sealed, ssn: fieldToString(backend, blob!), _fieldseal: headerToString(backend, body, macs) };
}

describe.each(backends)('suite 2 binds the group into the key wrap (%s backend)', (_name, backend) => {
  const groupsOn = (shared: LocalKeyring) => ({ groups: [{ name: 'support', keyring: shared, paths: ['$.email'] }, { name: 'billing', keyring: shared, paths: ['$.ssn'] }] });

  test('a support reader cannot pass its wrapped key off as billing\'s under a shared KEK (suite 1 could)', async () => {
    const shared = await LocalKeyring.generate({ name: 'shared' });
    // Suite 1, as documents were written before: the relabelled forgery is accepted by a reader
    // that holds and expects both groups. This is the weakness suite 2 removes.
    const legacy = await encryptWith(backend, record, groupsOn(shared), SUITE_V1);
    const legacyForged = await relabelAsBilling(backend, legacy, shared, '000-00-0000');
    expect((await decryptWith(backend, legacyForged, { keyrings: { support: shared, billing: shared } })).ssn).toBe('000-00-0000');
    // A reader that requires suite 2 refuses every suite 1 document, forged or not.
    expect(await code(decryptWith(backend, legacyForged, { keyrings: { support: shared, billing: shared }, minSuite: 2 }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_VERSION');
    expect(await code(decryptWith(backend, legacy, { keyrings: { support: shared, billing: shared }, minSuite: 2 }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_VERSION');
    expect(await decryptWith(backend, legacy, { keyrings: { support: shared, billing: shared } })).toEqual(record);

    // Suite 2 (what encrypt writes): billing's unwrap is asked for billing, the wrap says support.
    const sealed = await encryptWith(backend, record, groupsOn(shared));
    expect(decodeHeader(backend, sealed._fieldseal, DEFAULT_LIMITS).suite).toBe(2);
    const forged = await relabelAsBilling(backend, sealed, shared, '000-00-0000');
    expect(await code(decryptWith(backend, forged, { keyrings: { support: shared, billing: shared } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await code(decryptWith(backend, forged, { keyring: shared }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await code(decryptWith(backend, forged, { keyrings: { support: shared, billing: shared }, paths: ['$.ssn'] }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await code(rewrapWith(backend, forged, { keyring: shared, to: shared }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await decryptWith(backend, sealed, { keyrings: { support: shared, billing: shared }, minSuite: 2 })).toEqual(record);
  });

  test('lowering the suite byte of a suite 2 header is a failed unwrap, not a downgrade', async () => {
    const shared = await LocalKeyring.generate({ name: 'shared' });
    const sealed = await encryptWith(backend, record, groupsOn(shared));
    const bytes = Buffer.from((sealed._fieldseal as string).slice(5), 'base64url');
    bytes[1] = 1;
    const lowered = { ...sealed, _fieldseal: 'fs1h.' + bytes.toString('base64url') };
    expect(await code(decryptWith(backend, lowered, { keyring: shared }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('a key policy on the group pair lets one KEK serve two groups with separate readers', async () => {
    const shared = await LocalKeyring.generate({ name: 'shared' });
    // What an AWS KMS grant or key policy with a kms:EncryptionContext:fieldseal.group condition
    // does: the KEK answers only for its group.
    const only = (group: string): Keyring => ({
      wrap: (r) => (r.context['fieldseal.group'] === group ? shared.wrap(r) : Promise.reject(new Error('denied by key policy'))),
      unwrap: (r) => (r.context['fieldseal.group'] === group ? shared.unwrap(r) : Promise.reject(new Error('denied by key policy'))),
    });
    const sealed = await encryptWith(backend, record, { groups: [{ name: 'support', keyring: only('support'), paths: ['$.email'] }, { name: 'billing', keyring: only('billing'), paths: ['$.ssn'] }] });
    const supportView = await decryptWith(backend, sealed, { keyrings: { support: only('support') } });
    expect(supportView.email).toBe(record.email);
    expect(supportView.ssn).toBe(sealed.ssn);
    // The support reader's key policy does not open billing, even with the right KEK named.
    expect(await code(decryptWith(backend, sealed, { keyrings: { billing: only('support') } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await decryptWith(backend, sealed, { keyrings: { support: only('support'), billing: only('billing') } })).toEqual(record);
  });

  test('rewrap keeps the suite and its binding; reencrypt moves a suite 1 document to suite 2', async () => {
    const shared = await LocalKeyring.generate({ name: 'shared' });
    const next = await LocalKeyring.generate({ name: 'next' });
    const legacy = await encryptWith(backend, record, groupsOn(shared), SUITE_V1);
    const rewrapped = await rewrapWith(backend, legacy, { keyring: shared, to: next });
    expect(rewrapped.changed).toBe(true);
    expect(decodeHeader(backend, rewrapped.document._fieldseal, DEFAULT_LIMITS).suite).toBe(1);
    expect(await decryptWith(backend, rewrapped.document, { keyring: next })).toEqual(record);
    const { document: upgraded } = await reencryptWith(backend, legacy, { keyring: shared, to: next });
    expect(decodeHeader(backend, upgraded._fieldseal, DEFAULT_LIMITS).suite).toBe(2);
    expect(await decryptWith(backend, upgraded, { keyring: next, minSuite: 2 })).toEqual(record);
    const rewrapped2 = await rewrapWith(backend, upgraded, { keyring: next, to: shared });
    expect(decodeHeader(backend, rewrapped2.document._fieldseal, DEFAULT_LIMITS).suite).toBe(2);
    expect(await decryptWith(backend, rewrapped2.document, { keyrings: { default: shared, support: shared, billing: shared }, expectGroups: ['support', 'billing'] })).toEqual(record);
  });

  test('minSuite accepts only suites this build knows', async () => {
    const shared = await LocalKeyring.generate({ name: 'shared' });
    const sealed = await encryptWith(backend, record, groupsOn(shared));
    for (const bad of [0, 3, '2', 1.5, null]) expect(await code(decryptWith(backend, sealed, { keyring: shared, minSuite: bad as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });
});
