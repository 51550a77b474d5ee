// Where the Vault transit emulator must answer as Vault does (issue 21): key creation, key types,
// namespaces in the path, error bodies. The real node-vault client, endpoint and token explicit.
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultTransitEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

interface VaultFailure {
  message: string;
  response?: { statusCode: number; body: { errors?: string[] } };
}
async function failure(p: Promise<unknown>): Promise<VaultFailure> {
  return p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err as VaultFailure,
  );
}

describe('Vault transit emulator: answers as Vault does', () => {
  let vault: VaultTransitEmulator;
  let client: nodeVault.client;

  beforeAll(async () => {
    vault = await startVaultTransitEmulator({ mounts: ['transit'] });
    client = nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token });
  });
  afterAll(async () => vault.close());

  it('key creation answers 200 with the key, in the response envelope', async () => {
    const created = await client.write('transit/keys/made', { derived: true });
    expect(created).toMatchObject({ data: { name: 'made', type: 'aes256-gcm96', derived: true, latest_version: 1, keys: { '1': expect.any(Number) } } });
    expect(created.request_id).toEqual(expect.any(String));
    // Creating it again changes nothing and answers the same key.
    expect((await client.write('transit/keys/made', { derived: false })).data).toMatchObject({ derived: true, latest_version: 1 });
  });

  for (const type of ['aes128-gcm96', 'chacha20-poly1305', 'aes256-gcm96'] as const) {
    it(`implements ${type} keys, derived or not, with associated data`, async () => {
      const name = `t-${type}`;
      expect((await client.write(`transit/keys/${name}`, { type, derived: true })).data).toMatchObject({ type, derived: true });
      const enc = await client.write(`transit/encrypt/${name}`, { plaintext: b64('hello'), context: b64('ctx') });
      expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
      expect(unb64((await client.write(`transit/decrypt/${name}`, { ciphertext: enc.data.ciphertext, context: b64('ctx') })).data.plaintext)).toBe('hello');
      const wrong = await failure(client.write(`transit/decrypt/${name}`, { ciphertext: enc.data.ciphertext, context: b64('other') }));
      expect(wrong.response?.body.errors).toEqual(['cipher: message authentication failed']);
      const dk = await client.write(`transit/datakey/plaintext/${name}`, { context: b64('ctx') });
      expect(Buffer.from(dk.data.plaintext, 'base64')).toHaveLength(32);

      const aead = `${name}-aad`;
      await client.write(`transit/keys/${aead}`, { type });
      const sealed = await client.write(`transit/encrypt/${aead}`, { plaintext: b64('x'), associated_data: b64('a') });
      expect(unb64((await client.write(`transit/decrypt/${aead}`, { ciphertext: sealed.data.ciphertext, associated_data: b64('a') })).data.plaintext)).toBe('x');
      expect((await failure(client.write(`transit/decrypt/${aead}`, { ciphertext: sealed.data.ciphertext, associated_data: b64('b') }))).response?.statusCode).toBe(400);
    });
  }

  it('refuses a key type it does not implement', async () => {
    const err = await failure(client.write('transit/keys/sig', { type: 'ed25519x' }));
    expect(err.response?.statusCode).toBe(400);
  });

  it('takes the namespace from the path as well as from X-Vault-Namespace, and joins them', async () => {
    await client.write('team-a/transit/keys/ns-key', { derived: true });
    expect(vault.keyInfo('ns-key', { namespace: 'team-a' })?.latestVersion).toBe(1);
    expect(vault.keyInfo('ns-key')).toBeUndefined();
    const enc = await client.write('team-a/transit/encrypt/ns-key', { plaintext: b64('p'), context: b64('c') });
    const viaHeader = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'team-a' });
    expect(unb64((await viaHeader.write('transit/decrypt/ns-key', { ciphertext: enc.data.ciphertext, context: b64('c') })).data.plaintext)).toBe('p');
    const parent = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'org' });
    await parent.write('child/transit/keys/nested', { derived: true });
    expect(vault.keyInfo('nested', { namespace: 'org/child' })?.latestVersion).toBe(1);
    // Another namespace holds other keys.
    expect((await failure(client.write('team-b/transit/decrypt/ns-key', { ciphertext: enc.data.ciphertext, context: b64('c') }))).response?.statusCode).toBe(400);
  });

  it('shapes error bodies as Vault does: multi-error text for permission errors and unsupported operations', async () => {
    const bad = nodeVault({ endpoint: vault.url, token: 'hvs.not-a-token' });
    const denied = await failure(bad.write('transit/encrypt/made', { plaintext: b64('x'), context: b64('c') }));
    expect(denied.response?.statusCode).toBe(403);
    expect(denied.response?.body).toEqual({ errors: ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'] });
    const unsupported = await failure(client.read('transit/encrypt/made'));
    expect(unsupported.response?.statusCode).toBe(405);
    expect(unsupported.response?.body).toEqual({ errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
    const missing = await failure(client.read('transit/keys/never'));
    expect(missing.response).toMatchObject({ statusCode: 404, body: { errors: [] } });
  });
});
