// Deadlines, retries, AbortSignal and retryable errors of the AWS KMS keyrings: the real
// @aws-sdk/client-kms against the emulator's failpoints (issue 14 items 8 and 9).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, DecryptionFailedError, encrypt, KeyUnavailableError, ProviderError } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import type { AwsEmulatedKey, AwsKmsEmulator } from '@fieldseal/emulators';
import { AwsKmsKeyring, AwsKmsRsaKeyring } from '@fieldseal/aws-kms';
import type { AwsKmsKeyringOptions } from '@fieldseal/aws-kms';

let kms: AwsKmsEmulator;
let key: AwsEmulatedKey;
let other: AwsEmulatedKey;
const keyrings: { destroy(): void }[] = [];
const context = { tenant: 't1' };

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  key = await kms.createKey();
  other = await kms.createKey();
});
afterEach(() => {
  kms.faults.clear();
  kms.counters.reset();
});
afterAll(async () => {
  for (const k of keyrings) k.destroy();
  await kms.close();
});

function keyring(extra: Partial<AwsKmsKeyringOptions> = {}, keyIds = [key.arn]): AwsKmsKeyring {
  const k = new AwsKmsKeyring({ keyIds, region: kms.region, endpoint: kms.url, credentials: kms.credentials, ...extra });
  keyrings.push(k);
  return k;
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

describe('AWS KMS keyring deadlines and retries (14.8)', () => {
  it('has a default 30 s deadline on top of the SDK policy (3 attempts of 10 s)', () => {
    expect(keyring().deadlineMs).toBe(30_000);
    expect(() => keyring({ deadlineMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it('a black-holed attempt times out per attempt and is retried; throttling, 5xx and drops too', async () => {
    const ring = keyring({ requestTimeoutMs: 200 });
    kms.faults.inject({ kind: 'blackhole', operation: 'GenerateDataKey' });
    kms.faults.inject({ kind: 'throttle', operation: 'GenerateDataKey' });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(kms.counters.get('GenerateDataKey')).toBe(3);
    kms.faults.inject({ kind: 'drop', operation: 'Decrypt' });
    kms.faults.inject({ kind: 'server-error', status: 503, operation: 'Decrypt' });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(kms.counters.get('Decrypt')).toBe(3);
  });

  it('a black-holed endpoint ends at the total deadline with a retryable error', async () => {
    const ring = keyring({ requestTimeoutMs: 1_000, maxAttempts: 10, deadlineMs: 400 });
    kms.faults.inject({ kind: 'blackhole', count: 20 });
    const started = Date.now();
    const err = await rejection(ring.wrap({ context }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'aws-kms', kind: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/deadline/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an AbortSignal aborts the request in flight and stops the SDK retrying', async () => {
    const ring = keyring({ requestTimeoutMs: 5_000 });
    const { wrapped } = await ring.wrap({ context });
    kms.counters.reset();
    kms.faults.inject({ kind: 'blackhole', count: 20 });
    const controller = new AbortController();
    const pending = ring.unwrap({ wrapped, context, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'aborted' });
    await new Promise((r) => setTimeout(r, 200));
    expect(kms.counters.get('Decrypt')).toBe(1);
    kms.faults.clear();
    await expect(ring.wrap({ context, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'aborted' });
    expect(kms.counters.get('GenerateDataKey')).toBe(0);
  });

  it('the RSA keyring has the same deadline and honours the signal', async () => {
    const rsa = await kms.createKey({ keySpec: 'RSA_2048' });
    const ring = new AwsKmsRsaKeyring({ keyId: rsa.arn, region: kms.region, endpoint: kms.url, credentials: kms.credentials, requestTimeoutMs: 1_000, maxAttempts: 10, deadlineMs: 400 });
    keyrings.push(ring);
    const { wrapped } = await ring.wrap({ context });
    kms.faults.inject({ kind: 'blackhole', count: 20 });
    const err = await rejection(ring.unwrap({ wrapped, context }));
    expect(err).toMatchObject({ retryable: true });
    expect(err instanceof KeyUnavailableError || err instanceof ProviderError).toBe(true);
    kms.faults.clear();
    await expect(ring.unwrap({ wrapped, context, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('AWS KMS RSA keyring shared public-key fetch', () => {
  it('one caller aborting does not fail the others waiting on the same fetch', async () => {
    const rsa = await kms.createKey({ keySpec: 'RSA_2048' });
    const ring = new AwsKmsRsaKeyring({ keyId: rsa.arn, region: kms.region, endpoint: kms.url, credentials: kms.credentials });
    keyrings.push(ring);
    kms.faults.inject({ kind: 'delay', delayMs: 200, operation: 'GetPublicKey' });
    const controller = new AbortController();
    const aborted = ring.wrap({ context, signal: controller.signal });
    const patient = ring.wrap({ context });
    setTimeout(() => controller.abort(), 50);
    await expect(aborted).rejects.toMatchObject({ kind: 'aborted' });
    expect((await patient).wrapped).toHaveLength(1);
    expect(kms.counters.get('GetPublicKey')).toBe(1);
  });
});

describe('AWS KMS errors say whether retrying can help (14.9)', () => {
  it('decrypt: throttling and 5xx are retryable; a wrong key is not; a tampered field is the same auth error', async () => {
    const ring = keyring({ maxAttempts: 1 });
    const sealed = await encrypt({ ssn: '123-45-6789' }, { keyring: ring, paths: ['$.ssn'], context });

    kms.faults.inject({ kind: 'throttle', operation: 'Decrypt' });
    const throttled = await rejection(decrypt(sealed, { keyring: ring, context }));
    expect(throttled).toBeInstanceOf(KeyUnavailableError);
    expect(throttled).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });
    kms.faults.inject({ kind: 'server-error', status: 500, operation: 'Decrypt' });
    expect(await rejection(decrypt(sealed, { keyring: ring, context }))).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: true });

    const wrongKey = await rejection(decrypt(sealed, { keyring: keyring({ maxAttempts: 1 }, [other.arn]), context }));
    expect(wrongKey).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', retryable: false });
    const wrongContext = await rejection(decrypt(sealed, { keyring: ring, context: { tenant: 't2' } }));
    expect((wrongContext as { retryable?: boolean }).retryable ?? false).toBe(false);

    const tampered = await rejection(decrypt(tamperField(sealed, 'ssn'), { keyring: ring, context }));
    expect(tampered).toBeInstanceOf(DecryptionFailedError);
    expect((tampered as Error).message).toBe(new DecryptionFailedError().message);
    expect(await decrypt(sealed, { keyring: ring, context })).toEqual({ ssn: '123-45-6789' });
  });
});
