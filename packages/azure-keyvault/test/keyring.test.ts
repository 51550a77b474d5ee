// AzureKeyVaultKeyring with the real @azure/keyvault-keys client against the loopback emulator.
import { KeyUnavailableError, ProviderError } from '@fieldseal/core';
import type { WrappedKey } from '@fieldseal/core';
import { startAzureKeyVaultEmulator, testTlsFixture } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { CryptographyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureCredentialRequiredError, AzureKeyVaultKeyring } from '@fieldseal/azure-keyvault';
import type { AzureKeyVaultKeyringOptions } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys, staticCredential, testDataKey } from './helpers.js';

const context = { tenant: 't1' };
let kv: AzureKeyVaultEmulator;

beforeAll(async () => {
  kv = await startAzureKeyVaultEmulator();
});
afterAll(async () => kv.close());

function keyring(options: Partial<AzureKeyVaultKeyringOptions> & { keyId: string }): AzureKeyVaultKeyring {
  return new AzureKeyVaultKeyring({ credential: staticCredential(), clientOptions: insecureClientOptions, retry: { maxRetries: 0 }, ...options });
}

async function unwrapError(ring: AzureKeyVaultKeyring, wrapped: readonly WrappedKey[]): Promise<KeyUnavailableError> {
  const err = await ring.unwrap({ wrapped, context }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyUnavailableError);
  return err as KeyUnavailableError;
}

