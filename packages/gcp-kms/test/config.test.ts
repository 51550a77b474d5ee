import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { decrypt, encrypt, InvalidArgumentError } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcpKmsKeyring, GcpKmsRsaKeyring, keyringFromConfig } from '../src/index.js';

describe('keyringFromConfig', () => {
  let emulator: GcpKmsEmulator;
  let dir: string;
  let keyName: string;
  let rsaVersion: string;

  beforeAll(async () => {
    emulator = await startGcpKmsEmulator();
    const ring = emulator.createKeyRing('projects/p/locations/global', 'cfg');
    keyName = await emulator.createCryptoKey(ring, 'kek');
    rsaVersion = `${await emulator.createCryptoKey(ring, 'rsa', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_2048_SHA256' })}/cryptoKeyVersions/1`;
    dir = await mkdtemp(join(tmpdir(), 'fieldseal-gcp-'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a symmetric keyring that owns its client (insecure loopback emulator)', async () => {
    const keyring = await keyringFromConfig({ keyName, apiEndpoint: '127.0.0.1', port: emulator.port, insecure: true, timeoutMs: 2000, maxAttempts: 2 });
    expect(keyring).toBeInstanceOf(GcpKmsKeyring);
    try {
      const sealed = await encrypt({ ssn: '1' }, { keyring, paths: ['$.ssn'], context: { t: '1' } });
      expect(await decrypt(sealed, { keyring, context: { t: '1' } })).toEqual({ ssn: '1' });
    } finally {
      await keyring.close();
    }
  });

  it('builds an asymmetric keyring, with the public key from a file or from GetPublicKey', async () => {
    await writeFile(join(dir, 'pub.pem'), emulator.publicKeyPem(rsaVersion));
    const before = emulator.counters.get('GetPublicKey');
    const fromFile = await keyringFromConfig({ keyName: rsaVersion, mode: 'asymmetric', publicKeyFile: 'pub.pem', apiEndpoint: '127.0.0.1', port: emulator.port, insecure: true }, { baseDir: dir });
    const fetched = await keyringFromConfig({ keyName: rsaVersion, mode: 'asymmetric', apiEndpoint: '127.0.0.1', port: emulator.port, insecure: true });
    expect(fromFile).toBeInstanceOf(GcpKmsRsaKeyring);
    try {
      const sealed = await encrypt({ ssn: '1' }, { keyring: fromFile, paths: ['$.ssn'], context: {} });
      expect(emulator.counters.get('GetPublicKey')).toBe(before);
      expect(await decrypt(sealed, { keyring: fetched, context: {} })).toEqual({ ssn: '1' });
      await fetched.wrap({ context: {} });
      expect(emulator.counters.get('GetPublicKey')).toBe(before + 1);
    } finally {
      await fromFile.close();
      await fetched.close();
    }
  });

  it('talks TLS to the emulator with caFile', async () => {
    const tlsEmulator = await startGcpKmsEmulator({ tls: true });
    const caFile = fileURLToPath(new URL('../../emulators/fixtures/test-only-tls.cert.pem', import.meta.url));
    const ring = tlsEmulator.createKeyRing('projects/p/locations/global', 'r');
    const kek = await tlsEmulator.createCryptoKey(ring, 'k');
    const keyring = await keyringFromConfig({ keyName: kek, apiEndpoint: '127.0.0.1', port: tlsEmulator.port, caFile });
    try {
      const { dataKey, wrapped } = await keyring.wrap({ context: {} });
      expect(await keyring.unwrap({ wrapped, context: {} })).toEqual(dataKey);
    } finally {
      await keyring.close();
      await tlsEmulator.close();
    }
  });

  it('without usable Google credentials: a typed, non-retryable auth error, no network, and close() still resolves', async () => {
    // Application Default Credentials find nothing: no env file, an empty gcloud config dir.
    const saved = { GOOGLE_APPLICATION_CREDENTIALS: process.env['GOOGLE_APPLICATION_CREDENTIALS'], CLOUDSDK_CONFIG: process.env['CLOUDSDK_CONFIG'] };
    delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
    process.env['CLOUDSDK_CONFIG'] = dir;
    try {
      const keyring = await keyringFromConfig({ keyName, maxAttempts: 1 });
      await expect(keyring.wrap({ context: {} })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'gcp-kms', kind: 'auth', retryable: false });
      await expect(keyring.close()).resolves.toBeUndefined();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('rejects malformed configs with typed errors', async () => {
    const bad: unknown[] = [
      null,
      [],
      'gcp-kms',
      {},
      { keyName: 'kek' },
      { keyName, typo: 1 },
      { keyName, port: '443' },
      { keyName, port: 70000 },
      { keyName, mode: 'hsm' },
      { keyName, mode: 'asymmetric' }, // a CryptoKey, not a version
      { keyName, publicKeyFile: 'pub.pem' },
      { keyName, insecure: true }, // no endpoint
      { keyName, insecure: true, apiEndpoint: 'cloudkms.googleapis.com' },
      { keyName, caFile: 'ca.pem', apiEndpoint: '10.0.0.1' },
      { keyName, insecure: true, caFile: 'ca.pem', apiEndpoint: '127.0.0.1' },
      { keyName, apiEndpoint: '127.0.0.1', caFile: 'missing.pem' },
      { keyName, maxAttempts: 0 },
      JSON.parse(`{"keyName": "${keyName}", "__proto__": {"insecure": true}}`),
    ];
    for (const config of bad) {
      await expect(keyringFromConfig(config, { baseDir: dir }), JSON.stringify(config)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  it('reads own properties only: an inherited field is ignored, not applied', async () => {
    const keyring = await keyringFromConfig(Object.create({ insecure: true, mode: 'asymmetric' }, { keyName: { value: keyName, enumerable: true } }));
    expect(keyring).toBeInstanceOf(GcpKmsKeyring);
    await keyring.close();
  });

  it('the public-key subpath bundles for browsers without the Google SDK or Node built-ins', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/public-key.ts', import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'esm',
      conditions: ['fieldseal-source'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('public-key.ts'))).toBe(true);
    expect(inputs.filter((p) => /google|grpc|protobuf|node:/.test(p))).toEqual([]);
  });
});
