/**
 * {@link callWithRetries}: the one deadline-and-retry policy every key-service keyring applies to
 * its calls (no cloud dependency: the provider packages hand in the SDK call and an error mapper).
 * @module
 */
import { InvalidArgumentError, ProviderError } from '../errors.js';

/**
 * Deadlines and retries of one keyring's calls to its key service. Every field is optional; see
 * {@link DEFAULT_RETRY_POLICY} for the defaults.
 */
export interface RetryPolicy {
  /** Attempts per service call, the first included; 1 disables retries. Default 3, at most 10. */
  readonly maxAttempts?: number;
  /** How long one attempt may take before it is aborted (and retried), in ms. Default 10,000. */
  readonly attemptTimeoutMs?: number;
  /**
   * How long one keyring operation (`wrap`, `unwrap`, …) may take in total, every attempt and
   * backoff included, in ms. Default 30,000.
   */
  readonly deadlineMs?: number;
  /** Upper bound of the first backoff; the delay is random up to it and doubles per retry. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Cap of the backoff between attempts, in ms. Default 2,000. */
  readonly maxDelayMs?: number;
}

/** A {@link RetryPolicy} with every field set. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/**
 * The defaults every provider keyring uses: 3 attempts of at most 10 s each within 30 s, jittered
 * exponential backoff from 100 ms up to 2 s. Key services answer in tens of milliseconds, so
 * seconds mean trouble.
 */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 3,
  attemptTimeoutMs: 10_000,
  deadlineMs: 30_000,
  initialDelayMs: 100,
  maxDelayMs: 2_000,
});

const BOUNDS: Readonly<Record<keyof RetryPolicy, readonly [min: number, max: number]>> = {
  maxAttempts: [1, 10],
  attemptTimeoutMs: [1, 600_000],
  deadlineMs: [1, 3_600_000],
  initialDelayMs: [0, 300_000],
  maxDelayMs: [0, 300_000],
};

/**
 * Check a policy and fill in the defaults.
 *
 * @param policy The caller's policy (may be `undefined`).
 * @param defaults Defaults for missing fields. Default {@link DEFAULT_RETRY_POLICY}.
 * @param what The option's name, for messages. Default `retry`.
 * @returns A frozen policy with every field set.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a field that is not an integer in range, or an unknown field.
 */
export function resolveRetryPolicy(policy: RetryPolicy | undefined, defaults: ResolvedRetryPolicy = DEFAULT_RETRY_POLICY, what = 'retry'): ResolvedRetryPolicy {
  if (policy === undefined) return defaults;
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) throw new InvalidArgumentError(`${what} must be an object`);
  const out: Record<string, number> = { ...defaults };
  for (const key of Object.keys(policy)) {
    const bounds = BOUNDS[key as keyof RetryPolicy];
    if (bounds === undefined) throw new InvalidArgumentError(`${what}: unknown option "${key.slice(0, 64)}"`);
    const value = (policy as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < bounds[0] || value > bounds[1]) {
      throw new InvalidArgumentError(`${what}.${key} must be an integer from ${bounds[0]} to ${bounds[1]}`);
    }
    out[key] = value;
  }
  return Object.freeze(out as unknown as ResolvedRetryPolicy);
}

/** What {@link callWithRetries} needs to know about one service call. */
export interface RetryingCall<T> {
  /** Provider id, for the errors it makes (e.g. `vault-transit`). */
  readonly provider: string;
  /** The key concerned, for the errors it makes. */
  readonly keyId?: string;
  /** The service operation, for messages (e.g. `decrypt`). */
  readonly operation: string;
  /** The caller's signal: aborts the attempt in flight and stops retrying. */
  readonly signal?: AbortSignal | undefined;
  /**
   * When the whole keyring operation must end (a `Date.now()` timestamp), so several calls of one
   * `unwrap` share one deadline. Default: now plus the policy's `deadlineMs`.
   */
  readonly deadline?: number;
  /**
   * Map what an attempt threw to the error to throw: retried when it is a {@link ProviderError}
   * with `retryable`. Default: the error as thrown.
   */
  toError?(err: unknown): unknown;
  /**
   * Receives a result that arrived after its attempt was given up (timed out or aborted), e.g. to
   * zero a data key nobody will use.
   */
  discard?(late: T): void;
}

