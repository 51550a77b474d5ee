import type { TokenCredential } from '@azure/core-auth';
import { CryptographyClient } from '@azure/keyvault-keys';
import type { KeyClient, KeyClientOptions, KeyVaultKey, UnwrapResult } from '@azure/keyvault-keys';
import { callWithRetries, dataKeyToWrap, MAX_SERVICE_UNWRAPS_PER_KEY, FieldsealError, InvalidArgumentError, KeyUnavailableError, ProviderError, rsaOaepPublicKeyEncrypt } from '@fieldseal/core';
import type { KeyUnavailableReason, Keyring, ResolvedRetryPolicy, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';
import { ClientCache, checkTimeout, createKeyClient, keyringRetryPolicy, pipelineOptions } from './client.js';
import type { AzureKeyVaultRetryOptions } from './client.js';
import { toProviderError } from './errors.js';
import { fetchPublicKeyWith } from './fetch-public-key.js';
import { AZURE_KEYVAULT_PROVIDER_ID, formatAzureKeyId, parseAzureKeyId, sameAzureKey } from './key-id.js';
import type { AzureKeyId } from './key-id.js';
import { importRsaOaepPublicKey, publicKeyId } from './public-key.js';
import type { AzurePublicKeyJwk } from './public-key.js';

/** Key wrap algorithms: `RSA-OAEP-256` for RSA keys (Key Vault and Managed HSM), `A256KW` for Managed HSM AES-256 keys. */
export type AzureKeyWrapAlgorithm = 'RSA-OAEP-256' | 'A256KW';

/** Where `wrap` happens. */
export type AzureWrapMode =
  /** `wrapkey` in Key Vault (default). */
  | 'remote'
  /** Client-side: RSA-OAEP-256 locally with the key's public half (fetched once, or given); unwrap stays in Key Vault. */
  | 'local';

/** Options of {@link AzureKeyVaultKeyring}. */
export interface AzureKeyVaultKeyringOptions {
  /**
   * The key: `https://{vault}.vault.azure.net/keys/{name}` (wrap with the latest version) or
   * `.../keys/{name}/{version}` (pin a version). Managed HSM: `https://{hsm}.managedhsm.azure.net/keys/...`.
   */
  readonly keyId: string;
  /** Any `TokenCredential`, e.g. `new DefaultAzureCredential()` from `@azure/identity`. */
  readonly credential: TokenCredential;
  /**
   * Pipeline options for the SDK clients this keyring creates: TLS, proxy, `serviceVersion`,
   * `additionalPolicies`, `httpClient`, `allowInsecureConnection`, ...
   */
  readonly clientOptions?: KeyClientOptions;
  /**
   * Retry policy and total deadline (overrides `clientOptions.retryOptions`). Default: 3 attempts,
   * backoff from 100 ms up to 2 s, a 30 s deadline per `wrap`/`unwrap`.
   */
  readonly retry?: AzureKeyVaultRetryOptions;
  /** Timeout of each HTTP attempt, in ms; a timed-out attempt is retried within the deadline. Default 10,000. */
  readonly timeoutMs?: number;
  /** Key wrap algorithm. Default `RSA-OAEP-256`. */
  readonly algorithm?: AzureKeyWrapAlgorithm;
  /** Where `wrap` runs. Default `remote`. */
  readonly wrapMode?: AzureWrapMode;
  /**
   * For `wrapMode: 'local'`: the public key to wrap with (JWK with the versioned `kid`, or an SPKI PEM
   * together with a versioned `keyId`). When absent it is fetched once with `getKey`.
   */
  readonly publicKey?: AzurePublicKeyJwk | string;
}

/** How many per-version clients a keyring keeps (each fetched its key once). */
const MAX_VERSION_CLIENTS = 32;

/**
 * A keyring over one Azure Key Vault or Managed HSM key, through the real `@azure/keyvault-keys`
 * `CryptographyClient`.
 *
 * - `wrap`: `wrapkey` in Key Vault with `RSA-OAEP-256` (RSA keys) or `A256KW` (Managed HSM AES keys),
 *   or, with `wrapMode: 'local'`, RSA-OAEP-256 locally under the key's public half.
 * - `unwrap`: `unwrapkey` in Key Vault with the exact version recorded in the wrapped key, so
 *   documents wrapped before a key rotation keep opening.
 * - Wrapped keys: provider `azure-keyvault`, keyId the full versioned kid
 *   (`https://{vault}/keys/{name}/{version}`), ciphertext the bytes Key Vault returned.
 * - Strict: unwrap only calls Key Vault for wrapped keys of the configured vault and key name (any
 *   version of it); any other key id in a document is never followed.
 * - Key Vault has no additional authenticated data; the encryption context is bound by fieldseal's
 *   header MAC and field AADs, keyed from the data key.
 * - **With an RSA key, no authenticity**, in either `wrapMode`: RSA-OAEP-256 wrapping needs only the
 *   public half, so whoever has it can seal documents this keyring opens as genuine, under any
 *   context. Use a Managed HSM AES key (`A256KW`) where stored documents must prove who wrote them,
 *   or re-seal public-key documents on receipt (docs/SECURITY.md, `examples/browser-form`).
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { encrypt, decrypt } from '@fieldseal/core';
 * import { AzureKeyVaultKeyring } from '@fieldseal/azure-keyvault';
 *
 * const keyring = new AzureKeyVaultKeyring({
 *   keyId: 'https://my-vault.vault.azure.net/keys/fieldseal-kek',
 *   credential: new DefaultAzureCredential(),
 * });
 * const sealed = await encrypt(customer, { keyring, paths: ['$.ssn'], context: { tenant: 't1' } });
 * const opened = await decrypt(sealed, { keyring, context: { tenant: 't1' } });
 * ```
 */
export class AzureKeyVaultKeyring implements Keyring {
  /** The configured key id (as given, possibly versionless). */
  readonly keyId: string;
  /** The wrap algorithm. */
  readonly algorithm: AzureKeyWrapAlgorithm;
  /** Where `wrap` runs. */
  readonly wrapMode: AzureWrapMode;
  readonly #key: AzureKeyId;
  readonly #credential: TokenCredential;
  readonly #clientOptions: KeyClientOptions;
  /** Timeouts, retries and deadline of every Key Vault call (core's `callWithRetries`). */
  readonly retryPolicy: ResolvedRetryPolicy;
  readonly #versionClients = new ClientCache(MAX_VERSION_CLIENTS);
  readonly #publicKeyOption: AzurePublicKeyJwk | string | undefined;
  #wrapClient: CryptographyClient | undefined;
  #keyClient: KeyClient | undefined;
  #localKey: Promise<{ keyId: string; key: CryptoKey }> | undefined;

  /**
   * @param options - The key, a credential, and optional client options, algorithm, wrap mode,
   * retries and timeout.
   * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed key id or option;
   * {@link AzureCredentialRequiredError} (same code) when no `credential` is given.
   */
  constructor(options: AzureKeyVaultKeyringOptions) {
    /* Precondition: options is an object with a key id. */
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    this.#key = parseAzureKeyId(options.keyId);
    this.keyId = options.keyId;
    const algorithm = options.algorithm ?? 'RSA-OAEP-256';
    if (algorithm !== 'RSA-OAEP-256' && algorithm !== 'A256KW') throw new InvalidArgumentError("algorithm must be 'RSA-OAEP-256' or 'A256KW'");
    const wrapMode = options.wrapMode ?? 'remote';
    if (wrapMode !== 'remote' && wrapMode !== 'local') throw new InvalidArgumentError("wrapMode must be 'remote' or 'local'");
    /* Precondition: local wrapping needs an RSA key. */
    if (wrapMode === 'local' && algorithm !== 'RSA-OAEP-256') throw new InvalidArgumentError("wrapMode 'local' needs algorithm 'RSA-OAEP-256' (AES keys never leave the HSM)");
    if (options.publicKey !== undefined && wrapMode !== 'local') throw new InvalidArgumentError("publicKey is only used with wrapMode 'local'");
    this.algorithm = algorithm;
    this.wrapMode = wrapMode;
    const timeoutMs = checkTimeout(options.timeoutMs);
    this.#publicKeyOption = options.publicKey;
    if (options.publicKey !== undefined) {
      // Check now that the given public key belongs to the configured key, so a mix-up fails at start.
      const kid = parseAzureKeyId(publicKeyId(options.publicKey, this.#key.version === undefined ? undefined : options.keyId));
      if (!sameAzureKey(this.#key, kid)) throw new InvalidArgumentError('publicKey.kid names a different key than keyId');
    }
    this.retryPolicy = keyringRetryPolicy(options.retry, options.clientOptions, timeoutMs);
    // The keyring retries (per attempt, within its deadline); retries in the pipeline too would multiply.
    this.#clientOptions = { ...pipelineOptions(options.credential, options.clientOptions, options.retry), retryOptions: { maxRetries: 0 } };
    this.#credential = options.credential;
    Object.freeze(this);
  }

  /**
   * Wrap the data key (a fresh random one unless given) under the configured key.
   *
   * With a versionless key id, Key Vault wraps with its latest version and the version it reports is
   * recorded; with a versioned id that version is used.
   * @param request - Optional data key, and the encryption context (not sent: Key Vault has no AAD).
   * @returns The data key (a copy the caller owns and zeroes) and one wrapped key.
   * @throws `ProviderError` `ERR_FIELDSEAL_PROVIDER` with `kind` and `retryable` when Key Vault fails.
   * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` when `dataKey` is not 32 bytes.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const dataKey = dataKeyToWrap(request);
    try {
      if (this.wrapMode === 'local') {
        // The public key is fetched once for every caller, under its own deadline; a caller's signal only ends that caller's wait.
        const shared = this.#publicKey();
        const policy = { ...this.retryPolicy, maxAttempts: 1, attemptTimeoutMs: this.retryPolicy.deadlineMs };
        const { keyId, key } = await callWithRetries(policy, { provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: this.keyId, operation: 'getKey', signal: request.signal }, () => shared);
        return { dataKey, wrapped: [{ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, ciphertext: await rsaOaepPublicKeyEncrypt(key, dataKey) }] };
      }
      const client = (this.#wrapClient ??= this.#cryptographyClient(this.#key.version));
      const { result, reportedKid } = await callWithRetries(this.retryPolicy, this.#call('wrapKey', this.keyId, request.signal), async (abortSignal) => {
        let kid: unknown;
        const answer = await client.wrapKey(this.algorithm, dataKey, {
          abortSignal,
          onResponse: (raw) => {
            if (raw.status === 200 && /\/wrapkey(\?|$)/.test(raw.request.url)) kid = (raw.parsedBody as { kid?: unknown } | undefined)?.kid;
          },
        });
        return { result: answer.result, reportedKid: kid };
      });
      const keyId = this.#recordedKeyId(reportedKid);
      return { dataKey, wrapped: [{ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, ciphertext: Uint8Array.from(result) }] };
    } catch (err) {
      dataKey.fill(0);
      if (err instanceof FieldsealError && !(err instanceof ProviderError)) throw err;
      throw toProviderError(err, this.keyId, 'wrapKey');
    }
  }

  /**
   * Unwrap a data key in Key Vault with the key version recorded in the wrapped key.
   * @param request - The wrapped keys of one key group; only `azure-keyvault` keys of the configured
   * vault and key name are tried.
   * @returns The 32-byte data key; the caller owns it and zeroes it after use.
   * @throws `KeyUnavailableError` `ERR_FIELDSEAL_KEY_UNAVAILABLE` with one reason per wrapped key
   * tried; a Key Vault failure is a `ProviderError` in the reason's `cause`.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const reasons: KeyUnavailableReason[] = [];
    // One deadline for the whole unwrap, however many wrapped keys it tries.
    const deadline = Date.now() + this.retryPolicy.deadlineMs;
    let sent = 0;
    for (const wrapped of request.wrapped) {
      if (wrapped.provider !== AZURE_KEYVAULT_PROVIDER_ID) continue;
      let candidate: AzureKeyId;
      try {
        candidate = parseAzureKeyId(wrapped.keyId, 'wrapped keyId');
      } catch {
        reasons.push({ provider: AZURE_KEYVAULT_PROVIDER_ID, message: 'the wrapped key names no valid Key Vault key id' });
        continue;
      }
      const version = candidate.version;
      if (!sameAzureKey(this.#key, candidate) || version === undefined) {
        reasons.push({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: wrapped.keyId, message: version === undefined ? 'the wrapped key id has no version' : 'not the key this keyring is configured with (strict keyring)' });
        continue;
      }
      // A forged header may list many versions of the configured key: each unwrapKey is a paid call.
      if (sent >= MAX_SERVICE_UNWRAPS_PER_KEY) {
        reasons.push({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: wrapped.keyId, message: `not tried: at most ${MAX_SERVICE_UNWRAPS_PER_KEY} wrapped keys per configured key are sent to Key Vault in one unwrap` });
        continue;
      }
      sent++;
      const client = this.#versionClients.get(version.toLowerCase(), () => this.#cryptographyClient(version));
      try {
        const result = await callWithRetries<UnwrapResult>(
          this.retryPolicy,
          { ...this.#call('unwrapKey', wrapped.keyId, request.signal), deadline, discard: (late) => late.result.fill(0) },
          (abortSignal) => client.unwrapKey(this.algorithm, wrapped.ciphertext, { abortSignal }),
        );
        const dataKey = Uint8Array.from(result.result);
        result.result.fill(0);
        if (dataKey.length !== 32) {
          dataKey.fill(0);
          throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: wrapped.keyId, kind: 'invalid-ciphertext', retryable: false, message: 'unwrapKey returned a key of the wrong length' });
        }
        return dataKey;
      } catch (err) {
        const cause = toProviderError(err, wrapped.keyId, 'unwrapKey');
        // The caller asked to stop: trying further wrapped keys would ignore that.
        if (cause.kind === 'aborted') throw cause;
        reasons.push({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: wrapped.keyId, message: `${cause.kind}${cause.retryable ? ' (retryable)' : ''}: unwrapKey failed`, cause });
      }
    }
    if (reasons.length === 0) reasons.push({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: this.keyId, message: 'no wrapped key from azure-keyvault in this group' });
    throw new KeyUnavailableError('no data key could be unwrapped', reasons);
  }

  /**
   * A remote-only CryptographyClient for one version (or the latest, for `undefined`). It is built
   * from a key reference without key material, so the SDK neither GETs the key nor applies its local
   * checks: Key Vault itself decides, and it still unwraps with an expired version (the SDK's local
   * check would refuse), which keeps old documents readable after rotation policies expire versions.
   */
  #cryptographyClient(version: string | undefined): CryptographyClient {
    const id = version === undefined ? `${this.#key.vaultUrl}/keys/${this.#key.name}` : formatAzureKeyId(this.#key, version);
    const reference: KeyVaultKey = { name: this.#key.name, id, properties: { name: this.#key.name, id, vaultUrl: this.#key.vaultUrl, ...(version === undefined ? {} : { version }) } };
    // The SDK mutates the options it is given: hand each client its own copy.
    return new CryptographyClient(reference, this.#credential, { ...this.#clientOptions });
  }

  /** What `callWithRetries` needs for one Key Vault operation. */
  #call(operation: string, keyId: string, signal: AbortSignal | undefined): { provider: string; keyId: string; operation: string; signal: AbortSignal | undefined; toError(err: unknown): ProviderError } {
    return { provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, operation, signal, toError: (err) => toProviderError(err, keyId, operation) };
  }

  /** The versioned key id to record for a remote wrap: the version Key Vault says it used. */
  #recordedKeyId(reportedKid: unknown): string {
    if (typeof reportedKid === 'string') {
      let reported: AzureKeyId | undefined;
      try {
        reported = parseAzureKeyId(reportedKid, 'kid');
      } catch {
        reported = undefined;
      }
      if (reported === undefined || !sameAzureKey(this.#key, reported) || reported.version === undefined || (this.#key.version !== undefined && reported.version.toLowerCase() !== this.#key.version.toLowerCase())) {
        throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: this.keyId, kind: 'other', retryable: false, message: 'Key Vault reported a kid that does not belong to the configured key' });
      }
      return formatAzureKeyId(this.#key, reported.version);
    }
    if (this.#key.version !== undefined) return formatAzureKeyId(this.#key, this.#key.version);
    throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: this.keyId, kind: 'other', retryable: false, message: 'Key Vault did not report which key version wrapped the data key' });
  }

  /** Import the public key once: the given one, or fetched with getKey (retried on the next call if that fails). */
  #publicKey(): Promise<{ keyId: string; key: CryptoKey }> {
    this.#localKey ??= (async () => {
      const keyClient = (this.#keyClient ??= createKeyClient(this.#key.vaultUrl, this.#credential, this.#clientOptions, { maxRetries: 0 }));
      const jwk =
        this.#publicKeyOption ??
        (await callWithRetries(this.retryPolicy, this.#call('getKey', this.keyId, undefined), (abortSignal) => fetchPublicKeyWith(keyClient, this.#key, { abortSignal })));
      const keyId = publicKeyId(jwk, typeof jwk === 'string' || jwk.kid === undefined ? this.keyId : undefined);
      if (!sameAzureKey(this.#key, parseAzureKeyId(keyId))) throw new InvalidArgumentError('the public key belongs to a different key than keyId');
      return { keyId, key: await importRsaOaepPublicKey(jwk) };
    })();
    const pending = this.#localKey;
    pending.catch(() => {
      if (this.#localKey === pending) this.#localKey = undefined;
    });
    return pending;
  }
}
