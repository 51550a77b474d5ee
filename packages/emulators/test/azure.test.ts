// The Azure Key Vault emulator against the real @azure/keyvault-keys clients over loopback.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AZURE_EMULATOR_DEFAULT_TOKEN, startAzureKeyVaultEmulator, testTlsFixture } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';

function credential(token = AZURE_EMULATOR_DEFAULT_TOKEN): TokenCredential & { calls: number } {
  const cred = {
    calls: 0,
    getToken: async () => {
      cred.calls++;
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return cred;
}

const plainOptions: CryptographyClientOptions = { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
// RSA keygen is slow: generate the few keys the suite needs once.
const rsaKeys: KeyObject[] = Array.from({ length: 3 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const dek = new Uint8Array(32).map((_, i) => i + 1);

/** Send a raw HTTP request to the emulator, for the wire-level checks the SDK never makes. */
function raw(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method, headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('Azure Key Vault emulator over HTTP', () => {
  let kv: AzureKeyVaultEmulator;
  beforeAll(async () => {
    kv = await startAzureKeyVaultEmulator();
  });
  afterAll(async () => kv.close());

  it('serves the real RSA public key, and RSA-OAEP-256 wrap/unwrap round-trips through the real CryptographyClient', async () => {
    const created = await kv.createKey('rsa-kek', { privateKey: rsaKeys[0]! });
    expect(created.version).toMatch(/^[0-9a-f]{32}$/);
    const cred = credential();
    const client = new CryptographyClient(kv.keyId('rsa-kek', created.version), cred, plainOptions);
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);
    expect(wrapped.result.length).toBe(256);
    const unwrapped = await client.unwrapKey('RSA-OAEP-256', wrapped.result);
    expect(unwrapped.result).toEqual(Buffer.from(dek));
    // The challenge happened once, then every request carried the token.
    expect(kv.counters.get('challenge')).toBe(1);
    expect(cred.calls).toBe(1);
    expect(kv.counters.get('wrapKey')).toBe(1);
    expect(kv.counters.get('unwrapKey')).toBe(1);

    const keyClient = new KeyClient(kv.url, credential(), plainOptions);
    const fetched = await keyClient.getKey('rsa-kek');
    const jwk = rsaKeys[0]!.export({ format: 'jwk' });
    expect(Buffer.from(fetched.key!.n!).toString('base64url')).toBe(jwk.n);
    expect(fetched.id).toBe(kv.keyId('rsa-kek', created.version));
  });

  it('with RSA-OAEP the SDK wraps locally against the served public key, and the emulator unwraps it', async () => {
    await kv.createKey('oaep1', { privateKey: rsaKeys[1]! });
    kv.counters.reset();
    const client = new CryptographyClient(kv.keyId('oaep1'), credential(), plainOptions);
    const wrapped = await client.wrapKey('RSA-OAEP', dek);
    expect(kv.counters.get('wrapKey')).toBe(0);
    expect((await client.unwrapKey('RSA-OAEP', wrapped.result)).result).toEqual(Buffer.from(dek));
    expect(kv.counters.get('unwrapKey')).toBe(1);
  });

  it('treats an empty version as the latest, and rotation makes a new latest while old versions still unwrap', async () => {
    const v1 = await kv.createKey('rotating', { privateKey: rsaKeys[0]! });
    const latest = new CryptographyClient(kv.keyId('rotating'), credential(), plainOptions);
    const byV1 = await latest.wrapKey('RSA-OAEP-256', dek);
    const v2 = await kv.rotateKey('rotating', { privateKey: rsaKeys[1]! });
    expect(v2.version).not.toBe(v1.version);
    expect(kv.keyVersions('rotating').map((v) => v.version)).toEqual([v1.version, v2.version]);
    // A fresh versionless client wraps under v2 (the path is `/keys/rotating//wrapkey`); v1 cannot unwrap it.
    const fresh = new CryptographyClient(kv.keyId('rotating'), credential(), plainOptions);
    let kid: string | undefined;
    const byV2 = await fresh.wrapKey('RSA-OAEP-256', dek, { onResponse: (r) => (kid = (r.parsedBody as { kid?: string }).kid) });
    expect(kid).toBe(kv.keyId('rotating', v2.version));
    const clientV1 = new CryptographyClient(kv.keyId('rotating', v1.version), credential(), plainOptions);
    expect((await clientV1.unwrapKey('RSA-OAEP-256', byV1.result)).result).toEqual(Buffer.from(dek));
    await expect(clientV1.unwrapKey('RSA-OAEP-256', byV2.result)).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });

  it('A256KW on a Managed HSM oct key (RFC 3394 key wrap)', async () => {
    const hsm = await startAzureKeyVaultEmulator({ managedHsm: true });
    onTestFinished(() => hsm.close());
    const { version } = await hsm.createKey('hsm-aes', { kty: 'oct-HSM' });
    const client = new CryptographyClient(hsm.keyId('hsm-aes', version), credential(), plainOptions);
    const wrapped = await client.wrapKey('A256KW', dek);
    expect(wrapped.result.length).toBe(40);
    expect((await client.unwrapKey('A256KW', wrapped.result)).result).toEqual(Buffer.from(dek));
    const tampered = Uint8Array.from(wrapped.result);
    tampered[3]! ^= 1;
    await expect(client.unwrapKey('A256KW', tampered)).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
    await expect(client.wrapKey('RSA-OAEP-256', dek)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('KeyClient creates and rotates keys over REST', async () => {
    const keyClient = new KeyClient(kv.url, credential(), plainOptions);
    const created = await keyClient.createKey('made-by-sdk', 'RSA', { keySize: 2048 });
    expect(created.keyType).toBe('RSA');
    const rotated = await keyClient.rotateKey('made-by-sdk');
    expect(rotated.properties.version).not.toBe(created.properties.version);
    expect((await keyClient.getKey('made-by-sdk')).properties.version).toBe(rotated.properties.version);
    await keyClient.updateKeyProperties('made-by-sdk', created.properties.version!, { enabled: false });
    expect(kv.keyVersions('made-by-sdk')[0]!.enabled).toBe(false);
  });

  it('a disabled version answers 403 Forbidden / KeyDisabled', async () => {
    const { version } = await kv.createKey('disabled', { privateKey: rsaKeys[2]! });
    const client = new CryptographyClient(kv.keyId('disabled', version), credential(), plainOptions);
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);
    kv.setKeyEnabled('disabled', version, false);
    const err = await client.unwrapKey('RSA-OAEP-256', wrapped.result).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 403, code: 'Forbidden', details: { error: { innerError: { code: 'KeyDisabled' } } } });
  });

  it('an unknown key is 404 KeyNotFound', async () => {
    const client = new CryptographyClient(kv.keyId('nope', '0'.repeat(32)), credential(), plainOptions);
    await expect(client.wrapKey('RSA-OAEP-256', dek)).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
  });

  it('a wrong token is a 401 RestError (after one more challenge round)', async () => {
    await kv.createKey('auth', { privateKey: rsaKeys[0]! });
    kv.counters.reset();
    const client = new CryptographyClient(kv.keyId('auth'), credential('wrong-token'), plainOptions);
    await expect(client.wrapKey('RSA-OAEP-256', dek)).rejects.toMatchObject({ statusCode: 401, code: 'Unauthorized' });
    expect(kv.counters.get('unauthorized')).toBeGreaterThanOrEqual(1);
    expect(kv.counters.get('getKey')).toBe(0);
  });

  it('503 failpoints are retried by the SDK; counters see every attempt', async () => {
    const { version } = await kv.createKey('flaky', { privateKey: rsaKeys[1]! });
    const client = new CryptographyClient(kv.keyId('flaky', version), credential(), {
      ...plainOptions,
      retryOptions: { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    });
    await client.wrapKey('RSA-OAEP-256', dek); // challenge + getKey done
    kv.counters.reset();
    kv.faults.inject({ kind: 'server-error', status: 503, count: 2, operation: 'wrapKey' });
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);
    expect(wrapped.result.length).toBe(256);
    expect(kv.counters.get('wrapKey')).toBe(3);
    expect(kv.faults.armed).toBe(0);
  });

  it('answers the challenge before reading any body, and checks api-version and bodies', async () => {
    await kv.createKey('wire', { privateKey: rsaKeys[2]! });
    const noAuth = await raw(`${kv.url}/keys/wire//wrapkey?api-version=2025-07-01`, { method: 'POST', body: 'not json at all' });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers['www-authenticate']).toMatch(/^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"$/);
    const authed = { authorization: `Bearer ${AZURE_EMULATOR_DEFAULT_TOKEN}`, 'content-type': 'application/json' };
    const noVersion = await raw(`${kv.url}/keys/wire//wrapkey`, { method: 'POST', headers: authed, body: '{}' });
    expect(noVersion.status).toBe(400);
    expect(JSON.parse(noVersion.body)).toMatchObject({ error: { code: 'BadParameter' } });
    const badJson = await raw(`${kv.url}/keys/wire//wrapkey?api-version=7.4`, { method: 'POST', headers: authed, body: '{"alg":' });
    expect(JSON.parse(badJson.body)).toMatchObject({ error: { code: 'BadParameter' } });
    const badValue = await raw(`${kv.url}/keys/wire//wrapkey?api-version=7.4`, { method: 'POST', headers: authed, body: '{"alg":"RSA-OAEP-256","value":"a+b/"}' });
    expect(badValue.status).toBe(400);
    const protoKeys = await raw(`${kv.url}/keys/wire//wrapkey?api-version=7.4`, { method: 'POST', headers: authed, body: '{"__proto__":{"alg":"RSA-OAEP-256"},"value":"AAAA"}' });
    expect(JSON.parse(protoKeys.body)).toMatchObject({ error: { code: 'BadParameter' } });
    const ok = await raw(`${kv.url}/keys/wire//wrapkey?api%2Dversion=7.4`, { method: 'POST', headers: authed, body: JSON.stringify({ alg: 'RSA-OAEP-256', value: Buffer.from(dek).toString('base64url') }) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).kid).toMatch(new RegExp(`^${kv.url}/keys/wire/[0-9a-f]{32}$`));
    const unknownRoute = await raw(`${kv.url}/secrets/x?api-version=7.4`, { method: 'GET', headers: authed });
    expect(unknownRoute.status).toBe(404);
    const badEscape = await raw(`${kv.url}/keys/%E0%A4%A/?api-version=7.4`, { method: 'GET', headers: authed });
    expect(badEscape.status).toBe(404);
    expect(JSON.parse(badEscape.body)).toMatchObject({ error: { code: 'NotFound' } });
    const badName = await raw(`${kv.url}/keys/${'x'.repeat(200)}/create?api-version=7.4`, { method: 'POST', headers: authed, body: '{"kty":"RSA"}' });
    expect(JSON.parse(badName.body)).toMatchObject({ error: { code: 'BadParameter' } });
  });

  it('RSA encrypt/decrypt, expiry (no wrap, still unwrap) and oversized bodies', async () => {
    const { version } = await kv.createKey('misc', { privateKey: rsaKeys[1]! });
    const cred = credential();
    const client = new CryptographyClient(kv.keyId('misc', version), cred, plainOptions);
    const enc = await client.encrypt({ algorithm: 'RSA-OAEP-256', plaintext: dek });
    expect(Uint8Array.from((await client.decrypt({ algorithm: 'RSA-OAEP-256', ciphertext: enc.result })).result)).toEqual(dek);
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);

    kv.setKeyExpiry('misc', version, Math.floor(Date.now() / 1000) - 1);
    expect(kv.keyVersions('misc')[0]!.expiresOn).toBeLessThan(Date.now() / 1000);
    const authed = { authorization: `Bearer ${AZURE_EMULATOR_DEFAULT_TOKEN}`, 'content-type': 'application/json' };
    const url = (op: string) => `${kv.url}/keys/misc/${version}/${op}?api-version=7.4`;
    const wrapExpired = await raw(url('wrapkey'), { method: 'POST', headers: authed, body: JSON.stringify({ alg: 'RSA-OAEP-256', value: Buffer.from(dek).toString('base64url') }) });
    expect(wrapExpired.status).toBe(403);
    expect(JSON.parse(wrapExpired.body)).toMatchObject({ error: { code: 'Forbidden', innererror: { code: 'KeyExpired' } } });
    const unwrapExpired = await raw(url('unwrapkey'), { method: 'POST', headers: authed, body: JSON.stringify({ alg: 'RSA-OAEP-256', value: Buffer.from(wrapped.result).toString('base64url') }) });
    expect(unwrapExpired.status).toBe(200);
    expect(Buffer.from(JSON.parse(unwrapExpired.body).value, 'base64url')).toEqual(Buffer.from(dek));

    const huge = await raw(url('unwrapkey'), { method: 'POST', headers: authed, body: JSON.stringify({ alg: 'RSA-OAEP-256', value: 'A'.repeat(100_000) }) });
    expect(huge.status).toBe(413);
    const unknownAlg = await raw(url('unwrapkey'), { method: 'POST', headers: authed, body: JSON.stringify({ alg: 'RSA1_5', value: 'AAAA' }) });
    expect(JSON.parse(unknownAlg.body)).toMatchObject({ error: { code: 'BadParameter' } });
  });

  it('refuses to listen on a non-loopback address', async () => {
    await expect(startAzureKeyVaultEmulator({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });
});

describe('Azure Key Vault emulator over HTTPS', () => {
  let kv: AzureKeyVaultEmulator;
  beforeAll(async () => {
    kv = await startAzureKeyVaultEmulator({ tls: true });
  });
  afterAll(async () => kv.close());

  it('works with the fixture CA and is refused without it', async () => {
    expect(kv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { version } = await kv.createKey('tls', { privateKey: rsaKeys[0]! });
    const { cert } = testTlsFixture();
    const client = new CryptographyClient(kv.keyId('tls', version), credential(), { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 }, tlsOptions: { ca: cert } });
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);
    expect((await client.unwrapKey('RSA-OAEP-256', wrapped.result)).result).toEqual(Buffer.from(dek));
    const untrusted = new CryptographyClient(kv.keyId('tls', version), credential(), { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
    await expect(untrusted.wrapKey('RSA-OAEP-256', dek)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});
