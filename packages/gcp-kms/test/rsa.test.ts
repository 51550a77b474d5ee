// Asymmetric mode: seal with only the public key (no Google SDK), open with AsymmetricDecrypt,
// using the real @google-cloud/kms client against the emulator over loopback gRPC.
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { decrypt, encrypt, inspect, InvalidArgumentError, KeyUnavailableError, ProviderError } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { GcpKmsPublicKeyKeyring, GCP_KMS_RSA_PROVIDER, importGcpKmsPublicKey } from '@fieldseal/gcp-kms/public-key';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcpKmsRsaKeyring } from '../src/index.js';

const CONTEXT = { form: 'signup' };

describe('Cloud KMS asymmetric mode against the emulator', () => {
  let emulator: GcpKmsEmulator;
  let client: KeyManagementServiceClient;
  let ring: string;
  let v3072: string;
  let v4096: string;

  beforeAll(async () => {
    emulator = await startGcpKmsEmulator();
    client = new KeyManagementServiceClient(emulator.clientOptions());
    ring = emulator.createKeyRing('projects/p/locations/global', 'forms');
    const [k3072, k4096] = await Promise.all([
      emulator.createCryptoKey(ring, 'rsa3072', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_3072_SHA256' }),
      emulator.createCryptoKey(ring, 'rsa4096', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_4096_SHA256' }),
    ]);
    v3072 = `${k3072}/cryptoKeyVersions/1`;
    v4096 = `${k4096}/cryptoKeyVersions/1`;
  });
  afterEach(() => emulator.faults.clear());
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('seals with only the public key (no KMS call), then the server opens with AsymmetricDecrypt', async () => {
    for (const version of [v3072, v4096]) {
      const before = emulator.counters.total();
      const browser = new GcpKmsPublicKeyKeyring({ keyVersionName: version, publicKey: emulator.publicKeyPem(version) });
      const form = { email: 'a@example.com', ssn: '123-45-6789' };
      const sealed = await encrypt(form, { keyring: browser, paths: ['$.ssn'], context: CONTEXT });
      expect(emulator.counters.total()).toBe(before); // sealing never talked to Cloud KMS
      expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: GCP_KMS_RSA_PROVIDER, keyId: version }]);
      await expect(decrypt(sealed, { keyring: browser, context: CONTEXT })).rejects.toBeInstanceOf(KeyUnavailableError);

      const server = new GcpKmsRsaKeyring({ keyVersionName: version, client });
      expect(await decrypt(sealed, { keyring: server, context: CONTEXT })).toEqual(form);
      expect(emulator.counters.get('AsymmetricDecrypt')).toBeGreaterThan(0);
    }
  });

  it('fetches the public key once with GetPublicKey (CRC32C checked) when none is given', async () => {
    const keyring = new GcpKmsRsaKeyring({ keyVersionName: v3072, client });
    const before = emulator.counters.get('GetPublicKey');
    const { dataKey, wrapped } = await keyring.wrap({ context: CONTEXT });
    await keyring.wrap({ context: CONTEXT });
    expect(emulator.counters.get('GetPublicKey') - before).toBe(1);
    expect(wrapped[0]).toMatchObject({ provider: 'gcp-kms-rsa', keyId: v3072 });
    expect(await keyring.unwrap({ wrapped, context: CONTEXT })).toEqual(dataKey);
    expect(await keyring.exportPublicKey()).toBe(emulator.publicKeyPem(v3072));
  });

  it('refuses a public key whose pem_crc32c does not match, and does not cache the failure', async () => {
    const keyring = new GcpKmsRsaKeyring({ keyVersionName: v3072, client });
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'GetPublicKey', count: 3 });
    await expect(keyring.wrap({ context: CONTEXT })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'gcp-kms-rsa', kind: 'integrity', message: expect.stringMatching(/pem_crc32c/) });
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    expect(wrapped).toHaveLength(1);
  });

  it('refuses a public key for another version, and algorithms whose OAEP hash is not SHA-256', async () => {
    emulator.tamperNextResponse('GetPublicKey', (r) => void (r.name = v4096));
    await expect(new GcpKmsRsaKeyring({ keyVersionName: v3072, client }).wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'integrity', retryable: false });
    const sha1 = await emulator.createCryptoKey(ring, 'sha1', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_2048_SHA1' });
    await expect(new GcpKmsRsaKeyring({ keyVersionName: `${sha1}/cryptoKeyVersions/1`, client }).wrap({ context: CONTEXT })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('catches a corrupted plaintext_crc32c or an unverified ciphertext_crc32c from AsymmetricDecrypt', async () => {
    const keyring = new GcpKmsRsaKeyring({ keyVersionName: v3072, client, retry: { maxAttempts: 2 } });
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'AsymmetricDecrypt', count: 2 });
    let err = await keyring.unwrap({ wrapped, context: CONTEXT }).catch((e: unknown) => e);
    expect((err as KeyUnavailableError).reasons[0]!.cause).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/plaintext_crc32c/) });
    emulator.tamperNextResponse('AsymmetricDecrypt', (r) => void (r.verifiedCiphertextCrc32c = false));
    emulator.tamperNextResponse('AsymmetricDecrypt', (r) => void (r.verifiedCiphertextCrc32c = false));
    err = await keyring.unwrap({ wrapped, context: CONTEXT }).catch((e: unknown) => e);
    expect((err as KeyUnavailableError).reasons[0]!.cause).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/ciphertext_crc32c/) });
    // After one corrupted response the retry succeeds.
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'AsymmetricDecrypt' });
    expect(await keyring.unwrap({ wrapped, context: CONTEXT })).toHaveLength(32);
  });

  it('opens documents sealed under an older version after the key gets a new one, and stays strict', async () => {
    const key = await emulator.createCryptoKey(ring, 'rotating', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_3072_SHA256' });
    const v1 = `${key}/cryptoKeyVersions/1`;
    const old = await encrypt({ ssn: '1' }, { keyring: new GcpKmsPublicKeyKeyring({ keyVersionName: v1, publicKey: emulator.publicKeyPem(v1) }), paths: ['$.ssn'], context: CONTEXT });
    const v2 = await emulator.rotate(key);
    const server = new GcpKmsRsaKeyring({ keyVersionName: v2, client });
    expect(await decrypt(old, { keyring: server, context: CONTEXT })).toEqual({ ssn: '1' });
    // A document naming a version of a CryptoKey the server was not configured with is not followed.
    const foreign = await encrypt({ ssn: '1' }, { keyring: new GcpKmsPublicKeyKeyring({ keyVersionName: v3072, publicKey: emulator.publicKeyPem(v3072) }), paths: ['$.ssn'], context: CONTEXT });
    const before = emulator.counters.get('AsymmetricDecrypt');
    await expect(decrypt(foreign, { keyring: server, context: CONTEXT })).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(emulator.counters.get('AsymmetricDecrypt')).toBe(before);
  });

  it('a wrapped key that is not a 32-byte data key, or garbage, is refused with a typed reason', async () => {
    const pub = await importGcpKmsPublicKey(emulator.publicKeyPem(v3072));
    const short = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, pub, new Uint8Array(16)));
    const server = new GcpKmsRsaKeyring({ keyVersionName: v3072, client });
    for (const ciphertext of [short, new Uint8Array(384).fill(1)]) {
      const err = await server.unwrap({ wrapped: [{ provider: GCP_KMS_RSA_PROVIDER, keyId: v3072, ciphertext }], context: CONTEXT }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyUnavailableError);
      const cause = (err as KeyUnavailableError).reasons[0]!.cause as ProviderError;
      expect(cause).toMatchObject({ kind: 'invalid-ciphertext', retryable: false });
    }
  });

  it('validates public keys and names', async () => {
    const pem = emulator.publicKeyPem(v3072);
    expect(() => new GcpKmsPublicKeyKeyring({ keyVersionName: ring + '/cryptoKeys/rsa3072', publicKey: pem })).toThrow(InvalidArgumentError);
    expect(() => new GcpKmsPublicKeyKeyring({ keyVersionName: v3072, publicKey: 42 as never })).toThrow(InvalidArgumentError);
    expect(() => new GcpKmsRsaKeyring({ keyVersionName: 'rsa3072', client })).toThrow(InvalidArgumentError);
    await expect(importGcpKmsPublicKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).rejects.toThrow(/private key/);
    await expect(importGcpKmsPublicKey('not a pem')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(importGcpKmsPublicKey(new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(InvalidArgumentError);
    // A 1024-bit RSA key is not a Cloud KMS key.
    const small = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
    await expect(importGcpKmsPublicKey(small.publicKey)).rejects.toThrow(/1024 bits/);
  });
});
