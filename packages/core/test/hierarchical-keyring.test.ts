import { describe, expect, test } from 'vitest';
import { auditKeyring, branchKeyContext, createBranchKey, decrypt, destroyBranchKey, encrypt, HierarchicalKeyring, LocalKeyring, MemoryBranchKeyStore, rewrapBranchKeys, rotateBranchKey, FieldsealError, type KeyAccessEvent, type Keyring, inspect } from '@fieldseal/core';

function counting(inner: Keyring) {
  const calls = { wrap: 0, unwrap: 0 };
  const keyring: Keyring = {
    wrap: (r) => (calls.wrap++, inner.wrap(r)),
    unwrap: (r) => (calls.unwrap++, inner.unwrap(r)),
  };
  return { keyring, calls };
}

async function setup(tenants = ['acme', 'globex']) {
  const store = new MemoryBranchKeyStore();
  const kek = counting(await LocalKeyring.generate({ name: 'kek' }));
  for (const t of tenants) await createBranchKey({ store, kek: kek.keyring, branchKeyId: t });
  kek.calls.wrap = 0;
  const events: KeyAccessEvent[] = [];
  const keyring = new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: { contextKey: 'tenant' }, audit: { onEvent: (e) => events.push(e), contextValues: ['tenant'] } });
  return { store, kek, keyring, events };
}

const doc = (i: number) => ({ id: i, ssn: `078-05-${String(i).padStart(4, '0')}`, email: `u${i}@example.com` });
async function code(p: Promise<unknown>) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  return (err as FieldsealError).code;
}

