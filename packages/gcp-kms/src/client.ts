/**
 * The Cloud KMS client the keyrings call, how they build one, and their timeout/retry policy.
 * @module
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { createMaxRetriesBackoffSettings, createRetryOptions, type CallOptions, type ClientOptions } from 'google-gax';
import { FieldsealError, InvalidArgumentError, ProviderError } from '@fieldseal/core/errors';
import { callWithRetries, DEFAULT_RETRY_POLICY, resolveRetryPolicy, type ResolvedRetryPolicy } from '@fieldseal/core';
import { RETRYABLE_CODES, toProviderError } from './errors.js';

/** The calls the keyrings make: any `KeyManagementServiceClient` (or one with the same methods). */
export type GcpKmsClient = Pick<KeyManagementServiceClient, 'initialize' | 'encrypt' | 'decrypt' | 'getPublicKey' | 'asymmetricDecrypt' | 'close'>;

/**
 * Timeout and retry policy of a keyring's Cloud KMS calls.
 *
 * The client library's own default can keep one call retrying for up to 600 s. The keyring
 * instead gives each attempt `attemptTimeoutMs`, retries `UNAVAILABLE`, `DEADLINE_EXCEEDED`,
 * `INTERNAL` and `RESOURCE_EXHAUSTED` with jittered exponential backoff, and stops after
 * `maxAttempts`, so a dead endpoint fails within about `maxAttempts × attemptTimeoutMs`. A response
 * that fails its CRC32C check is discarded and the call sent again, also up to `maxAttempts` times.
 */
export interface GcpKmsRetryOptions {
  /** Attempts per call, including the first. Default 3; 1 disables retries. */
  readonly maxAttempts?: number;
  /** Deadline of each attempt in milliseconds. Default 5,000. */
  readonly attemptTimeoutMs?: number;
  /** Upper bound of the first backoff (the delay is random up to it). Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Cap of the backoff between attempts. Default 2,000 ms. */
  readonly maxDelayMs?: number;
  /**
   * How long one keyring operation (`wrap`, `unwrap`, the public-key fetch) may take in total,
   * every attempt and backoff included; then the call in flight is cancelled and a retryable
   * `ProviderError` is thrown. Default 30,000.
   */
  readonly deadlineMs?: number;
}

/** How a keyring gets its client. */
export interface GcpKmsClientSettings {
  /**
   * A client you built and own: the keyring never closes it. Its own retry configuration is not
   * used for the keyring's calls (see {@link GcpKmsRetryOptions}) and is left untouched.
   */
  readonly client?: GcpKmsClient;
  /**
   * Options for the `KeyManagementServiceClient` the keyring builds when no `client` is given
   * (credentials, `projectId`, `apiEndpoint`, …). Default: Application Default Credentials and the
   * global endpoint. The keyring closes a client it built in `close()`.
   */
  readonly clientOptions?: ClientOptions;
  /** Timeout and retry policy. */
  readonly retry?: GcpKmsRetryOptions;
}

