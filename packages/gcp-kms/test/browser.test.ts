// The browser half of asymmetric mode in headless Chromium: the page imports a bundle of
// `@fieldseal/gcp-kms/public-key` + core's encrypt, seals a form with only the public key, and the
// server opens it with GcpKmsRsaKeyring -> AsymmetricDecrypt on the emulator (real client, gRPC).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { decrypt, type JsonObject } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/browser/chromium.mjs';
import { GcpKmsRsaKeyring } from '../src/index.js';

let emulator: GcpKmsEmulator;
let client: KeyManagementServiceClient;
let keyVersionName: string;

beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  client = new KeyManagementServiceClient(emulator.clientOptions());
  const ring = emulator.createKeyRing('projects/p/locations/global', 'web');
  const key = await emulator.createCryptoKey(ring, 'forms', { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_3072_SHA256' });
  keyVersionName = `${key}/cryptoKeyVersions/1`;
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

async function browserBundle(): Promise<{ code: string; inputs: string[] }> {
  const publicKeyEntry = fileURLToPath(new URL('../src/public-key.ts', import.meta.url));
  const coreEntry = fileURLToPath(new URL('../../core/src/index.ts', import.meta.url));
  const result = await build({
    stdin: {
      contents: `export { GcpKmsPublicKeyKeyring } from ${JSON.stringify(publicKeyEntry)}; export { encrypt } from ${JSON.stringify(coreEntry)};`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['fieldseal-source', 'browser'],
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

it.skipIf(SKIP_BROWSER_TESTS)('headless Chromium seals a form with only the Cloud KMS public key; the server opens it with AsymmetricDecrypt', async () => {
  const { code, inputs } = await browserBundle();
  expect(inputs.filter((p) => /google|grpc|protobuf|client\.ts|rsa-keyring\.ts/.test(p))).toEqual([]);
  const server = new GcpKmsRsaKeyring({ keyVersionName, client });
  const publicKeyPem = await server.exportPublicKey();
  // Served from loopback, so the page is a secure context and has WebCrypto.
  const http = createServer((req, res) => {
    if (req.url === '/seal.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>signup</title>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const before = emulator.counters.total();
    // A string, so vitest does not rewrite the dynamic import.
    const sealed = (await page.evaluate(`(async () => {
      const lib = await import(${JSON.stringify(`${origin}/seal.js`)});
      const keyring = new lib.GcpKmsPublicKeyKeyring({ keyVersionName: ${JSON.stringify(keyVersionName)}, publicKey: ${JSON.stringify(publicKeyPem)} });
      return lib.encrypt({ email: 'ada@example.com', ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'], context: { form: 'signup' } });
    })()`)) as JsonObject;
    expect(emulator.counters.total()).toBe(before); // the browser never talked to Cloud KMS
    expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
    expect(await decrypt(sealed, { keyring: server, context: { form: 'signup' } })).toEqual({ email: 'ada@example.com', ssn: '078-05-1120' });
    expect(emulator.counters.get('AsymmetricDecrypt')).toBe(1);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
}, 60_000);
