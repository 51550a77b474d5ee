// keyringFromConfig: the JSON configuration the CLI loads for `azure-keyvault:<config.json>`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, encrypt } from '@fieldseal/core';
import { startAzureKeyVaultEmulator, testTlsFixture } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureCredentialRequiredError, AzureKeyVaultKeyring, AzureKeyVaultPublicKeyKeyring, fetchAzurePublicKey, keyringFromConfig } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys, staticCredential } from './helpers.js';

const doc = { email: 'ada@example.com', plan: 'pro' };
let kv: AzureKeyVaultEmulator;
let tlsKv: AzureKeyVaultEmulator;
let dir: string;

beforeAll(async () => {
  kv = await startAzureKeyVaultEmulator();
  tlsKv = await startAzureKeyVaultEmulator({ tls: true });
  await kv.createKey('kek', { privateKey: rsaKeys()[0]! });
  await tlsKv.createKey('kek', { privateKey: rsaKeys()[1]! });
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-azure-config-'));
});
afterAll(async () => {
  await kv.close();
  await tlsKv.close();
  await rm(dir, { recursive: true, force: true });
});

describe('keyringFromConfig', () => {
  it('builds a working keyring from JSON (emulator over http)', async () => {
    const config = JSON.parse(
      JSON.stringify({ provider: 'azure-keyvault', keyId: kv.keyId('kek'), allowInsecureConnection: true, disableChallengeResourceVerification: true, timeoutMs: 5000, retry: { maxRetries: 1, retryDelayMs: 1 }, serviceVersion: '7.5' }),
    );
    const keyring = await keyringFromConfig(config, { credential: staticCredential() });
    expect(keyring).toBeInstanceOf(AzureKeyVaultKeyring);
    const sealed = await encrypt(doc, { keyring, paths: ['$.email'] });
    expect(await decrypt(sealed, { keyring })).toEqual(doc);
  });

  it('trusts the CA in tlsCaFile', async () => {
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, testTlsFixture().cert);
    const keyring = await keyringFromConfig({ keyId: tlsKv.keyId('kek'), disableChallengeResourceVerification: true, tlsCaFile: caFile, retry: { maxRetries: 0 } }, { credential: staticCredential() });
    const { dataKey, wrapped } = await keyring.wrap({ context: {} });
    expect(await keyring.unwrap({ wrapped, context: {} })).toEqual(dataKey);
    await expect(keyringFromConfig({ keyId: tlsKv.keyId('kek'), tlsCaFile: join(dir, 'missing.pem') }, { credential: staticCredential() })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });

  it('without a credential: a typed error saying a TokenCredential is needed', async () => {
    const err = await keyringFromConfig({ keyId: kv.keyId('kek') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureCredentialRequiredError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    expect((err as Error).message).toMatch(/TokenCredential/);
    expect((err as Error).message).toMatch(/@azure\/identity/);
    await expect(keyringFromConfig({ keyId: kv.keyId('kek') }, { credential: {} as never })).rejects.toBeInstanceOf(AzureCredentialRequiredError);
  });

  it('publicKeyOnly builds a wrap-only keyring that needs no credential', async () => {
    const jwk = await fetchAzurePublicKey(kv.keyId('kek'), { credential: staticCredential(), clientOptions: insecureClientOptions });
    const keyring = await keyringFromConfig({ keyId: jwk.kid, publicKeyOnly: true, publicKey: jwk });
    expect(keyring).toBeInstanceOf(AzureKeyVaultPublicKeyKeyring);
    const sealed = await encrypt(doc, { keyring, paths: ['$.email'] });
    const server = await keyringFromConfig({ keyId: kv.keyId('kek'), allowInsecureConnection: true, disableChallengeResourceVerification: true }, { credential: staticCredential() });
    expect(await decrypt(sealed, { keyring: server })).toEqual(doc);
  });

  it('emulatorToken: works without a credential against a loopback emulator, and is refused for any other host', async () => {
    const keyring = await keyringFromConfig({ keyId: kv.keyId('kek'), allowInsecureConnection: true, disableChallengeResourceVerification: true, emulatorToken: kv.tokens[0] });
    const sealed = await encrypt(doc, { keyring, paths: ['$.email'] });
    expect(await decrypt(sealed, { keyring })).toEqual(doc);
    const wrong = await keyringFromConfig({ keyId: kv.keyId('kek'), allowInsecureConnection: true, disableChallengeResourceVerification: true, emulatorToken: 'not-the-token', retry: { maxRetries: 0 } });
    await expect(wrong.wrap({ context: {} })).rejects.toMatchObject({ kind: 'auth' });
    for (const host of ['https://my-vault.vault.azure.net', 'https://127.0.0.1.nip.io', 'https://localhost.evil.example']) {
      await expect(keyringFromConfig({ keyId: `${host}/keys/k`, emulatorToken: 't' }, { credential: staticCredential() })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    }
  });

  it('rejects malformed configs with typed errors, and never reads inherited members', async () => {
    const keyId = 'https://v.vault.azure.net/keys/k';
    const bad: unknown[] = [
      null,
      [],
      'azure',
      {},
      { keyId: '' },
      { keyId, unknown: 1 },
      { keyId, provider: 'aws-kms' },
      { keyId, algorithm: 'RSA1_5' },
      { keyId, wrapMode: 'sideways' },
      { keyId, timeoutMs: '10' },
      { keyId, retry: { maxRetries: -1 } },
      { keyId, retry: { attempts: 3 } },
      { keyId, retry: 3 },
      { keyId, allowInsecureConnection: 'yes' },
      { keyId, publicKey: 5 },
      { keyId, publicKeyOnly: true },
      JSON.parse('{"__proto__": {"keyId": "https://v.vault.azure.net/keys/k"}}'),
      Object.create({ keyId }),
    ];
    for (const config of bad) {
      await expect(keyringFromConfig(config, { credential: staticCredential() }), JSON.stringify(config)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    }
    expect(({} as { keyId?: unknown }).keyId).toBeUndefined(); // no prototype pollution
  });
});
