// Where the Azure Key Vault emulator must answer as Key Vault does (issue 21): listing key
// versions, and symmetric keys only on a Managed HSM. The real @azure/keyvault-keys clients.
import { generateKeyPairSync } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURE_EMULATOR_DEFAULT_TOKEN, startAzureKeyVaultEmulator, type AzureKeyVaultEmulator } from '@fieldseal/emulators';

const credential = (): TokenCredential => ({ getToken: async () => ({ token: AZURE_EMULATOR_DEFAULT_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) });
const options = { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

let vault: AzureKeyVaultEmulator;
let hsm: AzureKeyVaultEmulator;

beforeAll(async () => {
  vault = await startAzureKeyVaultEmulator();
  hsm = await startAzureKeyVaultEmulator({ managedHsm: true });
});
afterAll(async () => {
  await vault.close();
  await hsm.close();
});

describe('Azure Key Vault emulator: answers as Key Vault does', () => {
  it('lists the versions of a key', async () => {
    const v1 = await vault.createKey('listed', { privateKey: rsa });
    const v2 = await vault.rotateKey('listed', { privateKey: rsa });
    const client = new KeyClient(vault.url, credential(), options);
    const seen: { id?: string; version?: string; enabled?: boolean }[] = [];
    for await (const p of client.listPropertiesOfKeyVersions('listed')) seen.push({ id: p.id, version: p.version, enabled: p.enabled });
    expect(seen.map((p) => p.version).sort()).toEqual([v1.version, v2.version].sort());
    expect(seen.every((p) => p.enabled === true && p.id === vault.keyId('listed', p.version))).toBe(true);
    await expect(async () => {
      for await (const _ of client.listPropertiesOfKeyVersions('never-made')) void _;
    }).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
  });

  it('a vault refuses symmetric (oct) keys; a Managed HSM makes them', async () => {
    const client = new KeyClient(vault.url, credential(), options);
    for (const kty of ['oct', 'oct-HSM'] as const) {
      await expect(client.createKey(`aes-${kty}`, kty, { keySize: 256 })).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
      await expect(vault.createKey(`aes-${kty}`, { kty })).rejects.toMatchObject({ status: 400 });
    }
    expect((await client.createKey('still-rsa', 'RSA', { keySize: 2048 })).keyType).toBe('RSA');

    const onHsm = new KeyClient(hsm.url, credential(), options);
    expect((await onHsm.createKey('aes', 'oct-HSM', { keySize: 256 })).keyType).toBe('oct-HSM');
    expect((await hsm.createKey('aes-2', { kty: 'oct-HSM' })).kty).toBe('oct-HSM');
  });
});
