// Building the SDK clients the keyring uses: one KeyClient per vault, whose pipeline (and bearer
// challenge state) every CryptographyClient for that vault shares.
import type { TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';
import type { CryptographyClient, KeyClientOptions } from '@azure/keyvault-keys';
import { DEFAULT_RETRY_POLICY, InvalidArgumentError, resolveRetryPolicy } from '@fieldseal/core';
import type { ResolvedRetryPolicy } from '@fieldseal/core';
import { AzureCredentialRequiredError } from './errors.js';

/**
 * Retry policy: jittered exponential backoff on 408, 429, 5xx, timed-out attempts and transport
 * errors. The keyring applies it itself (core's `callWithRetries`; the SDK pipeline's own retries
 * are off for the keyring's calls), within a total deadline; {@link fetchAzurePublicKey} hands it
 * to the SDK pipeline.
 */
export interface AzureKeyVaultRetryOptions {
  /** Retries after the first attempt, at most 9. Keyring default 2 (3 attempts); SDK default 3. */
  readonly maxRetries?: number;
  /** Base delay of the exponential backoff, ms. Keyring default 100; SDK default 1,000. */
  readonly retryDelayMs?: number;
  /** Largest delay between attempts, ms. Keyring default 2,000; SDK default 64,000. */
  readonly maxRetryDelayMs?: number;
  /**
   * Keyring only: how long one `wrap` or `unwrap` may take in total, every attempt and backoff
   * included, ms. Default 30,000 (or `timeoutMs`, when that is longer).
   */
  readonly deadlineMs?: number;
}

function nonNegativeInteger(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  return value;
}

/**
 * Check the credential and merge the retry policy into the caller's pipeline options.
 * @internal
 */
export function pipelineOptions(credential: TokenCredential | undefined, clientOptions: KeyClientOptions | undefined, retry: AzureKeyVaultRetryOptions | undefined): KeyClientOptions {
  if (credential === undefined || credential === null || typeof (credential as { getToken?: unknown }).getToken !== 'function') throw new AzureCredentialRequiredError();
  if (clientOptions !== undefined && (clientOptions === null || typeof clientOptions !== 'object')) throw new InvalidArgumentError('clientOptions must be an object');
  if (retry !== undefined && (retry === null || typeof retry !== 'object')) throw new InvalidArgumentError('retry must be an object');
  const retryOptions = {
    ...clientOptions?.retryOptions,
    ...(retry?.maxRetries === undefined ? {} : { maxRetries: nonNegativeInteger(retry.maxRetries, 'retry.maxRetries') }),
    ...(retry?.retryDelayMs === undefined ? {} : { retryDelayInMs: nonNegativeInteger(retry.retryDelayMs, 'retry.retryDelayMs') }),
    ...(retry?.maxRetryDelayMs === undefined ? {} : { maxRetryDelayInMs: nonNegativeInteger(retry.maxRetryDelayMs, 'retry.maxRetryDelayMs') }),
  };
  return { ...clientOptions, retryOptions };
}

/**
 * Build a KeyClient for `vaultUrl`. The options object is copied, because the SDK mutates the one
 * it is given.
 * @internal
 */
export function createKeyClient(vaultUrl: string, credential: TokenCredential | undefined, clientOptions: KeyClientOptions | undefined, retry: AzureKeyVaultRetryOptions | undefined): KeyClient {
  return new KeyClient(vaultUrl, credential!, pipelineOptions(credential, clientOptions, retry));
}

/**
 * The keyring's policy (core's {@link ResolvedRetryPolicy}) from its `retry` and `timeoutMs`
 * options, falling back to `clientOptions.retryOptions`, then to core's defaults.
 * @internal
 */
export function keyringRetryPolicy(retry: AzureKeyVaultRetryOptions | undefined, clientOptions: KeyClientOptions | undefined, timeoutMs: number | undefined): ResolvedRetryPolicy {
  const sdk = clientOptions?.retryOptions;
  const maxRetries = nonNegativeInteger(retry?.maxRetries, 'retry.maxRetries') ?? sdk?.maxRetries;
  const initialDelayMs = nonNegativeInteger(retry?.retryDelayMs, 'retry.retryDelayMs') ?? sdk?.retryDelayInMs;
  const maxDelayMs = nonNegativeInteger(retry?.maxRetryDelayMs, 'retry.maxRetryDelayMs') ?? sdk?.maxRetryDelayInMs;
  const deadlineMs = retry?.deadlineMs;
  const attemptTimeoutMs = timeoutMs ?? DEFAULT_RETRY_POLICY.attemptTimeoutMs;
  return resolveRetryPolicy(
    {
      ...(maxRetries === undefined ? {} : { maxAttempts: maxRetries + 1 }),
      ...(initialDelayMs === undefined ? {} : { initialDelayMs }),
      ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
      attemptTimeoutMs,
      deadlineMs: deadlineMs ?? Math.max(DEFAULT_RETRY_POLICY.deadlineMs, attemptTimeoutMs),
    },
    DEFAULT_RETRY_POLICY,
    'retry',
  );
}

/** Check a timeout option. @internal */
export function checkTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new InvalidArgumentError('timeoutMs must be a positive integer');
  return timeoutMs;
}

/** A small LRU of CryptographyClients, one per key version, so each version's key is fetched once. @internal */
export class ClientCache {
  readonly #clients = new Map<string, CryptographyClient>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(version: string, make: () => CryptographyClient): CryptographyClient {
    let client = this.#clients.get(version);
    if (client === undefined) {
      client = make();
      if (this.#clients.size >= this.#max) this.#clients.delete(this.#clients.keys().next().value!);
    } else {
      this.#clients.delete(version);
    }
    this.#clients.set(version, client);
    return client;
  }
}
