/**
 * The KMS calls the keyrings make, as a structural interface, and how clients are obtained.
 * @module
 */
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, GetPublicKeyCommand, KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import type {
  DecryptCommandInput,
  DecryptCommandOutput,
  EncryptCommandInput,
  EncryptCommandOutput,
  GenerateDataKeyCommandInput,
  GenerateDataKeyCommandOutput,
  GetPublicKeyCommandInput,
  GetPublicKeyCommandOutput,
  KMSClientConfig,
  ReEncryptCommandInput,
  ReEncryptCommandOutput,
} from '@aws-sdk/client-kms';
import { FieldsealError, InvalidArgumentError } from '@fieldseal/core/errors';
import { callWithRetries, DEFAULT_RETRY_POLICY, resolveRetryPolicy } from '@fieldseal/core';
import type { ResolvedRetryPolicy } from '@fieldseal/core';
import { toProviderError } from './errors.js';

/** Per-call options the keyrings pass: the SDK's `HttpHandlerOptions` subset they use. */
export interface KmsCallOptions {
  /** Aborts the request in flight (and the SDK's retries). */
  abortSignal?: AbortSignal;
}

/**
 * Only the KMS operations fieldseal calls. The aggregated `KMS` client of `@aws-sdk/client-kms`
 * satisfies it as is; a bare `KMSClient` is adapted with {@link kmsOperations}. An implementation
 * that ignores `options` still gets the keyring's deadline, but its request in flight is not aborted.
 */
export interface KmsOperations {
  generateDataKey(input: GenerateDataKeyCommandInput, options?: KmsCallOptions): Promise<GenerateDataKeyCommandOutput>;
  encrypt(input: EncryptCommandInput, options?: KmsCallOptions): Promise<EncryptCommandOutput>;
  decrypt(input: DecryptCommandInput, options?: KmsCallOptions): Promise<DecryptCommandOutput>;
  reEncrypt(input: ReEncryptCommandInput, options?: KmsCallOptions): Promise<ReEncryptCommandOutput>;
  getPublicKey(input: GetPublicKeyCommandInput, options?: KmsCallOptions): Promise<GetPublicKeyCommandOutput>;
}

/** A client the caller hands in: a `KMSClient`, the aggregated `KMS` client, or any {@link KmsOperations}. */
export type KmsClientInput = KMSClient | KmsOperations;

/** Connection options used when the keyring builds its own `KMSClient`s. */
export interface AwsKmsClientOptions {
  /**
   * A configured client used for every key. The keyring never destroys a client it was given.
   * Keys in other regions than the client's need {@link AwsKmsClientOptions.clientProvider} instead.
   */
  readonly client?: KmsClientInput;
  /** Returns the client for a region (key ARNs name their region). Takes precedence over building clients. */
  readonly clientProvider?: (region: string | undefined) => KmsClientInput;
  /**
   * Region for aliases and bare key ids, and for building clients. Default: the region of the first
   * key ARN, else the SDK's chain (`AWS_REGION`, profile).
   */
  readonly region?: string;
  /** Endpoint override, e.g. a VPC endpoint or a local emulator. Default: the SDK's (honours `AWS_ENDPOINT_URL_KMS`). */
  readonly endpoint?: string;
  /** Credentials or a credential provider. Default: the SDK's default chain (env, SSO, profile, web identity, ECS/EC2 roles). */
  readonly credentials?: KMSClientConfig['credentials'];
  /** A shared-config profile for the default chain. */
  readonly profile?: string;
  /** Attempts per KMS call, first one included; throttling, 5xx and network errors are retried with backoff. Default 3. */
  readonly maxAttempts?: number;
  /** Give up connecting after this many ms. Default 3,000. */
  readonly connectionTimeoutMs?: number;
  /** Give up on one attempt (request and response) after this many ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /**
   * How long one keyring operation (`wrap`, `unwrap`, `rewrapInService`, the public-key fetch) may
   * take in total, every SDK attempt and backoff included; then the request in flight is aborted and
   * a retryable `ProviderError` is thrown. Applies to a client passed in too. Default 30,000.
   */
  readonly deadlineMs?: number;
  /** Further `KMSClientConfig`, applied last (overrides the options above). */
  readonly clientConfig?: KMSClientConfig;
}

// Defaults for clients the keyring builds: KMS answers in tens of milliseconds, so seconds mean trouble.
/** Attempts per KMS call (the SDK's standard retry mode: throttling, 5xx and network errors, with backoff). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Milliseconds to wait for a connection to KMS. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 3_000;
/** Milliseconds one attempt (request and response) may take; enforced with `throwOnRequestTimeout`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

function isKmsOperations(c: object): c is KmsOperations {
  const o = c as Partial<KmsOperations>;
  return typeof o.decrypt === 'function' && typeof o.encrypt === 'function' && typeof o.generateDataKey === 'function';
}

/**
 * Adapt a client to {@link KmsOperations}: a bare `KMSClient` gets one `send(new XCommand())` per
 * method; anything that already has the methods (the aggregated `KMS` client) is used as is.
 *
 * @param client A `KMSClient`, a `KMS`, or an object with the methods.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when it is neither.
 */