describe('AzureKeyVaultKeyring', () => {
  it('round-trips a data key with a versioned key id, and records that kid', async () => {
    const { version } = await kv.createKey('kek', { privateKey: rsaKeys()[0]! });
    const ring = keyring({ keyId: kv.keyId('kek', version) });
    const given = testDataKey();
    const { dataKey, wrapped } = await ring.wrap({ dataKey: given, context });
    expect(dataKey).toEqual(given);
    expect(dataKey).not.toBe(given); // a copy the caller owns
    expect(given).toEqual(testDataKey()); // the input was not modified
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]!.provider).toBe('azure-keyvault');
    expect(wrapped[0]!.keyId).toBe(kv.keyId('kek', version));
    expect(wrapped[0]!.ciphertext).toHaveLength(256);
    const unwrapped = await ring.unwrap({ wrapped, context });
    expect(unwrapped).toEqual(given);
  });

  it('generates a fresh random data key when none is given', async () => {
    const ring = keyring({ keyId: kv.keyId('kek') });
    const a = await ring.wrap({ context });
    const b = await ring.wrap({ context });
    expect(a.dataKey).toHaveLength(32);
    expect(a.dataKey).not.toEqual(b.dataKey);
    expect(await ring.unwrap({ wrapped: b.wrapped, context })).toEqual(b.dataKey);
  });

  it('a versionless key id wraps with the latest version, records it, and follows a rotation; old versions keep unwrapping', async () => {
    const v1 = await kv.createKey('rotating', { privateKey: rsaKeys()[0]! });
    const ring = keyring({ keyId: kv.keyId('rotating') });
    const before = await ring.wrap({ context });
    expect(before.wrapped[0]!.keyId).toBe(kv.keyId('rotating', v1.version));

    const v2 = await kv.rotateKey('rotating', { privateKey: rsaKeys()[1]! });
    const after = await ring.wrap({ context });
    expect(after.wrapped[0]!.keyId).toBe(kv.keyId('rotating', v2.version));

    // Same keyring and a fresh one both open data keys wrapped under either version.
    for (const r of [ring, keyring({ keyId: kv.keyId('rotating') })]) {
      expect(await r.unwrap({ wrapped: before.wrapped, context })).toEqual(before.dataKey);
      expect(await r.unwrap({ wrapped: after.wrapped, context })).toEqual(after.dataKey);
    }
  });

  it('a pinned version keeps wrapping with that version after rotation, and unwraps other versions of the same key', async () => {
    const v1 = await kv.createKey('pinned', { privateKey: rsaKeys()[2]! });
    const pinned = keyring({ keyId: kv.keyId('pinned', v1.version) });
    await kv.rotateKey('pinned', { privateKey: rsaKeys()[3]! });
    const res = await pinned.wrap({ context });
    expect(res.wrapped[0]!.keyId).toBe(kv.keyId('pinned', v1.version));
    const latest = await keyring({ keyId: kv.keyId('pinned') }).wrap({ context });
    expect(latest.wrapped[0]!.keyId).not.toBe(res.wrapped[0]!.keyId);
    expect(await pinned.unwrap({ wrapped: latest.wrapped, context })).toEqual(latest.dataKey);
  });

  it('is strict: wrapped keys of another key, vault or provider are never sent to Key Vault', async () => {
    const a = await kv.createKey('strict-a', { privateKey: rsaKeys()[0]! });
    await kv.createKey('strict-b', { privateKey: rsaKeys()[1]! });
    const ringA = keyring({ keyId: kv.keyId('strict-a') });
    const ringB = keyring({ keyId: kv.keyId('strict-b') });
    const { wrapped } = await ringB.wrap({ context });
    const otherVault = wrapped.map((w) => ({ ...w, keyId: w.keyId.replace('127.0.0.1', 'localhost') }));
    const versionless = [{ ...wrapped[0]!, keyId: kv.keyId('strict-a') }];
    const notAUrl = [{ ...wrapped[0]!, keyId: 'strict-a' }];
    const otherProvider = [{ ...wrapped[0]!, provider: 'aws-kms', keyId: kv.keyId('strict-a', a.version) }];
    kv.counters.reset();
    for (const w of [wrapped, otherVault, versionless, notAUrl]) {
      const err = await unwrapError(ringA, w);
      expect(err.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
      expect(err.reasons).toHaveLength(1);
    }
    const none = await unwrapError(ringA, otherProvider);
    expect(none.reasons[0]!.message).toMatch(/no wrapped key/);
    expect(kv.counters.get('unwrapKey')).toBe(0);
  });

  it('tries every wrapped key of the group and reports one reason per key tried', async () => {
    const { version } = await kv.createKey('multi', { privateKey: rsaKeys()[2]! });
    const ring = keyring({ keyId: kv.keyId('multi', version) });
    const good = await ring.wrap({ context });
    const corrupt: WrappedKey = { ...good.wrapped[0]!, ciphertext: Uint8Array.from(good.wrapped[0]!.ciphertext).fill(7, 0, 8) };
    expect(await ring.unwrap({ wrapped: [corrupt, ...good.wrapped], context })).toEqual(good.dataKey);
    const err = await unwrapError(ring, [corrupt, corrupt]);
    expect(err.reasons).toHaveLength(2);
    const cause = err.reasons[0]!.cause as ProviderError;
    expect(cause).toBeInstanceOf(ProviderError);
    expect(cause).toMatchObject({ provider: 'azure-keyvault', keyId: corrupt.keyId, kind: 'invalid-ciphertext', retryable: false });
  });

  it('A256KW on a Managed HSM AES key', async () => {
    // Symmetric keys exist only in a Managed HSM; the vault emulator refuses them, as Key Vault does.
    const hsm = await startAzureKeyVaultEmulator({ managedHsm: true });
    try {
      const { version } = await hsm.createKey('hsm-aes', { kty: 'oct-HSM' });
      const ring = keyring({ keyId: hsm.keyId('hsm-aes'), algorithm: 'A256KW' });
      const { dataKey, wrapped } = await ring.wrap({ context });
      expect(wrapped[0]!.keyId).toBe(hsm.keyId('hsm-aes', version));
      expect(wrapped[0]!.ciphertext).toHaveLength(40);
      expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    } finally {
      await hsm.close();
    }
  });

  it('calls only wrapkey/unwrapkey: no key GET, one challenge per client', async () => {
    const { version } = await kv.createKey('lean', { privateKey: rsaKeys()[1]! });
    const ring = keyring({ keyId: kv.keyId('lean', version) });
    kv.counters.reset();
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(kv.counters.snapshot()).toEqual({ challenge: 2, wrapKey: 1, unwrapKey: 2 });
  });

  it('64 concurrent wraps on a cold keyring all succeed and unwrap', async () => {
    const ring = keyring({ keyId: kv.keyId('kek') });
    const results = await Promise.all(Array.from({ length: 64 }, () => ring.wrap({ context })));
    expect(new Set(results.map((r) => Buffer.from(r.dataKey).toString('hex'))).size).toBe(64);
    const reader = keyring({ keyId: kv.keyId('kek') });
    const opened = await Promise.all(results.map((r) => reader.unwrap({ wrapped: r.wrapped, context })));
    opened.forEach((k, i) => expect(k).toEqual(results[i]!.dataKey));
  });

  it('an expired version still unwraps (Key Vault allows it; the SDK alone would refuse locally), but no longer wraps', async () => {
    const { version } = await kv.createKey('expiring', { privateKey: rsaKeys()[3]! });
    const pinned = keyring({ keyId: kv.keyId('expiring', version) });
    const old = await pinned.wrap({ context });
    kv.setKeyExpiry('expiring', version, Math.floor(Date.now() / 1000) - 60);
    await kv.rotateKey('expiring', { privateKey: rsaKeys()[0]! });

    // What a plain CryptographyClient from a key id does: GET the key, then refuse on its expiry.
    const plain = new CryptographyClient(kv.keyId('expiring', version), staticCredential(), { ...insecureClientOptions, retryOptions: { maxRetries: 0 } });
    await expect(plain.unwrapKey('RSA-OAEP-256', old.wrapped[0]!.ciphertext)).rejects.toThrow(/expired/);

    expect(await keyring({ keyId: kv.keyId('expiring') }).unwrap({ wrapped: old.wrapped, context })).toEqual(old.dataKey);
    await expect(pinned.wrap({ context })).rejects.toMatchObject({ kind: 'disabled', retryable: false });
    const latest = await keyring({ keyId: kv.keyId('expiring') }).wrap({ context });
    expect(latest.wrapped[0]!.keyId).not.toContain(version);
  });

  it('rejects bad options with typed errors', () => {
    const bad: unknown[] = [
      { keyId: 'not a url' },
      { keyId: 'ftp://v/keys/k' },
      { keyId: 'https://v.vault.azure.net/secrets/k' },
      { keyId: 'https://v.vault.azure.net/keys/k/v1/extra' },
      { keyId: 'https://v.vault.azure.net/keys/bad_name' },
      { keyId: 'https://v.vault.azure.net/keys/k?x=1' },
      { keyId: 'https://user:pw@v.vault.azure.net/keys/k' },
      { keyId: 'https://v.vault.azure.net/keys/k', algorithm: 'RSA1_5' },
      { keyId: 'https://v.vault.azure.net/keys/k', algorithm: 'A256KW', wrapMode: 'local' },
      { keyId: 'https://v.vault.azure.net/keys/k', timeoutMs: -1 },
      { keyId: 'https://v.vault.azure.net/keys/k', retry: { maxRetries: 1.5 } },
    ];
    for (const options of bad) {
      expect(() => new AzureKeyVaultKeyring({ credential: staticCredential(), ...(options as object) } as unknown as AzureKeyVaultKeyringOptions), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }),
      );
    }
    expect(() => new AzureKeyVaultKeyring({ keyId: 'https://v.vault.azure.net/keys/k' } as AzureKeyVaultKeyringOptions)).toThrow(AzureCredentialRequiredError);
    expect(() => new AzureKeyVaultKeyring({ keyId: 'https://v.vault.azure.net/keys/k', credential: { token: 'x' } } as never)).toThrow(AzureCredentialRequiredError);
  });

  it('rejects a data key of the wrong length', async () => {
    const ring = keyring({ keyId: kv.keyId('kek') });
    await expect(ring.wrap({ dataKey: new Uint8Array(16), context })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });
});

