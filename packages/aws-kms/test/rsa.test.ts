// Asymmetric mode: seal with only the public key of a KMS RSA key, open through KMS Decrypt.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, encrypt, inspect, KeyUnavailableError, ProviderError } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import type { AwsEmulatedKey, AwsKmsEmulator } from '@fieldseal/emulators';
import { AwsKmsRsaKeyring } from '@fieldseal/aws-kms';
import type { AwsKmsRsaKeyringOptions } from '@fieldseal/aws-kms';
import { AWS_KMS_RSA_PROVIDER, AwsKmsPublicKeyKeyring } from '@fieldseal/aws-kms/public-key';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/browser/chromium.mjs';

let kms: AwsKmsEmulator;
let rsa: AwsEmulatedKey;
let otherRsa: AwsEmulatedKey;
let symmetric: AwsEmulatedKey;
const keyrings: AwsKmsRsaKeyring[] = [];

// RSA key generation is slow; two 2048-bit keys serve the file (one 3072-bit key is made through the API).
const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function serverKeyring(extra: Partial<AwsKmsRsaKeyringOptions> = {}): AwsKmsRsaKeyring {
  const k = new AwsKmsRsaKeyring({ keyId: rsa.arn, region: kms.region, endpoint: kms.url, credentials: kms.credentials, maxAttempts: 1, ...extra });
  keyrings.push(k);
  return k;
}

const form = (): JsonObject => ({ email: 'ada@example.com', ssn: '078-05-1120', plan: 'pro' });

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  rsa = kms.importRsaKey(pem(), { alias: 'alias/browser-forms' });
  otherRsa = kms.importRsaKey(pem());
  symmetric = await kms.createKey();
});

afterEach(() => {
  kms.counters.reset();
  kms.faults.clear();
});

afterAll(async () => {
  for (const k of keyrings) k.destroy();
  await kms.close();
});