/**
 * Run one key-service call with a timeout per attempt, retries of retryable failures (throttling,
 * 5xx, dropped connections, timed-out attempts) with jittered exponential backoff, a total deadline,
 * and the caller's `AbortSignal`. Each attempt gets a signal of its own, aborted when the attempt
 * times out, the deadline passes or the caller aborts: pass it to the SDK so the request in flight
 * is cancelled. The keyring stops waiting at that moment even if the SDK ignores the signal.
 *
 * Errors: what `toError` made of the last failure when it is not retryable or no attempt is left;
 * a {@link ProviderError} (`retryable: true`, kind `unavailable` or the last failure's kind) when
 * the deadline passes; a {@link ProviderError} of kind `aborted` when the caller's signal fires.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { callWithRetries, resolveRetryPolicy } from '@fieldseal/core';
 * const policy = resolveRetryPolicy({ attemptTimeoutMs: 2_000 });
 * const answer = await callWithRetries(policy, { provider: 'my-kms', operation: 'Decrypt', signal: request.signal, toError: mapSdkError },
 *   (signal) => sdk.decrypt(input, { abortSignal: signal }));
 * ```
 * @param policy A policy from {@link resolveRetryPolicy}.
 * @param call Names for errors, the caller's signal, the shared deadline and the error mapper.
 * @param attempt One attempt; receives the attempt's signal and its number (from 1).
 * @returns What the first successful attempt returned.
 */
export async function callWithRetries<T>(policy: ResolvedRetryPolicy, call: RetryingCall<T>, attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>): Promise<T> {
  const deadline = call.deadline ?? Date.now() + policy.deadlineMs;
  const toError = call.toError ?? ((e: unknown) => e);
  let last: unknown;
  for (let n = 1; ; n++) {
    if (call.signal?.aborted) throw abortedError(call, call.signal.reason, last);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw deadlineError(call, policy, n - 1, last);
    const budget = Math.min(policy.attemptTimeoutMs, remaining);
    const outcome = await runAttempt(attempt, n, budget, call);
    if (outcome.kind === 'ok') return outcome.value;
    if (outcome.kind === 'aborted') throw abortedError(call, call.signal?.reason, last);
    // An attempt cut short by the deadline is the end of the call, not a retryable timeout.
    if (outcome.kind === 'timeout' && remaining <= policy.attemptTimeoutMs) throw deadlineError(call, policy, n, last);
    last =
      outcome.kind === 'timeout'
        ? new ProviderError({ ...names(call), kind: 'unavailable', retryable: true, message: `${call.operation}: no answer within ${budget} ms (attempt ${n} of ${policy.maxAttempts})` })
        : toError(outcome.error);
    if (!(last instanceof ProviderError) || !last.retryable || n >= policy.maxAttempts) throw last;
    const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (n - 1));
    const wait = Math.floor(Math.random() * (cap + 1));
    if (Date.now() + wait >= deadline) throw deadlineError(call, policy, n, last);
    if (wait > 0 && !(await sleep(wait, call.signal))) throw abortedError(call, call.signal?.reason, last);
  }
}

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' } | { kind: 'aborted' };

function runAttempt<T>(attempt: (signal: AbortSignal, n: number) => Promise<T>, n: number, budget: number, call: RetryingCall<T>): Promise<Outcome<T>> {
  const controller = new AbortController();
  return new Promise<Outcome<T>>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome<T>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => {
      controller.abort(call.signal?.reason);
      finish({ kind: 'aborted' });
    };
    const timer = setTimeout(() => {
      controller.abort(new Error(`attempt timed out after ${budget} ms`));
      finish({ kind: 'timeout' });
    }, budget);
    call.signal?.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = attempt(controller.signal, n);
    } catch (error) {
      finish({ kind: 'error', error });
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (settled) {
          if (call.discard) {
            try {
              call.discard(value);
            } catch {
              // a late result is dropped either way
            }
          }
          return;
        }
        finish({ kind: 'ok', value });
      },
      (error: unknown) => finish({ kind: 'error', error }),
    );
  });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function names(call: RetryingCall<unknown>): { provider: string; keyId?: string } {
  return { provider: call.provider, ...(call.keyId !== undefined ? { keyId: call.keyId } : {}) };
}

function deadlineError(call: RetryingCall<unknown>, policy: ResolvedRetryPolicy, attempts: number, last: unknown): ProviderError {
  const kind = last instanceof ProviderError && last.retryable ? last.kind : 'unavailable';
  return new ProviderError({
    ...names(call),
    kind,
    retryable: true,
    message: `${call.operation}: gave up at the ${policy.deadlineMs} ms deadline after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    ...(last !== undefined ? { cause: last } : {}),
  });
}

function abortedError(call: RetryingCall<unknown>, reason: unknown, last: unknown): ProviderError {
  return new ProviderError({
    ...names(call),
    kind: 'aborted',
    retryable: true,
    message: `${call.operation}: aborted by the caller's signal`,
    cause: reason ?? last,
  });
}

/**
 * How many wrapped keys one unwrap sends to a key service for one configured key. A document's
 * header can list up to 16 wrapped keys per group naming versions of the configured key; a genuine
 * group has one per key-encryption key. Trying at most this many bounds the paid calls a forged
 * header can cause (issue 23 item 9). For provider keyrings.
 */
export const MAX_SERVICE_UNWRAPS_PER_KEY = 2;