describe('AzureKeyVaultKeyring errors', () => {
  it('a wrong token is a non-retryable auth ProviderError on wrap, and a reason on unwrap', async () => {
    const { version } = await kv.createKey('auth', { privateKey: rsaKeys()[0]! });
    const good = await keyring({ keyId: kv.keyId('auth', version) }).wrap({ context });
    const ring = keyring({ keyId: kv.keyId('auth', version), credential: staticCredential('wrong-token') });
    const err = await ring.wrap({ context }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'azure-keyvault', keyId: kv.keyId('auth', version), kind: 'auth', retryable: false });
    const unwrapErr = await unwrapError(ring, good.wrapped);
    expect(unwrapErr.reasons[0]!.cause).toMatchObject({ kind: 'auth', retryable: false });
  });

  it('503 is retried per the retry option, then surfaces as retryable unavailable', async () => {
    const { version } = await kv.createKey('flaky', { privateKey: rsaKeys()[1]! });
    const retrying = keyring({ keyId: kv.keyId('flaky', version), retry: { maxRetries: 2, retryDelayMs: 1, maxRetryDelayMs: 5 } });
    await retrying.wrap({ context }); // challenge and key fetch out of the way
    kv.counters.reset();
    kv.faults.inject({ kind: 'server-error', status: 503, count: 2, operation: 'wrapKey' });
    const res = await retrying.wrap({ context });
    expect(kv.counters.get('wrapKey')).toBe(3);
    expect(await retrying.unwrap({ wrapped: res.wrapped, context })).toEqual(res.dataKey);

    const once = keyring({ keyId: kv.keyId('flaky', version), retry: { maxRetries: 0 } });
    await once.wrap({ context });
    kv.faults.inject({ kind: 'server-error', status: 503, count: 1, operation: 'wrapKey' });
    await expect(once.wrap({ context })).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
    expect(kv.faults.armed).toBe(0);
  });

  it('429 is throttled and retryable', async () => {
    const ring = keyring({ keyId: kv.keyId('flaky') });
    await ring.wrap({ context });
    kv.faults.inject({ kind: 'throttle', operation: 'wrapKey' });
    await expect(ring.wrap({ context })).rejects.toMatchObject({ kind: 'throttled', retryable: true });
  });

  it('a hung call times out per timeoutMs as retryable unavailable', async () => {
    const ring = keyring({ keyId: kv.keyId('flaky'), timeoutMs: 100 });
    await ring.wrap({ context });
    kv.faults.inject({ kind: 'delay', delayMs: 1_000, operation: 'wrapKey' });
    await expect(ring.wrap({ context })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'unavailable', retryable: true });
  });

  it('a dropped connection is retryable unavailable; a closed port too', async () => {
    const ring = keyring({ keyId: kv.keyId('flaky') });
    await ring.wrap({ context });
    kv.faults.inject({ kind: 'drop', operation: 'wrapKey' });
    await expect(ring.wrap({ context })).rejects.toMatchObject({ kind: 'unavailable', retryable: true });

    const dead = await startAzureKeyVaultEmulator();
    const url = dead.keyId('gone');
    await dead.close();
    await expect(keyring({ keyId: url }).wrap({ context })).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
  });

  it('an unknown key is not-found; a disabled version is disabled', async () => {
    await expect(keyring({ keyId: kv.keyId('missing') }).wrap({ context })).rejects.toMatchObject({ kind: 'not-found', retryable: false });
    const { version } = await kv.createKey('to-disable', { privateKey: rsaKeys()[2]! });
    const ring = keyring({ keyId: kv.keyId('to-disable', version) });
    const { wrapped } = await ring.wrap({ context });
    kv.setKeyEnabled('to-disable', version, false);
    const fresh = keyring({ keyId: kv.keyId('to-disable', version) });
    const err = await unwrapError(fresh, wrapped);
    expect(err.reasons[0]!.cause).toMatchObject({ kind: 'disabled', retryable: false });
  });

  it('never puts data key bytes into errors', async () => {
    const dataKey = testDataKey(9);
    const ring = keyring({ keyId: kv.keyId('flaky') });
    const { wrapped } = await ring.wrap({ dataKey, context });
    const tampered = [{ ...wrapped[0]!, ciphertext: Uint8Array.from(wrapped[0]!.ciphertext).reverse() }];
    const err = await unwrapError(ring, tampered);
    const text = `${err.message} ${JSON.stringify(err.reasons.map((r) => ({ ...r, cause: String(r.cause) })))}`;
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(text).not.toContain(Buffer.from(dataKey).toString(encoding).slice(0, 16));
      expect(text).not.toContain(Buffer.from(wrapped[0]!.ciphertext).toString(encoding).slice(0, 16));
    }
  });
});

