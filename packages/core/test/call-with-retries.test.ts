import { describe, expect, test } from 'vitest';
import { callWithRetries, isRetryable, KeyUnavailableError, ProviderError, resolveRetryPolicy, DecryptionFailedError } from '@fieldseal/core';

const names = { provider: 'test-kms', keyId: 'k1', operation: 'Decrypt' };
const throttled = () => new ProviderError({ ...names, kind: 'throttled', retryable: true, message: 'slow down' });
const refused = () => new ProviderError({ ...names, kind: 'invalid-ciphertext', retryable: false, message: 'no' });
const fast = resolveRetryPolicy({ maxAttempts: 3, attemptTimeoutMs: 200, deadlineMs: 2_000, initialDelayMs: 1, maxDelayMs: 5 });

describe('callWithRetries', () => {
  test('retries retryable failures up to maxAttempts, then throws the last one', async () => {
    let calls = 0;
    await expect(callWithRetries(fast, names, async () => { calls++; throw throttled(); })).rejects.toMatchObject({ kind: 'throttled', retryable: true });
    expect(calls).toBe(3);
    calls = 0;
    expect(await callWithRetries(fast, names, async () => (++calls < 3 ? Promise.reject(throttled()) : 'ok'))).toBe('ok');
  });

  test('a non-retryable failure is thrown at once', async () => {
    let calls = 0;
    await expect(callWithRetries(fast, names, async () => { calls++; throw refused(); })).rejects.toMatchObject({ kind: 'invalid-ciphertext', retryable: false });
    expect(calls).toBe(1);
  });

  test('a hung attempt is aborted after attemptTimeoutMs and retried; its signal fires', async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const value = await callWithRetries(fast, names, (signal) => {
      signals.push(signal);
      return ++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve('second');
    });
    expect(value).toBe('second');
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
  });

  test('a never-settling service ends at the total deadline with a retryable error', async () => {
    const policy = resolveRetryPolicy({ maxAttempts: 10, attemptTimeoutMs: 100, deadlineMs: 250, initialDelayMs: 1, maxDelayMs: 1 });
    let calls = 0;
    const err = await callWithRetries(policy, names, () => { calls++; return new Promise<never>(() => {}); }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'unavailable', retryable: true, provider: 'test-kms', keyId: 'k1' });
    expect((err as Error).message).toMatch(/250 ms deadline/);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(3);
  });

  test('the caller signal aborts the attempt in flight and stops retrying', async () => {
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    let late = 0;
    const pending = callWithRetries({ ...fast, attemptTimeoutMs: 10_000 }, { ...names, signal: controller.signal, discard: () => late++ }, (signal) => {
      inner = signal;
      return new Promise<string>((resolve) => setTimeout(() => resolve('too late'), 50));
    });
    setTimeout(() => controller.abort(new Error('caller gave up')), 10);
    await expect(pending).rejects.toMatchObject({ kind: 'aborted', code: 'ERR_FIELDSEAL_PROVIDER' });
    expect(inner!.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    expect(late).toBe(1);
    // An already-aborted signal makes no attempt at all.
    let calls = 0;
    await expect(callWithRetries(fast, { ...names, signal: AbortSignal.abort() }, async () => ++calls)).rejects.toMatchObject({ kind: 'aborted' });
    expect(calls).toBe(0);
  });

  test('policies are validated', () => {
    for (const bad of [{ maxAttempts: 0 }, { attemptTimeoutMs: 1.5 }, { deadlineMs: -1 }, { retries: 3 }, null, 3]) {
      expect(() => resolveRetryPolicy(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    }
    expect(resolveRetryPolicy(undefined)).toMatchObject({ maxAttempts: 3, attemptTimeoutMs: 10_000, deadlineMs: 30_000 });
  });
});

describe('KeyUnavailableError.retryable', () => {
  test('true only when a reason is a retryable key-service failure', () => {
    expect(new KeyUnavailableError('x', [{ provider: 'p', message: 'm', cause: refused() }, { provider: 'p', message: 'no key' }]).retryable).toBe(false);
    const mixed = new KeyUnavailableError('x', [{ provider: 'p', message: 'm', cause: refused() }, { provider: 'p', message: 'm', cause: throttled() }]);
    expect(mixed.retryable).toBe(true);
    expect(new KeyUnavailableError('outer', [{ provider: 'multi', message: 'm', cause: mixed }]).retryable).toBe(true);
    expect(new KeyUnavailableError('x').retryable).toBe(false);
    expect(isRetryable(mixed)).toBe(true);
    expect(isRetryable(throttled())).toBe(true);
    expect(isRetryable(new DecryptionFailedError())).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });
});
