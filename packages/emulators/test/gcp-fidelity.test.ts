// Where the Cloud KMS emulator must answer as Cloud KMS does (issue 21): GetPublicKey's
// publicKeyFormat, and a dropped connection that the client notices. The real @google-cloud/kms client.
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { createPublicKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '../src/index.js';
import { crc32c } from '../src/gcp/crc32c.js';

let emulator: GcpKmsEmulator;
let client: KeyManagementServiceClient;
let ring: string;
let versionName: string;
let keyName: string;

beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  client = new KeyManagementServiceClient(emulator.clientOptions());
  ring = emulator.createKeyRing('projects/p/locations/global', 'fidelity');
  const rsa = await emulator.createCryptoKey(ring, 'rsa', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_2048_SHA256' });
  versionName = `${rsa}/cryptoKeyVersions/1`;
  keyName = await emulator.createCryptoKey(ring, 'sym');
});
afterEach(() => emulator.faults.clear());
afterAll(async () => {
  await client.close();
  await emulator.close();
});

describe('Cloud KMS emulator: answers as Cloud KMS does', () => {
  it('GetPublicKey without a format answers the PEM in `pem`', async () => {
    const [pub] = await client.getPublicKey({ name: versionName });
    expect(pub.pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(Number(pub.pemCrc32c?.value)).toBe(crc32c(Buffer.from(pub.pem!, 'utf8')));
    expect(pub.publicKey ?? null).toBeNull();
  });

  it('GetPublicKey honours publicKeyFormat PEM and DER, with a checksum over the data', async () => {
    const [pem] = await client.getPublicKey({ name: versionName, publicKeyFormat: 'PEM' });
    expect(pem.publicKeyFormat).toBe('PEM');
    const pemData = Buffer.from(pem.publicKey!.data as Uint8Array);
    expect(pemData.toString('utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(Number(pem.publicKey!.crc32cChecksum?.value)).toBe(crc32c(pemData));

    const [der] = await client.getPublicKey({ name: versionName, publicKeyFormat: 'DER' });
    expect(der.publicKeyFormat).toBe('DER');
    const derData = Buffer.from(der.publicKey!.data as Uint8Array);
    expect(Number(der.publicKey!.crc32cChecksum?.value)).toBe(crc32c(derData));
    expect(der.pem ?? '').toBe('');
    const fromDer = createPublicKey({ key: derData, format: 'der', type: 'spki' });
    expect(fromDer.export({ type: 'spki', format: 'pem' }).toString()).toBe(pemData.toString('utf8'));
  });

  it('GetPublicKey refuses formats an RSA key has none of', async () => {
    for (const publicKeyFormat of ['NIST_PQC', 'XWING_RAW_BYTES'] as const) {
      await expect(client.getPublicKey({ name: versionName, publicKeyFormat })).rejects.toMatchObject({ code: 3 });
    }
  });

  it('a dropped connection reaches the client as UNAVAILABLE at once, and the client reconnects', async () => {
    const impatient = new KeyManagementServiceClient(emulator.clientOptions());
    try {
      emulator.faults.inject({ kind: 'drop', operation: 'Encrypt' });
      const started = Date.now();
      // A deadline far beyond the test's: only a real drop can end the call in time.
      const err = await impatient.encrypt({ name: keyName, plaintext: Buffer.from('x') }, { timeout: 60_000, maxRetries: 0 }).then(
        () => undefined,
        (e: unknown) => e as { code?: number; message?: string },
      );
      expect(err).toBeDefined();
      expect(err?.message ?? '').toMatch(/UNAVAILABLE|14 /);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await impatient.close();
    }
    // A client with its default retries gets its answer on the next connection.
    emulator.counters.reset();
    emulator.faults.inject({ kind: 'drop', operation: 'Encrypt' });
    const [out] = await client.encrypt({ name: keyName, plaintext: Buffer.from('y') });
    expect(out.name).toBe(`${keyName}/cryptoKeyVersions/1`);
    expect(emulator.counters.get('Encrypt')).toBe(2);
  });
});
