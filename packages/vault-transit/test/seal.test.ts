import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachingKeyring, decrypt, encrypt, inspect, KeyUnavailableError, LocalKeyring, MultiKeyring, ProviderError, rewrap, type JsonObject } from '@fieldseal/core';
import { startVaultTransitEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';
import { VaultTransitKeyring } from '@fieldseal/vault-transit';

// Whole documents through core's encrypt/decrypt/rewrap with the real node-vault client against
// the emulator: the same code path a production service runs against Vault.

const customer = (): JsonObject => ({ id: 42, name: 'Ada', ssn: '123-45-6789', cards: [{ number: '4111 1111 1111 1111' }, { number: '5500 0000 0000 0004' }] });
const paths = ['$.ssn', '$.cards[*].number'];
const context = { tenant: 't1' };
const requiredContext = { rowId: '42' };
const full = { ...context, ...requiredContext };

let vault: VaultTransitEmulator;
let client: nodeVault.client;
let n = 0;
function keyring(): VaultTransitKeyring {
  const keyName = `doc-kek-${++n}`;
  vault.createKey(keyName, { derived: true });
  return new VaultTransitKeyring({ client, keyName });
}
const fieldsOf = (doc: JsonObject): unknown => ({ ssn: doc.ssn, cards: doc.cards });

beforeAll(async () => {
  vault = await startVaultTransitEmulator();
  client = nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token });
});
afterAll(async () => {
  await vault.close();
});

describe('documents sealed with a Vault transit key', () => {
  it('round-trips, and inspect shows the provider and the key version', async () => {
    const kr = keyring();
    const sealed = await encrypt(customer(), { keyring: kr, paths, context, requiredContext });
    expect(sealed.ssn).not.toBe('123-45-6789');
    expect(JSON.stringify(sealed)).not.toContain('4111');
    const info = inspect(sealed);
    expect(info.groups[0]?.wrappedKeys).toEqual([{ provider: 'vault-transit', keyId: `${kr.keyPath}:v1` }]);
    expect(await decrypt(sealed, { keyring: kr, context: full })).toEqual(customer());
  });

  it('a wrong required-context value cannot open the document: Vault refuses the data key', async () => {
    const kr = keyring();
    const sealed = await encrypt(customer(), { keyring: kr, paths, context, requiredContext });
    const err = await decrypt(sealed, { keyring: kr, context: { ...context, rowId: '43' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyUnavailableError);
    const cause = (err as KeyUnavailableError).reasons[0]?.cause;
    expect(cause).toBeInstanceOf(ProviderError);
    expect((cause as ProviderError).kind).toBe('invalid-ciphertext');
  });

  it('rotation: old documents open after rotate; core rewrap moves them to v2 in Vault; then v1 can be retired', async () => {
    const kr = keyring();
    const old = await encrypt(customer(), { keyring: kr, paths, context, requiredContext });
    await client.write(`transit/keys/${kr.keyName}/rotate`, {});
    expect(await decrypt(old, { keyring: kr, context: full })).toEqual(customer());

    vault.counters.reset();
    const { document: moved, changed } = await rewrap(structuredClone(old), { keyring: kr, to: kr, context: full });
    expect(changed).toBe(true);
    // One decrypt (core re-authenticates the header with the data key), one rewrap in Vault, no encrypt.
    // One decrypt to unlock the header MAC key, one rewrap, one decrypt to verify the rewrapped key holds the same DEK.
    expect(vault.counters.snapshot()).toEqual({ decrypt: 2, rewrap: 1 });
    expect(inspect(moved).groups[0]?.wrappedKeys).toEqual([{ provider: 'vault-transit', keyId: `${kr.keyPath}:v2` }]);
    expect(fieldsOf(moved)).toEqual(fieldsOf(old)); // field ciphertexts untouched

    const again = await rewrap(structuredClone(moved), { keyring: kr, to: kr, context: full });
    expect(again.changed).toBe(false);

    await client.write(`transit/keys/${kr.keyName}/config`, { min_decryption_version: 2 });
    expect(await decrypt(moved, { keyring: kr, context: full })).toEqual(customer());
    const err = await decrypt(old, { keyring: kr, context: full }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect(((err as KeyUnavailableError).reasons[0]?.cause as ProviderError).kind).toBe('disabled');
  });

  it('migrates a locally sealed document to Vault (client-side wrap, no service rewrap possible)', async () => {
    const local = await LocalKeyring.generate({ name: 'legacy' });
    const kr = keyring();
    const sealed = await encrypt(customer(), { keyring: local, paths, context });
    vault.counters.reset();
    const { document } = await rewrap(sealed, { keyring: local, to: kr, context });
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, encrypt: 1 });
    expect(inspect(document).groups[0]?.wrappedKeys.map((k) => k.provider)).toEqual(['vault-transit']);
    expect(await decrypt(document, { keyring: kr, context })).toEqual(customer());
  });

  it('with a local break-glass key in a MultiKeyring, documents still open while Vault is down', async () => {
    const kr = keyring();
    const local = await LocalKeyring.generate({ name: 'break-glass' });
    const multi = new MultiKeyring([kr, local]);
    const sealed = await encrypt(customer(), { keyring: multi, paths, context });
    expect(inspect(sealed).groups[0]?.wrappedKeys.map((k) => k.provider)).toEqual(['vault-transit', 'local']);
    vault.faults.inject({ kind: 'server-error', status: 503, count: 3, operation: 'decrypt' });
    expect(await decrypt(sealed, { keyring: multi, context })).toEqual(customer());
    expect(vault.faults.armed).toBe(0);
    // Vault alone, still down for all three attempts: a retryable provider error, not a permanent "key unavailable".
    vault.faults.inject({ kind: 'server-error', status: 503, count: 3, operation: 'decrypt' });
    const err = await decrypt(sealed, { keyring: kr, context }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
  });

  it('behind a CachingKeyring: 64 concurrent cold encrypts and 1,000 records make one Vault call each way', async () => {
    const caching = new CachingKeyring({ keyring: keyring() });
    vault.counters.reset();
    const first = await Promise.all(Array.from({ length: 64 }, () => encrypt(customer(), { keyring: caching, paths, context })));
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, datakey: 1 }); // verifyKey (default) reads the key once
    const rest = await Promise.all(Array.from({ length: 936 }, () => encrypt(customer(), { keyring: caching, paths, context })));
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, datakey: 1 });
    const all = [...first, ...rest];
    const reader = new CachingKeyring({ keyring: new VaultTransitKeyring({ client, keyName: (caching.keyring as VaultTransitKeyring).keyName }) });
    for (const sealed of all) expect(await decrypt(sealed, { keyring: reader, context })).toEqual(customer());
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 2, datakey: 1, decrypt: 1 });
  });
});
