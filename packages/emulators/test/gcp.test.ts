import { KeyManagementServiceClient } from '@google-cloud/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '../src/index.js';
import { crc32c } from '../src/gcp/crc32c.js';
import { main } from '../src/gcp/cli.js';

const LOCATION = 'projects/p/locations/global';

describe('Cloud KMS emulator (real @google-cloud/kms client over loopback gRPC)', () => {
  let emulator: GcpKmsEmulator;
  let client: KeyManagementServiceClient;
  let ring: string;

  beforeAll(async () => {
    emulator = await startGcpKmsEmulator();
    client = new KeyManagementServiceClient(emulator.clientOptions());
    const [created] = await client.createKeyRing({ parent: LOCATION, keyRingId: 'ring', keyRing: {} });
    ring = created.name!;
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('crc32c matches the Castagnoli known answer', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array())).toBe(0);
  });

  it('creates keys over gRPC and round-trips Encrypt/Decrypt with the AAD bound and checksums verified', async () => {
    const [key] = await client.createCryptoKey({ parent: ring, cryptoKeyId: 'sym', cryptoKey: { purpose: 'ENCRYPT_DECRYPT' } });
    expect(key.name).toBe(`${ring}/cryptoKeys/sym`);
    expect(key.primary?.name).toBe(`${ring}/cryptoKeys/sym/cryptoKeyVersions/1`);
    const plaintext = Buffer.from('data key bytes');
    const aad = Buffer.from('tenant=t1');
    const [enc] = await client.encrypt({
      name: key.name!,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: { value: crc32c(plaintext) },
      additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
    });
    expect(enc.name).toBe(`${key.name}/cryptoKeyVersions/1`);
    expect(enc.verifiedPlaintextCrc32c).toBe(true);
    expect(enc.verifiedAdditionalAuthenticatedDataCrc32c).toBe(true);
    const ciphertext = Buffer.from(enc.ciphertext as Uint8Array);
    expect(Number(enc.ciphertextCrc32c?.value)).toBe(crc32c(ciphertext));
    const [dec] = await client.decrypt({ name: key.name!, ciphertext, additionalAuthenticatedData: aad, ciphertextCrc32c: { value: crc32c(ciphertext) } });
    expect(Buffer.from(dec.plaintext as Uint8Array).equals(plaintext)).toBe(true);
    expect(Number(dec.plaintextCrc32c?.value)).toBe(crc32c(plaintext));
    expect(dec.usedPrimary).toBe(true);

    // Without checksums the service says nothing was verified.
    const [plain] = await client.encrypt({ name: key.name!, plaintext });
    expect(plain.verifiedPlaintextCrc32c).toBe(false);

    await expect(client.decrypt({ name: key.name!, ciphertext, additionalAuthenticatedData: Buffer.from('tenant=t2') })).rejects.toMatchObject({ code: 3 });
    const flipped = Buffer.from(ciphertext);
    flipped[flipped.length - 1]! ^= 1;
    await expect(client.decrypt({ name: key.name!, ciphertext: flipped, additionalAuthenticatedData: aad })).rejects.toMatchObject({ code: 3 });
    await expect(client.decrypt({ name: `${key.name}/cryptoKeyVersions/1`, ciphertext, additionalAuthenticatedData: aad })).rejects.toMatchObject({ code: 3 });
  });

  it('rejects request checksums that do not match with INVALID_ARGUMENT', async () => {
    const keyName = await emulator.createCryptoKey(ring, 'crc');
    const plaintext = Buffer.from('abc');
    await expect(client.encrypt({ name: keyName, plaintext, plaintextCrc32c: { value: crc32c(plaintext) ^ 1 } })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining('plaintext_crc32c'),
    });
    const [enc] = await client.encrypt({ name: keyName, plaintext });
    await expect(client.decrypt({ name: keyName, ciphertext: enc.ciphertext!, ciphertextCrc32c: { value: 1 } })).rejects.toMatchObject({ code: 3 });
    await expect(client.decrypt({ name: keyName, ciphertext: enc.ciphertext!, additionalAuthenticatedDataCrc32c: { value: 7 } })).rejects.toMatchObject({ code: 3 });
  });

  it('rotates: new versions become primary via UpdateCryptoKeyPrimaryVersion, old ciphertexts still decrypt', async () => {
    const keyName = await emulator.createCryptoKey(ring, 'rot');
    const [old] = await client.encrypt({ name: keyName, plaintext: Buffer.from('v1') });
    const [version] = await client.createCryptoKeyVersion({ parent: keyName, cryptoKeyVersion: {} });
    expect(version.name).toBe(`${keyName}/cryptoKeyVersions/2`);
    const [stillOld] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    expect(stillOld.name).toBe(`${keyName}/cryptoKeyVersions/1`); // a new version is not primary by itself
    const [updated] = await client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: '2' });
    expect(updated.primary?.name).toBe(version.name);
    const [fresh] = await client.encrypt({ name: keyName, plaintext: Buffer.from('v2') });
    expect(fresh.name).toBe(version.name);
    const [dec] = await client.decrypt({ name: keyName, ciphertext: old.ciphertext! });
    expect(Buffer.from(dec.plaintext as Uint8Array).toString()).toBe('v1');
    expect(dec.usedPrimary).toBe(false);
    // A disabled version refuses to decrypt with FAILED_PRECONDITION.
    emulator.setVersionState(`${keyName}/cryptoKeyVersions/1`, 'DISABLED');
    await expect(client.decrypt({ name: keyName, ciphertext: old.ciphertext! })).rejects.toMatchObject({ code: 9 });
    expect(await emulator.rotate(keyName)).toBe(`${keyName}/cryptoKeyVersions/3`);
  });

  it('serves RSA public keys with a PEM checksum and decrypts RSA-OAEP-256 with AsymmetricDecrypt', async () => {
    const [key] = await client.createCryptoKey({
      parent: ring,
      cryptoKeyId: 'rsa',
      cryptoKey: { purpose: 'ASYMMETRIC_DECRYPT', versionTemplate: { algorithm: 'RSA_DECRYPT_OAEP_2048_SHA256' } },
    });
    const versionName = `${key.name}/cryptoKeyVersions/1`;
    const [pub] = await client.getPublicKey({ name: versionName });
    expect(pub.algorithm).toBe('RSA_DECRYPT_OAEP_2048_SHA256');
    expect(Number(pub.pemCrc32c?.value)).toBe(crc32c(Buffer.from(pub.pem!, 'utf8')));
    const { publicEncrypt, constants } = await import('node:crypto');
    const ciphertext = publicEncrypt({ key: pub.pem!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('secret dek'));
    const [dec] = await client.asymmetricDecrypt({ name: versionName, ciphertext, ciphertextCrc32c: { value: crc32c(ciphertext) } });
    expect(dec.verifiedCiphertextCrc32c).toBe(true);
    expect(Buffer.from(dec.plaintext as Uint8Array).toString()).toBe('secret dek');
    // Symmetric operations on an asymmetric key, and the reverse, are refused.
    await expect(client.encrypt({ name: key.name!, plaintext: Buffer.from('x') })).rejects.toMatchObject({ code: 9 });
    await expect(client.asymmetricDecrypt({ name: versionName, ciphertext: Buffer.alloc(256, 1) })).rejects.toMatchObject({ code: 3 });
  });

  it('answers NOT_FOUND, ALREADY_EXISTS and UNIMPLEMENTED as the service does', async () => {
    await expect(client.encrypt({ name: `${ring}/cryptoKeys/missing`, plaintext: Buffer.from('x') })).rejects.toMatchObject({ code: 5 });
    await expect(client.createKeyRing({ parent: LOCATION, keyRingId: 'ring', keyRing: {} })).rejects.toMatchObject({ code: 6 });
    await expect(client.macSign({ name: `${ring}/cryptoKeys/sym/cryptoKeyVersions/1`, data: Buffer.from('x') })).rejects.toMatchObject({ code: 12 });
  });

  it('manages versions over gRPC: Get*, UpdateCryptoKeyVersion state, purposes and algorithms it refuses', async () => {
    const keyName = await emulator.createCryptoKey(ring, 'states');
    const [ringResource] = await client.getKeyRing({ name: ring });
    expect(ringResource.name).toBe(ring);
    const [key] = await client.getCryptoKey({ name: keyName });
    expect(key).toMatchObject({ name: keyName, purpose: 'ENCRYPT_DECRYPT', versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' } });
    const versionName = `${keyName}/cryptoKeyVersions/1`;
    const [enc] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    const [disabled] = await client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: versionName, state: 'DISABLED' }, updateMask: { paths: ['state'] } });
    expect(disabled.state).toBe('DISABLED');
    await expect(client.encrypt({ name: keyName, plaintext: Buffer.from('x') })).rejects.toMatchObject({ code: 9 });
    await expect(client.decrypt({ name: keyName, ciphertext: enc.ciphertext! })).rejects.toMatchObject({ code: 9 });
    await client.updateCryptoKeyVersion({ cryptoKeyVersion: { name: versionName, state: 'ENABLED' }, updateMask: { paths: ['state'] } });
    const [dec] = await client.decrypt({ name: keyName, ciphertext: enc.ciphertext! });
    expect(Buffer.from(dec.plaintext as Uint8Array).toString()).toBe('x');
    const [version] = await client.getCryptoKeyVersion({ name: versionName });
    expect(version.state).toBe('ENABLED');
    await expect(client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: '9' })).rejects.toMatchObject({ code: 5 });
    await expect(client.createCryptoKey({ parent: ring, cryptoKeyId: 'sign', cryptoKey: { purpose: 'ASYMMETRIC_SIGN', versionTemplate: { algorithm: 'EC_SIGN_P256_SHA256' } } })).rejects.toMatchObject({ code: 12 });
    await expect(client.createCryptoKey({ parent: ring, cryptoKeyId: 'bad', cryptoKey: { purpose: 'ASYMMETRIC_DECRYPT' } })).rejects.toMatchObject({ code: 3 });
    await expect(client.createCryptoKey({ parent: ring, cryptoKeyId: 'bad id!', cryptoKey: { purpose: 'ENCRYPT_DECRYPT' } })).rejects.toMatchObject({ code: 3 });
    await expect(client.createCryptoKey({ parent: `${ring}-missing`, cryptoKeyId: 'k', cryptoKey: { purpose: 'ENCRYPT_DECRYPT' } })).rejects.toMatchObject({ code: 5 });
    // Plaintext over Cloud KMS's 64 KiB limit.
    await expect(client.encrypt({ name: keyName, plaintext: Buffer.alloc(64 * 1024 + 1) })).rejects.toMatchObject({ code: 3 });
  });

  it('failpoints: delay answers late; drop never answers, so the client deadline fires', async () => {
    const keyName = await emulator.createCryptoKey(ring, 'slow');
    emulator.faults.inject({ kind: 'delay', operation: 'Encrypt', delayMs: 50 });
    const [enc] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    expect(enc.name).toBe(`${keyName}/cryptoKeyVersions/1`);
    // A separate client: per-call timeout options would stick to the shared one.
    const impatient = new KeyManagementServiceClient(emulator.clientOptions());
    try {
      emulator.faults.inject({ kind: 'blackhole', operation: 'Encrypt' });
      await expect(impatient.encrypt({ name: keyName, plaintext: Buffer.from('x') }, { timeout: 200, maxRetries: 0 })).rejects.toMatchObject({ code: 4 });
    } finally {
      await impatient.close();
    }
  });

  it('failpoints: corrupt-response flips a response checksum; server-error answers UNAVAILABLE; counters count', async () => {
    const keyName = await emulator.createCryptoKey(ring, 'faults');
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'Encrypt' });
    const [enc] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    expect(Number(enc.ciphertextCrc32c?.value)).not.toBe(crc32c(Buffer.from(enc.ciphertext as Uint8Array)));
    const before = emulator.counters.get('Encrypt');
    // Two UNAVAILABLE answers, then success: the client's default retry policy absorbs them.
    emulator.faults.inject({ kind: 'server-error', operation: 'Encrypt', count: 2 });
    await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    expect(emulator.counters.get('Encrypt') - before).toBe(3);
    emulator.faults.inject({ kind: 'throttle', operation: 'Decrypt' });
    await expect(client.decrypt({ name: keyName, ciphertext: enc.ciphertext! })).rejects.toMatchObject({ code: 8 });
  });
});