describe('AwsKmsRsaKeyring', () => {
  it('wraps locally with the public key fetched once, unwraps with KMS Decrypt (RSAES_OAEP_SHA_256)', async () => {
    const k = serverKeyring();
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await k.wrap({ context: { n: String(i) } }));
    expect(kms.counters.snapshot()).toEqual({ GetPublicKey: 1 });
    const { dataKey, wrapped } = results[0]!;
    expect(wrapped).toEqual([{ provider: 'aws-kms-rsa', keyId: rsa.arn, ciphertext: expect.any(Uint8Array) }]);
    expect(wrapped[0]!.ciphertext).toHaveLength(256);
    expect(await k.unwrap({ wrapped, context: { n: '0' } })).toEqual(dataKey);
    expect(kms.log.at(-1)).toMatchObject({ operation: 'Decrypt', keyId: rsa.arn, status: 200 });
    expect(kms.log.at(-1)!.encryptionContext).toBeUndefined(); // KMS takes no context for RSA keys
  });

  it('a supplied public key means no KMS call to wrap', async () => {
    const k = serverKeyring({ publicKey: rsa.publicKeyPem! });
    const { dataKey, wrapped } = await k.wrap({ context: {} });
    expect(kms.counters.total()).toBe(0);
    expect(await k.unwrap({ wrapped, context: {} })).toEqual(dataKey);
    expect(() => serverKeyring({ keyId: 'alias/browser-forms', publicKey: rsa.publicKeyPem! })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it('by alias: GetPublicKey reports the ARN that goes into documents', async () => {
    const k = serverKeyring({ keyId: 'alias/browser-forms' });
    expect(await k.exportPublicKey()).toEqual({ keyArn: rsa.arn, publicKeyPem: rsa.publicKeyPem });
    const { dataKey, wrapped } = await k.wrap({ context: {} });
    expect(wrapped[0]!.keyId).toBe(rsa.arn);
    expect(await serverKeyring({ keyId: 'alias/browser-forms' }).unwrap({ wrapped, context: {} })).toEqual(dataKey);
  });

  it('strict: a key wrapped under another RSA key is not tried; a forged key id is refused by KMS', async () => {
    const other = new AwsKmsPublicKeyKeyring({ keyArn: otherRsa.arn, publicKey: otherRsa.publicKeyPem! });
    const { wrapped } = await other.wrap({ context: {} });
    const k = serverKeyring();
    const err = await k.unwrap({ wrapped, context: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect(kms.counters.total()).toBe(0);
    const forged = [{ ...wrapped[0]!, keyId: rsa.arn }];
    const err2 = (await k.unwrap({ wrapped: forged, context: {} }).catch((e: unknown) => e)) as KeyUnavailableError;
    expect((err2.reasons[0]!.cause as ProviderError).kind).toBe('invalid-ciphertext');
  });

  it('GetPublicKey on a symmetric key is a non-retryable invalid-request error; a failed fetch is not cached', async () => {
    const k = serverKeyring({ keyId: symmetric.arn });
    await expect(k.wrap({ context: {} })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'invalid-request', retryable: false });
    const flaky = serverKeyring();
    kms.faults.inject({ kind: 'server-error', operation: 'GetPublicKey' });
    await expect(flaky.wrap({ context: {} })).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
    expect((await flaky.wrap({ context: {} })).wrapped[0]!.keyId).toBe(rsa.arn);
  });

  it('works with a 3072-bit key created through the API', async () => {
    const big = await kms.createKey({ keySpec: 'RSA_3072' });
    const k = serverKeyring({ keyId: big.arn });
    const { dataKey, wrapped } = await k.wrap({ context: {} });
    expect(wrapped[0]!.ciphertext).toHaveLength(384);
    expect(await k.unwrap({ wrapped, context: {} })).toEqual(dataKey);
  });
});

describe('AwsKmsPublicKeyKeyring (@fieldseal/aws-kms/public-key)', () => {
  it('seals with only the public key (no AWS credentials, no KMS call); the server opens it through KMS', async () => {
    const { keyArn, publicKeyPem } = await serverKeyring().exportPublicKey();
    kms.counters.reset();
    const browserKeyring = new AwsKmsPublicKeyKeyring({ keyArn, publicKey: publicKeyPem });
    const sealed = await encrypt(form(), { keyring: browserKeyring, paths: ['$.email', '$.ssn'], context: { form: 'signup' } });
    expect(kms.counters.total()).toBe(0);
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: AWS_KMS_RSA_PROVIDER, keyId: rsa.arn }]);
    await expect(decrypt(sealed, { keyring: browserKeyring, context: { form: 'signup' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    expect(await decrypt(sealed, { keyring: serverKeyring(), context: { form: 'signup' } })).toEqual(form());
    // The context is still bound by fieldseal even though KMS does not see it.
    await expect(decrypt(sealed, { keyring: serverKeyring(), context: { form: 'other' } })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_FIELDSEAL_/) });
  });

  it('accepts SPKI DER, refuses non-KMS or private keys and non-ARN key ids', async () => {
    const der = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    expect((await new AwsKmsPublicKeyKeyring({ keyArn: rsa.arn, publicKey: new Uint8Array(der) }).wrap({ context: {} })).wrapped).toHaveLength(1);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const priv = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const publicKey of [small, ec, priv, 'not a pem', '-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----']) {
      await expect(new AwsKmsPublicKeyKeyring({ keyArn: rsa.arn, publicKey }).wrap({ context: {} })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    }
    for (const keyArn of ['alias/browser-forms', rsa.keyId, `${rsa.arn.replace(':key/', ':alias/')}`, '']) {
      expect(() => new AwsKmsPublicKeyKeyring({ keyArn, publicKey: rsa.publicKeyPem! })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    }
  });

  it('returns the data key it was given by a multi-keyring, as a copy', async () => {
    const given = new Uint8Array(32).fill(5);
    const { dataKey } = await new AwsKmsPublicKeyKeyring({ keyArn: rsa.arn, publicKey: rsa.publicKeyPem! }).wrap({ dataKey: given, context: {} });
    expect(dataKey).toEqual(given);
    expect(dataKey).not.toBe(given);
  });
});

describe('in a browser', () => {
  const entry = fileURLToPath(new URL('../src/public-key.ts', import.meta.url));
  const coreEntry = fileURLToPath(new URL('../../core/src/index.ts', import.meta.url));

  async function bundle(): Promise<{ code: string; inputs: string[] }> {
    const out = await build({
      stdin: {
        contents: `export { AwsKmsPublicKeyKeyring } from ${JSON.stringify(entry)}; export { encrypt } from ${JSON.stringify(coreEntry)};`,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['fieldseal-source', 'browser'],
      metafile: true,
      logLevel: 'silent',
    });
    return { code: out.outputFiles[0]!.text, inputs: Object.keys(out.metafile.inputs) };
  }

  it('the public-key subpath bundles for browsers without the AWS SDK or Node built-ins', async () => {
    const { code, inputs } = await bundle();
    expect(inputs.filter((i) => i.includes('@aws-sdk') || i.includes('@smithy') || i.includes('client.ts') || i.includes('keyring.ts'))).toEqual([]);
    expect(code).not.toMatch(/from ["']node:|require\(|\bBuffer\./);
  });

  it.skipIf(SKIP_BROWSER_TESTS)('headless Chromium seals a form with only the public key; the server opens it through KMS', async () => {
    const { code } = await bundle();
    const { keyArn, publicKeyPem } = await serverKeyring().exportPublicKey();
    // Served from loopback so the page is a secure context (WebCrypto needs one).
    const server = createServer((req, res) => {
      if (req.url === '/seal.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>form</title>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      kms.counters.reset();
      // A string, not a function: vitest rewrites import() inside functions it transforms.
      const script = `(async () => {
        const lib = await import(${JSON.stringify(`${origin}/seal.js`)});
        const keyring = new lib.AwsKmsPublicKeyKeyring({ keyArn: ${JSON.stringify(keyArn)}, publicKey: ${JSON.stringify(publicKeyPem)} });
        return lib.encrypt({ email: 'ada@example.com', ssn: '078-05-1120', plan: 'pro' }, { keyring, paths: ['$.email', '$.ssn'], context: { form: 'signup' } });
      })()`;
      const sealed = (await page.evaluate(script)) as JsonObject;
      expect(kms.counters.total()).toBe(0);
      expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
      expect(await decrypt(sealed, { keyring: serverKeyring(), context: { form: 'signup' } })).toEqual(form());
      expect(kms.counters.get('Decrypt')).toBe(1);
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