/** Resolved settings, shared by both keyrings. */
export interface ResolvedClient {
  readonly client: GcpKmsClient;
  readonly owned: boolean;
  readonly maxAttempts: number;
  /** Total deadline of one keyring operation, ms. */
  readonly deadlineMs: number;
  /** Fresh call options for one call (see {@link callOptions}). */
  callOptions(): CallOptions;
  /**
   * Run one keyring step (its gax retries and integrity re-sends included) under the total
   * deadline and the caller's signal; the step's signal fires when either ends it.
   */
  run<T>(call: { provider: string; keyId: string; operation: string; signal: AbortSignal | undefined; deadline?: number; discard?: (late: T) => void }, step: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * Wait for the client's stub. The generated client methods start `initialize()` themselves but
   * rethrow its failure from a detached `.catch`, an unhandled rejection (which ends a Node process
   * by default) when credentials cannot be found. Awaiting it first turns that into a typed error
   * and the method is never called.
   */
  ready(): Promise<void>;
}

function positiveInt(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
  return value;
}

/**
 * Check the client settings and build the client when none was given.
 * @throws {InvalidArgumentError} for a malformed `client`, `clientOptions` or `retry`.
 */
export function resolveClient(settings: GcpKmsClientSettings): ResolvedClient {
  const retry = settings.retry ?? {};
  if (retry === null || typeof retry !== 'object') throw new InvalidArgumentError('retry must be an object');
  const maxAttempts = positiveInt(retry.maxAttempts, 'retry.maxAttempts', 3, 10);
  const attemptTimeoutMs = positiveInt(retry.attemptTimeoutMs, 'retry.attemptTimeoutMs', 5_000, 600_000);
  const initialDelayMs = positiveInt(retry.initialDelayMs, 'retry.initialDelayMs', 100, 60_000);
  const maxDelayMs = positiveInt(retry.maxDelayMs, 'retry.maxDelayMs', 2_000, 60_000);
  const deadlineMs = positiveInt(retry.deadlineMs, 'retry.deadlineMs', DEFAULT_RETRY_POLICY.deadlineMs, 3_600_000);
  // gax retries inside each call; core's callWithRetries adds the deadline and the signal around it, as one attempt.
  const policy: ResolvedRetryPolicy = resolveRetryPolicy({ maxAttempts: 1, attemptTimeoutMs: Math.min(deadlineMs, 600_000), deadlineMs });
  let client: GcpKmsClient;
  let owned = false;
  if (settings.client !== undefined) {
    /* Precondition: options for a client the keyring would build cannot apply to one it was given. */
    if (settings.clientOptions !== undefined) throw new InvalidArgumentError('pass either client or clientOptions, not both');
    const c = settings.client as Partial<Record<keyof GcpKmsClient, unknown>> | null;
    if (c === null || typeof c !== 'object' || typeof c.encrypt !== 'function' || typeof c.decrypt !== 'function') {
      throw new InvalidArgumentError('client must be a KeyManagementServiceClient');
    }
    client = settings.client;
  } else {
    if (settings.clientOptions !== undefined && (settings.clientOptions === null || typeof settings.clientOptions !== 'object')) {
      throw new InvalidArgumentError('clientOptions must be an object');
    }
    client = new KeyManagementServiceClient(settings.clientOptions);
    owned = true;
  }
  return {
    client,
    owned,
    maxAttempts,
    deadlineMs,
    run<T>(call: Parameters<ResolvedClient['run']>[0], step: (signal: AbortSignal) => Promise<T>): Promise<T> {
      // Typed errors of the step (a refused key algorithm) pass through; SDK errors are mapped.
      return callWithRetries<T>(policy, { ...call, toError: (err) => (err instanceof FieldsealError ? err : toProviderError(err, call.provider, call.keyId, call.operation)) }, step);
    },
    async ready() {
      if (typeof (client as Partial<GcpKmsClient>).initialize === 'function') await client.initialize();
    },
    callOptions() {
      /*
       * A fresh RetryOptions object per call. Per-call `maxRetries` or `timeout` options would be
       * written into the client method's shared default settings by google-gax (they "stick" to
       * the client; see the shared wire notes §7); a whole `retry` object replaces them for this
       * call only. gax counts `maxRetries` as attempts. The backoff starts at `initialDelayMs`
       * (gax sleeps a random time up to it) and doubles up to `maxDelayMs`.
       */
      return {
        retry: createRetryOptions(
          [...RETRYABLE_CODES],
          createMaxRetriesBackoffSettings(initialDelayMs, 2, maxDelayMs, attemptTimeoutMs, 1, attemptTimeoutMs, maxAttempts),
        ),
      };
    },
  };
}

/**
 * Cancel a gax call (its promise has `cancel()`) when `signal` fires, so the RPC in flight ends.
 * @returns The same promise.
 */
export function cancelOnAbort<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return pending;
  const cancel = (): void => (pending as Promise<T> & { cancel?: () => void }).cancel?.();
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  return pending.finally(() => signal.removeEventListener('abort', cancel));
}

/**
 * Run `attempt` up to `maxAttempts` times while it fails with a retryable integrity error (a
 * response corrupted on the way: Google's guidance is to discard it and ask again). Stops once
 * `signal` has fired.
 */
export async function withIntegrityRetries<T>(maxAttempts: number, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let n = 1; ; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ProviderError) || err.kind !== 'integrity' || !err.retryable || n >= maxAttempts) throw err;
    }
  }
}