describe('AzureKeyVaultKeyring over HTTPS', () => {
  let tlsKv: AzureKeyVaultEmulator;
  beforeAll(async () => {
    tlsKv = await startAzureKeyVaultEmulator({ tls: true });
  });
  afterAll(async () => tlsKv.close());

  it('round-trips when the client is given the fixture CA, and fails as a non-retryable error without it', async () => {
    const { version } = await tlsKv.createKey('tls', { privateKey: rsaKeys()[3]! });
    const ring = new AzureKeyVaultKeyring({
      keyId: tlsKv.keyId('tls'),
      credential: staticCredential(),
      clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: testTlsFixture().cert } },
      retry: { maxRetries: 0 },
    });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(wrapped[0]!.keyId).toBe(tlsKv.keyId('tls', version));
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);

    const untrusted = new AzureKeyVaultKeyring({ keyId: tlsKv.keyId('tls'), credential: staticCredential(), clientOptions: { disableChallengeResourceVerification: true }, retry: { maxRetries: 0 } });
    await expect(untrusted.wrap({ context })).rejects.toMatchObject({ kind: 'unavailable', retryable: false });
  });

  it('runs with challenge resource verification ON (the production setting) on a *.vault.localhost name', async () => {
    const strictKv = await startAzureKeyVaultEmulator({ tls: true, challengeResource: 'https://vault.localhost' });
    try {
      const { version } = await strictKv.createKey('prod-like', { privateKey: rsaKeys()[0]! });
      const keyId = `https://myvault.vault.localhost:${strictKv.port}/keys/prod-like`;
      // Resolve the vault name to loopback, as DNS would resolve my-vault.vault.azure.net.
      const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
        options?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
      const agent = new https.Agent({ ca: testTlsFixture().cert, lookup });
      const ring = new AzureKeyVaultKeyring({ keyId, credential: staticCredential(), clientOptions: { agent }, retry: { maxRetries: 0 } });
      const { dataKey, wrapped } = await ring.wrap({ context });
      expect(wrapped[0]!.keyId).toBe(`https://myvault.vault.localhost:${strictKv.port}/keys/prod-like/${version}`);
      expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
      // A vault whose challenge names another resource is refused before any token is sent.
      const other = await startAzureKeyVaultEmulator({ tls: true });
      try {
        await other.createKey('prod-like', { privateKey: rsaKeys()[0]! });
        const cred = staticCredential();
        const wrongResource = new AzureKeyVaultKeyring({ keyId: `https://myvault.vault.localhost:${other.port}/keys/prod-like`, credential: cred, clientOptions: { agent }, retry: { maxRetries: 0 } });
        await expect(wrongResource.wrap({ context })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'auth', retryable: false, message: expect.stringMatching(/challenge resource/) });
        expect(cred.calls).toBe(0);
      } finally {
        await other.close();
      }
    } finally {
      await strictKv.close();
    }
  });
});