export function kmsOperations(client: KmsClientInput): KmsOperations {
  if (client === null || typeof client !== 'object') throw new InvalidArgumentError('client must be a KMSClient, a KMS client or an object with the KMS methods');
  if (isKmsOperations(client)) return client;
  if (typeof (client as KMSClient).send !== 'function') throw new InvalidArgumentError('client must be a KMSClient, a KMS client or an object with the KMS methods');
  const c = client as KMSClient;
  return {
    generateDataKey: (input, options) => c.send(new GenerateDataKeyCommand(input), options ?? {}),
    encrypt: (input, options) => c.send(new EncryptCommand(input), options ?? {}),
    decrypt: (input, options) => c.send(new DecryptCommand(input), options ?? {}),
    reEncrypt: (input, options) => c.send(new ReEncryptCommand(input), options ?? {}),
    getPublicKey: (input, options) => c.send(new GetPublicKeyCommand(input), options ?? {}),
  };
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

/** Check the connection options once, at construction. */
export function validateClientOptions(options: AwsKmsClientOptions): void {
  if (options.client !== undefined) kmsOperations(options.client);
  if (options.clientProvider !== undefined && typeof options.clientProvider !== 'function') throw new InvalidArgumentError('clientProvider must be a function');
  if (options.region !== undefined && (typeof options.region !== 'string' || !/^[a-z0-9-]{1,64}$/.test(options.region))) throw new InvalidArgumentError('region must be a region name such as eu-west-1');
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string' || !URL.canParse(options.endpoint)) throw new InvalidArgumentError('endpoint must be a URL');
  }
  positiveInt(options.maxAttempts, 'maxAttempts', DEFAULT_MAX_ATTEMPTS);
  positiveInt(options.connectionTimeoutMs, 'connectionTimeoutMs', DEFAULT_CONNECTION_TIMEOUT_MS);
  positiveInt(options.requestTimeoutMs, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS);
  deadlinePolicy(options.deadlineMs);
}

/**
 * The SDK retries within each call (standard mode: throttling, 5xx, timeouts and network errors,
 * `maxAttempts`, per-attempt `requestTimeout`); core's `callWithRetries` adds the total deadline
 * and the caller's signal around it, as one attempt.
 */
function deadlinePolicy(deadlineMs: number | undefined): ResolvedRetryPolicy {
  const deadline = resolveRetryPolicy(deadlineMs === undefined ? undefined : { deadlineMs }, DEFAULT_RETRY_POLICY, 'deadline').deadlineMs;
  return Object.freeze({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1, attemptTimeoutMs: deadline, deadlineMs: deadline });
}

/** Names and limits of one keyring call to KMS. */
export interface KmsCall {
  readonly provider: string;
  readonly operation: string;
  readonly keyId: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** `Date.now()` by which the whole keyring operation must end (see {@link ClientPool.deadline}). */
  readonly deadline: number;
}

/**
 * Hands out one client per region: the caller's client, the caller's provider, or a `KMSClient`
 * built from the options (and destroyed by {@link ClientPool.destroy}).
 */
export class ClientPool {
  readonly #options: AwsKmsClientOptions;
  readonly #defaultRegion: string | undefined;
  readonly #clients = new Map<string, KmsOperations>();
  readonly #owned: KMSClient[] = [];
  readonly #policy: ResolvedRetryPolicy;

  constructor(options: AwsKmsClientOptions, defaultRegion: string | undefined) {
    this.#options = options;
    this.#defaultRegion = defaultRegion;
    this.#policy = deadlinePolicy(options.deadlineMs);
  }

  /** The total deadline of one keyring operation, ms. */
  get deadlineMs(): number {
    return this.#policy.deadlineMs;
  }

  /** When an operation starting now must end. */
  deadline(): number {
    return Date.now() + this.#policy.deadlineMs;
  }

  /**
   * One KMS call under the deadline and the caller's signal; SDK errors become `ProviderError`s.
   * `discard` receives a response that arrived after the call was given up (to zero a data key).
   */
  call<T>(region: string | undefined, call: KmsCall, send: (ops: KmsOperations, options: KmsCallOptions) => Promise<T>, discard?: (late: T) => void): Promise<T> {
    const ops = this.get(region);
    return callWithRetries<T>(
      this.#policy,
      // Typed errors pass through (a malformed public key); SDK errors are mapped.
      { ...call, toError: (err) => (err instanceof FieldsealError ? err : toProviderError(err, call.provider, call.operation, call.keyId)), ...(discard ? { discard } : {}) },
      (abortSignal) => send(ops, { abortSignal }),
    );
  }

  /** Region used for identifiers that do not name one (aliases, key ids), if known. */
  get defaultRegion(): string | undefined {
    return this.#defaultRegion;
  }

  /** The client for `region` (an ARN's region), or for the default region when `undefined`. */
  get(region: string | undefined): KmsOperations {
    const effective = region ?? this.#defaultRegion;
    const cacheKey = effective ?? '';
    let ops = this.#clients.get(cacheKey);
    if (ops !== undefined) return ops;
    const o = this.#options;
    if (o.client !== undefined) {
      ops = kmsOperations(o.client);
    } else if (o.clientProvider !== undefined) {
      ops = kmsOperations(o.clientProvider(effective));
    } else {
      const client = new KMSClient({
        ...(effective !== undefined ? { region: effective } : {}),
        ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
        ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
        ...(o.profile !== undefined ? { profile: o.profile } : {}),
        maxAttempts: positiveInt(o.maxAttempts, 'maxAttempts', DEFAULT_MAX_ATTEMPTS),
        requestHandler: {
          connectionTimeout: positiveInt(o.connectionTimeoutMs, 'connectionTimeoutMs', DEFAULT_CONNECTION_TIMEOUT_MS),
          requestTimeout: positiveInt(o.requestTimeoutMs, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS),
          // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
          throwOnRequestTimeout: true,
        },
        ...o.clientConfig,
      });
      this.#owned.push(client);
      ops = kmsOperations(client);
    }
    this.#clients.set(cacheKey, ops);
    return ops;
  }

  /** Destroy the clients this pool built (never the caller's). */
  destroy(): void {
    for (const c of this.#owned.splice(0)) c.destroy();
    this.#clients.clear();
  }
}
