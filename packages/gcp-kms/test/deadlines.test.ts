// Deadlines, retries, AbortSignal and retryable errors of the Cloud KMS keyrings: the real
// @google-cloud/kms client against the emulator's failpoints (issue 14 items 8 and 9).
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { decrypt, DecryptionFailedError, encrypt, KeyUnavailableError, ProviderError, type JsonObject } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GcpKmsKeyring, type GcpKmsRetryOptions } from '../src/index.js';

const context = { tenant: 't1' };
let emulator: GcpKmsEmulator;
let client: KeyManagementServiceClient;
let keyName: string;
let otherKey: string;

beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  client = new KeyManagementServiceClient(emulator.clientOptions());
  const ring = emulator.createKeyRing('projects/p/locations/global', 'deadlines');
  keyName = await emulator.createCryptoKey(ring, 'kek');
  otherKey = await emulator.createCryptoKey(ring, 'other');
});
afterEach(() => {
  emulator.faults.clear();
  emulator.counters.reset();
});
afterAll(async () => {
  await client.close();
  await emulator.close();
});

function keyring(retry: GcpKmsRetryOptions = {}, name = keyName): GcpKmsKeyring {
  return new GcpKmsKeyring({ keyName: name, client, retry: { initialDelayMs: 1, maxDelayMs: 5, ...retry } });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function tamperField(sealed: JsonObject, field: string): JsonObject {
  const value = sealed[field] as string;
  const i = value.length - 6;
  return { ...sealed, [field]: value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1) };
}

describe('Cloud KMS keyring deadlines and retries (14.8)', () => {
  it('has a default 30 s deadline on top of 3 attempts of 5 s', () => {
    expect(keyring().deadlineMs).toBe(30_000);
    expect(keyring({ deadlineMs: 1_000 }).deadlineMs).toBe(1_000);
    expect(() => keyring({ deadlineMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it('a black-holed attempt times out per attempt and is retried; throttling and 5xx too', async () => {
    const ring = keyring({ attemptTimeoutMs: 300 });
    await ring.wrap({ context }); // channel connected
    emulator.counters.reset();
    emulator.faults.inject({ kind: 'blackhole', operation: 'Encrypt' });
    emulator.faults.inject({ kind: 'throttle', operation: 'Encrypt' });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(emulator.counters.get('Encrypt')).toBe(3);
    emulator.faults.inject({ kind: 'server-error', operation: 'Decrypt' });
    emulator.faults.inject({ kind: 'blackhole', operation: 'Decrypt' });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(emulator.counters.get('Decrypt')).toBe(3);
  });

  it('a black-holed endpoint ends at the total deadline with a retryable error', async () => {
    const ring = keyring({ attemptTimeoutMs: 1_000, maxAttempts: 10, deadlineMs: 400 });
    await ring.wrap({ context });
    emulator.faults.inject({ kind: 'blackhole', count: 20 });
    const started = Date.now();
    const err = await rejection(ring.wrap({ context }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'gcp-kms', kind: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/deadline/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an AbortSignal cancels the call in flight and stops retrying', async () => {
    const ring = keyring({ attemptTimeoutMs: 5_000 });
    const { wrapped } = await ring.wrap({ context });
    emulator.counters.reset();
    emulator.faults.inject({ kind: 'blackhole', count: 20 });
    const controller = new AbortController();
    const pending = ring.unwrap({ wrapped, context, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'aborted' });
    await new Promise((r) => setTimeout(r, 200));
    expect(emulator.counters.get('Decrypt')).toBe(1);
    emulator.faults.clear();
    await expect(ring.wrap({ context, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'aborted' });
    expect(emulator.counters.get('Encrypt')).toBe(0);
  });
});

describe('Cloud KMS errors say whether retrying can help (14.9)', () => {
  it('decrypt: throttling and 5xx are retryable; a wrong key is not; a tampered field is the same auth error', async () => {
    const ring = keyring({ maxAttempts: 1 });
    const sealed = await encrypt({ ssn: '123-45-6789' }, { keyring: ring, paths: ['$.ssn'], context });

    emulator.faults.inject({ kind: 'throttle', operation: 'Decrypt' });
    const throttled = await rejection(decrypt(sealed, { keyring: ring, context }));
    expect(throttled).toBeInstanceOf(KeyUnavailableError);
    expect(throttled).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });
    emulator.faults.inject({ kind: 'server-error', operation: 'Decrypt' });
    expect(await rejection(decrypt(sealed, { keyring: ring, context }))).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });

    const wrongKey = await rejection(decrypt(sealed, { keyring: keyring({ maxAttempts: 1 }, otherKey), context }));
    expect(wrongKey).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: false });

    const tampered = await rejection(decrypt(tamperField(sealed, 'ssn'), { keyring: ring, context }));
    expect(tampered).toBeInstanceOf(DecryptionFailedError);
    expect((tampered as Error).message).toBe(new DecryptionFailedError().message);
    expect(await decrypt(sealed, { keyring: ring, context })).toEqual({ ssn: '123-45-6789' });
  });
});
