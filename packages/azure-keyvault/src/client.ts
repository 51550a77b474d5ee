// Building the SDK clients the keyring uses: one KeyClient per vault, whose pipeline (and bearer
// challenge state) every CryptographyClient for that vault shares.
import type { TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';
import type { CryptographyClient, KeyClientOptions } from '@azure/keyvault-keys';
import { InvalidArgumentError } from '@fieldseal/core';
import { AzureCredentialRequiredError } from './errors.js';

/** Retry policy of the Azure SDK pipeline (exponential backoff on 408, 429, 5xx and transport errors). */
export interface AzureKeyVaultRetryOptions {
  /** Retries after the first attempt. SDK default 3. */
  readonly maxRetries?: number;
  /** Base delay of the exponential backoff, ms. SDK default 1,000. */
  readonly retryDelayMs?: number;
  /** Largest delay between attempts, ms. SDK default 64,000. */
  readonly maxRetryDelayMs?: number;
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