describe('Cloud KMS emulator over TLS with a required bearer token', () => {
  it('accepts the token and refuses a missing one with UNAUTHENTICATED', async () => {
    const emulator = await startGcpKmsEmulator({ tls: true, requireToken: 'test-token' });
    const good = new KeyManagementServiceClient(emulator.clientOptions());
    const { credentials } = await import('@grpc/grpc-js');
    const noToken = new KeyManagementServiceClient({ ...emulator.clientOptions(), sslCreds: credentials.createSsl(Buffer.from(emulator.caPem!)) });
    try {
      const ring = emulator.createKeyRing(LOCATION, 'tls');
      const keyName = await emulator.createCryptoKey(ring, 'k');
      const [enc] = await good.encrypt({ name: keyName, plaintext: Buffer.from('x') });
      expect(enc.name).toBe(`${keyName}/cryptoKeyVersions/1`);
      await expect(noToken.encrypt({ name: keyName, plaintext: Buffer.from('x') })).rejects.toMatchObject({ code: 16 });
    } finally {
      await good.close();
      await noToken.close();
      await emulator.close();
    }
  });

  it('serves on IPv6 loopback too', async () => {
    const emulator = await startGcpKmsEmulator({ host: '::1' });
    const client = new KeyManagementServiceClient(emulator.clientOptions());
    try {
      expect(emulator.endpoint.apiEndpoint).toBe('[::1]');
      const keyName = await emulator.createCryptoKey(emulator.createKeyRing(LOCATION, 'v6'), 'k');
      const [enc] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
      expect(enc.name).toBe(`${keyName}/cryptoKeyVersions/1`);
    } finally {
      await client.close();
      await emulator.close();
    }
  });

  it('listens on loopback only', async () => {
    await expect(startGcpKmsEmulator({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });
});

describe('fieldseal-emulators gcp', () => {
  it('prints the endpoint and a keyring config per key, then stops on abort', async () => {
    const controller = new AbortController();
    let printed = '';
    const running = main(['--key', 'a', '--rsa-key', 'b'], {
      signal: controller.signal,
      out: {
        write(text: string) {
          printed += text;
          controller.abort();
        },
      },
    });
    await running;
    expect(printed).toMatch(/listening on 127\.0\.0\.1:\d+/);
    const configs = printed.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(configs).toHaveLength(2);
    expect(configs[0]).toMatchObject({ keyName: 'projects/fieldseal-dev/locations/global/keyRings/fieldseal/cryptoKeys/a', insecure: true });
    expect(configs[1]).toMatchObject({ keyName: 'projects/fieldseal-dev/locations/global/keyRings/fieldseal/cryptoKeys/b/cryptoKeyVersions/1', mode: 'asymmetric' });
  });

  it('rejects unknown options', async () => {
    await expect(main(['--bogus'])).rejects.toThrow(/unknown option/);
  });
});