describe('HierarchicalKeyring', () => {
  test('per-tenant branch keys: zero KEK calls per document after warm-up, round trip', async () => {
    const { kek, keyring } = await setup();
    const sealed = [];
    for (let i = 0; i < 200; i++) sealed.push(await encrypt(doc(i), { keyring, paths: ['$.ssn', '$.email'], context: { tenant: i % 2 ? 'acme' : 'globex' }, requiredContext: { rowId: String(i) } }));
    expect(kek.calls.unwrap).toBe(2); // one branch-key load per tenant
    for (let i = 0; i < 200; i++) expect(await decrypt(sealed[i]!, { keyring, context: { tenant: i % 2 ? 'acme' : 'globex', rowId: String(i) } })).toEqual(doc(i));
    expect(kek.calls.unwrap).toBe(2);
    expect(keyring.stats.kekCalls).toBe(2);
    const info = inspect(sealed[1]!);
    expect(info.groups[0]!.wrappedKeys[0]).toMatchObject({ provider: 'fieldseal-hierarchy', keyId: 'acme/v1' });
  });

  test('64 concurrent encrypts on a cold cache make one KEK call', async () => {
    const { kek, keyring } = await setup(['acme']);
    await Promise.all(Array.from({ length: 64 }, (_, i) => encrypt(doc(i), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } })));
    expect(kek.calls.unwrap).toBe(1);
  });

  test('a document of one tenant cannot be opened as another tenant\'s', async () => {
    const { keyring } = await setup();
    const sealed = await encrypt(doc(1), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
    const header = String(sealed._fieldseal);
    // Re-labelled context: the stored context no longer matches, and the branch key chosen differs.
    expect(await code(decrypt(sealed, { keyring, context: { tenant: 'globex' } }))).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
    expect(header.length).toBeGreaterThan(0);
    // A keyring fixed to another tenant's branch key refuses to follow the document's key id.
    const { store, kek } = await setup(['acme', 'globex']);
    const fixed = new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: 'globex' });
    const mine = await encrypt(doc(2), { keyring: new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: 'acme' }), paths: ['$.ssn'] });
    expect(await code(decrypt(mine, { keyring: fixed }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('rotating a branch key: new documents use the new version, old ones still open', async () => {
    const { store, kek, keyring } = await setup(['acme']);
    const before = await encrypt(doc(1), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
    await rotateBranchKey({ store, kek: kek.keyring, branchKeyId: 'acme' });
    const fresh = new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: { contextKey: 'tenant' } });
    const after = await encrypt(doc(2), { keyring: fresh, paths: ['$.ssn'], context: { tenant: 'acme' } });
    expect(inspect(after).groups[0]!.wrappedKeys[0]!.keyId).toBe('acme/v2');
    expect(await decrypt(before, { keyring: fresh, context: { tenant: 'acme' } })).toEqual(doc(1));
    expect(await decrypt(after, { keyring: fresh, context: { tenant: 'acme' } })).toEqual(doc(2));
    expect((await store.list()).map((r) => [r.version, r.state])).toEqual([[1, 'retired'], [2, 'active']]);
  });

  test('concurrent rotations: exactly one wins; creating an existing id is refused', async () => {
    const { store, kek } = await setup(['acme']);
    const results = await Promise.allSettled([1, 2, 3].map(() => rotateBranchKey({ store, kek: kek.keyring, branchKeyId: 'acme' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await code(createBranchKey({ store, kek: kek.keyring, branchKeyId: 'acme' }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('KEK rotation rewraps branch keys only (O(keys)); every document still opens under the new KEK alone', async () => {
    const { store, kek, keyring } = await setup();
    const sealed = await Promise.all([0, 1, 2, 3].map((i) => encrypt(doc(i), { keyring, paths: ['$.ssn'], context: { tenant: i % 2 ? 'acme' : 'globex' } })));
    const newKek = counting(await LocalKeyring.generate({ name: 'kek2' }));
    const result = await rewrapBranchKeys({ store, from: kek.keyring, to: newKek.keyring });
    expect(result).toEqual({ rewrapped: 2, conflicts: 0 });
    const after = new HierarchicalKeyring({ store, kek: newKek.keyring, branchKeyId: { contextKey: 'tenant' } });
    for (const [i, s] of sealed.entries()) expect(await decrypt(s, { keyring: after, context: { tenant: i % 2 ? 'acme' : 'globex' } })).toEqual(doc(i));
    // The old KEK no longer opens the store.
    const stale = new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: { contextKey: 'tenant' } });
    expect(await code(decrypt(sealed[0]!, { keyring: stale, context: { tenant: 'globex' } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('crypto-shredding one tenant: its documents fail with a typed error, the others open', async () => {
    const { store, kek, keyring } = await setup();
    const a = await encrypt(doc(1), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
    const g = await encrypt(doc(2), { keyring, paths: ['$.ssn'], context: { tenant: 'globex' } });
    await rotateBranchKey({ store, kek: kek.keyring, branchKeyId: 'acme' });
    expect(await destroyBranchKey({ store, branchKeyId: 'acme' })).toBe(2);
    // This process cached the key: shredding takes effect once it is evicted (TTL or clear()).
    keyring.clear();
    expect(await code(decrypt(a, { keyring, context: { tenant: 'acme' } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await decrypt(g, { keyring, context: { tenant: 'globex' } })).toEqual(doc(2));
    expect(await code(encrypt(doc(3), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('the cache expires: after cacheTtlMs the branch key is loaded again (and a shredded key stops working)', async () => {
    const { store, kek } = await setup(['acme']);
    const keyring = new HierarchicalKeyring({ store, kek: kek.keyring, branchKeyId: 'acme', cacheTtlMs: 1500 }); // long enough for a loaded machine
    const s = await encrypt(doc(1), { keyring, paths: ['$.ssn'] });
    await destroyBranchKey({ store, branchKeyId: 'acme' });
    expect(await decrypt(s, { keyring })).toEqual(doc(1)); // still cached
    await new Promise((r) => setTimeout(r, 1600));
    expect(await code(decrypt(s, { keyring }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('a hostile header listing the branch key many times costs one load and one try', async () => {
    const { kek, keyring } = await setup(['acme']);
    const sealed = await encrypt(doc(1), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
    const cold = new HierarchicalKeyring({ store: (await setup(['acme'])).store, kek: kek.keyring, branchKeyId: 'acme' });
    const w = { provider: 'fieldseal-hierarchy', keyId: 'acme/v1', ciphertext: new Uint8Array(76) };
    kek.calls.unwrap = 0;
    await expect(cold.unwrap({ wrapped: Array.from({ length: 16 }, () => w), context: { tenant: 'acme' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    expect(kek.calls.unwrap).toBeLessThanOrEqual(1);
    expect(sealed).toBeDefined();
  });

  test('audit events: every wrap, unwrap and branch-key load; context keys only, values only where allowed; no key bytes', async () => {
    const { store, kek, keyring, events } = await setup(['acme']);
    const sealed = await encrypt(doc(7), { keyring, paths: ['$.ssn'], context: { tenant: 'acme' }, requiredContext: { secretish: 'do-not-log' } });
    await decrypt(sealed, { keyring, context: { tenant: 'acme', secretish: 'do-not-log' } });
    await decrypt(sealed, { keyring, context: { tenant: 'acme', secretish: 'wrong' } }).catch(() => undefined);
    expect(events.map((e) => `${e.operation}:${e.outcome}`)).toEqual(['branch-key-load:success', 'wrap:success', 'unwrap:success', 'unwrap:failure']);
    for (const e of events) {
      expect(e.keyring).toBe('fieldseal-hierarchy');
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(e.context).toEqual({ tenant: 'acme' });
      expect(e.contextKeys).toEqual(['fieldseal.group', 'secretish', 'tenant']);
    }
    const branchKey = await kek.keyring.unwrap({ wrapped: (await store.getActive('acme'))!.wrapped, context: branchKeyContext('acme', 1) });
    const text = JSON.stringify(events);
    expect(text).not.toContain('do-not-log');
    expect(text).not.toContain('078-05');
    expect(text).not.toContain(Buffer.from(branchKey).toString('base64url'));
    expect(text).not.toContain(Buffer.from(branchKey).toString('hex'));
  });

  test('auditKeyring wraps any keyring (here a local one) with the same events', async () => {
    const events: KeyAccessEvent[] = [];
    const keyring = auditKeyring(await LocalKeyring.generate({ name: 'main' }), { name: 'local-main', onEvent: (e) => events.push(e) });
    const sealed = await encrypt(doc(1), { keyring, paths: ['$.ssn'], context: { tenant: 't' } });
    await decrypt(sealed, { keyring, context: { tenant: 't' } });
    expect(events.map((e) => [e.operation, e.outcome, e.keyring, e.context])).toEqual([['wrap', 'success', 'local-main', undefined], ['unwrap', 'success', 'local-main', undefined]]);
    expect(events[0]!.keyIds[0]).toMatch(/^main\//);
    const throwing = auditKeyring(await LocalKeyring.generate({ name: 'x' }), { name: 'x', onEvent: () => { throw new Error('sink down'); } });
    expect(await decrypt(await encrypt(doc(2), { keyring: throwing, paths: ['$.ssn'] }), { keyring: throwing })).toEqual(doc(2));
  });

  test('bad options are typed errors', async () => {
    const store = new MemoryBranchKeyStore();
    const kek = await LocalKeyring.generate();
    for (const bad of [{}, { store, kek }, { store, kek, branchKeyId: '' }, { store, kek, branchKeyId: 'a', cacheTtlMs: -1 }, { store: {}, kek, branchKeyId: 'a' }]) {
      expect(() => new HierarchicalKeyring(bad as any)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    }
    const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
    expect(await code(encrypt(doc(1), { keyring, paths: ['$.ssn'] }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });
});
