// The keyring-call deadline guard (lib/keyring-call.ts) shares one timer between all pending calls
// and makes a keyring's AbortSignal only when the keyring reads it (issue 18). These tests try to
// break that: deadlines of different lengths out of order, a signal read after the deadline,
// thousands of concurrent calls, and an idle process held open by the shared timer.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { CachingKeyring, LocalKeyring, ProviderError, decrypt, encrypt, type Keyring } from '../src/index.js';

const hanging = (onSignal?: (read: () => AbortSignal | undefined) => void): Keyring => ({
  wrap: (req) => {
    onSignal?.(() => req.signal);
    return new Promise(() => {});
  },
  unwrap: (req) => {
    onSignal?.(() => req.signal);
    return new Promise(() => {});
  },
});

const refTimeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('keyring-call deadlines', () => {
  test('a shorter deadline started later still fires first, and each call gets its own error', async () => {
    const order: number[] = [];
    const long = encrypt({ a: 'x' }, { keyring: hanging(), paths: ['$.a'], keyringTimeoutMs: 600 }).catch((e: unknown) => {
      order.push(600);
      return e;
    });
    const short = encrypt({ a: 'x' }, { keyring: hanging(), paths: ['$.a'], keyringTimeoutMs: 20 }).catch((e: unknown) => {
      order.push(20);
      return e;
    });
    const [eLong, eShort] = await Promise.all([long, short]);
    expect(order).toEqual([20, 600]);
    for (const e of [eLong, eShort]) {
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).retryable).toBe(true);
    }
    expect((eShort as ProviderError).message).toContain('20 ms');
    expect((eLong as ProviderError).message).toContain('600 ms');
  });

  test('a keyring that reads its signal only after the deadline sees it aborted with the typed reason', async () => {
    let read: (() => AbortSignal | undefined) | undefined;
    const e = await encrypt({ a: 'x' }, { keyring: hanging((r) => (read = r)), paths: ['$.a'], keyringTimeoutMs: 10 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    const signal = read!();
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(e);
  });

  test('a signal read while the call is pending fires at the deadline', async () => {
    const signals: AbortSignal[] = [];
    const e = await decrypt(await encrypt({ a: 'x' }, { keyring: await LocalKeyring.generate(), paths: ['$.a'] }), {
      keyring: hanging((r) => signals.push(r()!)),
      keyringTimeoutMs: 15,
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
  });

  test('2,000 concurrent hanging calls all time out', async () => {
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => encrypt({ a: 'x' }, { keyring: hanging(), paths: ['$.a'], keyringTimeoutMs: 5 + (i % 7) }).catch((e: unknown) => e)),
    );
    for (const e of results) expect(e).toBeInstanceOf(ProviderError);
  });

  test('100 cached decrypts arm a handful of timers, not one per keyring call, and leave none holding the process', async () => {
    const keyring = new CachingKeyring({ keyring: await LocalKeyring.generate() });
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: { t: '1' } });
    const before = refTimeouts();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 100; i++) expect(await decrypt(sealed, { keyring, context: { t: '1' } })).toEqual({ a: 'x' });
    expect(spy.mock.calls.length).toBeLessThan(5);
    spy.mockRestore();
    // The shared timer is unref'd once no call is pending: an idle process can exit.
    expect(refTimeouts()).toBeLessThanOrEqual(before);
  });
});
