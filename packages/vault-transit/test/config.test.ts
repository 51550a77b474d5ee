import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ProviderError } from '@fieldseal/core';
import { startVaultTransitEmulator, testTlsFixture, type VaultTransitEmulator } from '@fieldseal/emulators';
import { keyringFromConfig, VaultTransitKeyring, type VaultTransitRequestError } from '@fieldseal/vault-transit';

// keyringFromConfig builds a real node-vault client. Tests pass `env` explicitly, so a developer's
// VAULT_* variables never leak in.

const ctx = { tenant: 't1' };
let vault: VaultTransitEmulator;
let dir: string;

beforeAll(async () => {
  vault = await startVaultTransitEmulator({ mounts: ['transit', 'kms'] });
  vault.createKey('cfg-kek', { derived: true });
  vault.createKey('cfg-kek', { derived: true, mount: 'kms', namespace: 'admin' });
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-vault-config-'));
});
afterAll(async () => {
  await vault.close();
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(keyring: VaultTransitKeyring): Promise<void> {
  const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
  expect(Buffer.from(await keyring.unwrap({ wrapped, context: ctx })).equals(Buffer.from(dataKey))).toBe(true);
}

describe('keyringFromConfig', () => {
  it('builds a working keyring from endpoint, token, namespace and mount in the config', async () => {
    const keyring = await keyringFromConfig({ endpoint: vault.url, token: vault.token, namespace: 'admin', mount: 'kms', keyName: 'cfg-kek' }, { env: {} });
    expect(keyring).toBeInstanceOf(VaultTransitKeyring);
    expect(keyring.keyPath).toBe('admin/kms/cfg-kek');
    await roundTrip(keyring);
  });

  it('takes the endpoint, token and namespace from VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE', async () => {
    const keyring = await keyringFromConfig({ keyName: 'cfg-kek', mount: 'kms' }, { env: { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.token, VAULT_NAMESPACE: 'admin' } });
    expect(keyring.keyPath).toBe('admin/kms/cfg-kek');
    await roundTrip(keyring);
  });

  it('reads tokenFile before every request, so a renewed token (Vault Agent sink) is picked up', async () => {
    const tokenFile = join(dir, 'token');
    const first = vault.issueToken();
    await writeFile(tokenFile, `${first}\n`, { mode: 0o600 });
    const keyring = await keyringFromConfig({ endpoint: vault.url, tokenFile: 'token', keyName: 'cfg-kek' }, { env: {}, baseDir: dir });
    const { wrapped } = await keyring.wrap({ context: ctx });
    vault.revokeToken(first);
    await writeFile(tokenFile, vault.issueToken());
    await keyring.unwrap({ wrapped, context: ctx });
    await rm(tokenFile);
    const err = await keyring.wrap({ context: ctx }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('auth');
  });

  it('verifies TLS with caCertFile (or VAULT_CACERT), and ignores VAULT_SKIP_VERIFY', async () => {
    const tls = await startVaultTransitEmulator({ tls: true });
    const saved = process.env.VAULT_SKIP_VERIFY;
    try {
      tls.createKey('tls-kek', { derived: true });
      const caFile = join(dir, 'ca.pem');
      await writeFile(caFile, testTlsFixture().cert);
      await roundTrip(await keyringFromConfig({ endpoint: tls.url, token: tls.token, keyName: 'tls-kek', caCertFile: caFile }, { env: {} }));
      await roundTrip(await keyringFromConfig({ endpoint: tls.url, token: tls.token, keyName: 'tls-kek' }, { env: { VAULT_CACERT: caFile } }));

      process.env.VAULT_SKIP_VERIFY = '1'; // node-vault would turn verification off; keyringFromConfig must not
      const untrusted = await keyringFromConfig({ endpoint: tls.url, token: tls.token, keyName: 'tls-kek' }, { env: {} });
      const err = await untrusted.wrap({ context: ctx }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ kind: 'other', retryable: false });
      expect(((err as ProviderError).cause as VaultTransitRequestError).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect((err as ProviderError).message).toMatch(/TLS verification/);
    } finally {
      if (saved === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = saved;
      await tls.close();
    }
  });

  it('passes contextBinding, timeoutMs and verifyKey through', async () => {
    vault.createKey('cfg-aead');
    const keyring = await keyringFromConfig(
      { endpoint: vault.url, token: vault.token, keyName: 'cfg-aead', contextBinding: 'associated-data', timeoutMs: 5000, verifyKey: true },
      { env: {} },
    );
    expect(keyring.contextBinding).toBe('associated-data');
    await roundTrip(keyring);
    const wrongBinding = await keyringFromConfig({ endpoint: vault.url, token: vault.token, keyName: 'cfg-aead', verifyKey: true }, { env: {} });
    await expect(wrongBinding.wrap({ context: ctx })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  const base = { keyName: 'k', endpoint: 'http://127.0.0.1:8200', token: 'hvs.x' };
  const invalid: [string, unknown, Record<string, string>?][] = [
    ['null', null],
    ['an array', [base]],
    ['a string', 'vault-transit.json'],
    ['an unknown field (typo)', { ...base, namepsace: 'admin' }],
    ['a prototype key', JSON.parse('{"keyName":"k","endpoint":"http://127.0.0.1:8200","token":"t","__proto__":{"x":1}}')],
    ['a number where a string belongs', { ...base, mount: 7 }],
    ['a string where a number belongs', { ...base, timeoutMs: '100' }],
    ['no key name', { endpoint: base.endpoint, token: base.token }],
    ['no endpoint and no VAULT_ADDR', { keyName: 'k', token: 't' }],
    ['no token and no VAULT_TOKEN', { keyName: 'k', endpoint: base.endpoint }],
    ['both token and tokenFile', { ...base, tokenFile: '/x' }],
    ['an unreadable CA file', { ...base, caCertFile: '/nonexistent/ca.pem' }],
    ['a bad context binding', { ...base, contextBinding: 'aad' }],
  ];
  for (const [what, config] of invalid) {
    it(`rejects ${what} with InvalidArgumentError`, async () => {
      await expect(keyringFromConfig(config, { env: {} })).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  }
});
