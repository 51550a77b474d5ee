// Deadlines, retries, AbortSignal and retryable errors of AzureKeyVaultKeyring: the real
// @azure/keyvault-keys client against the emulator's failpoints (issue 14 items 8 and 9).
import { decrypt, DecryptionFailedError, encrypt, KeyUnavailableError, ProviderError } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAzureKeyVaultEmulator } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureKeyVaultKeyring } from '@fieldseal/azure-keyvault';
import type { AzureKeyVaultKeyringOptions } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys, staticCredential } from './helpers.js';

const context = { tenant: 't1' };
let kv: AzureKeyVaultEmulator;
let keyId: string;

beforeAll(async () => {
  kv = await startAzureKeyVaultEmulator();
  const { version } = await kv.createKey('deadlines', { privateKey: rsaKeys()[0]! });
  keyId = kv.keyId('deadlines', version);
  await kv.createKey('other', { privateKey: rsaKeys()[1]! });
});
afterAll(async () => kv.close());

function keyring(options: Partial<AzureKeyVaultKeyringOptions> = {}): AzureKeyVaultKeyring {
  return new AzureKeyVaultKeyring({ keyId, credential: staticCredential(), clientOptions: insecureClientOptions, ...options });
}

/** A keyring whose bearer challenge is already done, so counters see only the calls under test. */
async function warmed(options: Partial<AzureKeyVaultKeyringOptions> = {}): Promise<AzureKeyVaultKeyring> {
  const ring = keyring(options);
  await ring.unwrap({ wrapped: (await ring.wrap({ context })).wrapped, context });
  kv.faults.clear();
  kv.counters.reset();
  return ring;
}

const fastRetry = { retryDelayMs: 1, maxRetryDelayMs: 5 };

function tamperField(sealed: JsonObject, field: string): JsonObject {
  const value = sealed[field] as string;
  const i = value.length - 6;
  return { ...sealed, [field]: value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1) };
}

describe('AzureKeyVaultKeyring deadlines and retries (14.8)', () => {
  it('has a default policy: 3 attempts of 10 s within a 30 s deadline', () => {
    expect(keyring().retryPolicy).toMatchObject({ maxAttempts: 3, attemptTimeoutMs: 10_000, deadlineMs: 30_000 });
    expect(keyring({ timeoutMs: 45_000 }).retryPolicy).toMatchObject({ attemptTimeoutMs: 45_000, deadlineMs: 45_000 });
    expect(keyring({ retry: { maxRetries: 0, deadlineMs: 500 } }).retryPolicy).toMatchObject({ maxAttempts: 1, deadlineMs: 500 });
    expect(() => keyring({ retry: { deadlineMs: 0 } })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it('timeoutMs is per attempt: a black-holed first attempt is abandoned and the call retried', async () => {
    const ring = await warmed({ timeoutMs: 200, retry: fastRetry });
    kv.faults.inject({ kind: 'blackhole', operation: 'wrapKey' });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(kv.counters.get('wrapKey')).toBe(2);
    kv.faults.inject({ kind: 'blackhole', operation: 'unwrapKey' });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(kv.counters.get('unwrapKey')).toBe(2);
  });

  it('throttling, 5xx and dropped connections are retried', async () => {
    const ring = await warmed({ retry: fastRetry });
    kv.faults.inject({ kind: 'throttle', operation: 'wrapKey' });
    kv.faults.inject({ kind: 'drop', operation: 'wrapKey' });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(kv.counters.get('wrapKey')).toBe(3);
    kv.faults.inject({ kind: 'server-error', status: 503, count: 2, operation: 'unwrapKey' });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(kv.counters.get('unwrapKey')).toBe(3);
  });

  it('without timeoutMs a black-holed endpoint ends at the deadline with a retryable error', async () => {
    const ring = await warmed({ retry: { ...fastRetry, deadlineMs: 400 } });
    kv.faults.inject({ kind: 'blackhole', count: 10 });
    const started = Date.now();
    const err = await ring.wrap({ context }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'azure-keyvault', kind: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/deadline/);
    expect(Date.now() - started).toBeLessThan(5_000);
    kv.faults.clear();
  });

  it('an AbortSignal aborts the request in flight and stops retrying', async () => {
    const ring = await warmed({ retry: fastRetry });
    kv.faults.inject({ kind: 'blackhole', count: 10 });
    const controller = new AbortController();
    const pending = ring.wrap({ context, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'aborted' });
    await new Promise((r) => setTimeout(r, 100));
    expect(kv.counters.get('wrapKey')).toBe(1);
    kv.faults.clear();
    const good = await ring.wrap({ context });
    await expect(ring.unwrap({ wrapped: good.wrapped, context, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('AzureKeyVaultKeyring errors say whether retrying can help (14.9)', () => {
  it('decrypt: throttling and 5xx are retryable; a wrong key is not; a tampered field is the same auth error', async () => {
    const ring = await warmed({ retry: { maxRetries: 0 } });
    const sealed = await encrypt({ ssn: '123-45-6789', name: 'x' }, { keyring: ring, paths: ['$.ssn'], context });

    kv.faults.inject({ kind: 'throttle', operation: 'unwrapKey' });
    const throttled = await decrypt(sealed, { keyring: ring, context }).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(KeyUnavailableError);
    expect(throttled).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });

    kv.faults.inject({ kind: 'server-error', status: 500, operation: 'unwrapKey' });
    expect(await decrypt(sealed, { keyring: ring, context }).catch((e: unknown) => e)).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });

    const wrongKey = keyring({ keyId: kv.keyId('other'), retry: { maxRetries: 0 } });
    expect(await decrypt(sealed, { keyring: wrongKey, context }).catch((e: unknown) => e)).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: false });

    const tampered = await decrypt(tamperField(sealed, 'ssn'), { keyring: ring, context }).catch((e: unknown) => e);
    expect(tampered).toBeInstanceOf(DecryptionFailedError);
    expect(tampered).toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED', message: new DecryptionFailedError().message });
    expect((tampered as { retryable?: unknown }).retryable).toBeUndefined();
    expect(await decrypt(sealed, { keyring: ring, context })).toMatchObject({ ssn: '123-45-6789' });
  });
});
