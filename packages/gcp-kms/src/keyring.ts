/**
 * {@link GcpKmsKeyring}: data keys wrapped and unwrapped inside Cloud KMS with a symmetric
 * (`ENCRYPT_DECRYPT`) CryptoKey, CRC32C-checked end to end.
 * @module
 */
import { dataKeyToWrap, encodeContext, MAX_SERVICE_UNWRAPS_PER_KEY, InvalidArgumentError, KeyUnavailableError, type KeyUnavailableReason } from '@fieldseal/core';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';
import { cancelOnAbort, resolveClient, withIntegrityRetries, type GcpKmsClient, type GcpKmsClientSettings, type ResolvedClient } from './client.js';
import { checksumValue, crc32c } from './crc32c.js';
import { integrityError, toProviderError, verifiedDataKey } from './errors.js';
import { cryptoKeyOf, isCryptoKeyVersionName } from './names.js';

/** Provider id of data keys wrapped with Cloud KMS `Encrypt`. */
export const GCP_KMS_PROVIDER = 'gcp-kms';

// Cloud KMS accepts at most 64 KiB of additional authenticated data.
const MAX_AAD_BYTES = 64 * 1024;

/** Options of {@link GcpKmsKeyring}. */
export interface GcpKmsKeyringOptions extends GcpKmsClientSettings {
  /**
   * The `ENCRYPT_DECRYPT` CryptoKey (`projects/P/locations/L/keyRings/R/cryptoKeys/K`): `Encrypt`
   * uses its primary version. A CryptoKeyVersion name pins `Encrypt` to that version instead.
   * Either way, unwrap accepts data keys wrapped under any version of this CryptoKey (Cloud KMS
   * picks the version from the ciphertext) and no other key.
   */
  readonly keyName: string;
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    // The REST fallback transport returns bytes as base64 strings.
    const bin = atob(value);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return undefined;
}

/**
 * Wraps data keys with Cloud KMS `Encrypt` and unwraps them with `Decrypt` under one symmetric
 * CryptoKey, over the real `@google-cloud/kms` client.
 *
 * - The full encryption context, canonically encoded (core's `encodeContext`), is the
 *   `additionalAuthenticatedData` of both calls, so Cloud KMS itself refuses a wrapped key moved to
 *   another context.
 * - CRC32C on every call, as Google documents for end-to-end integrity: the keyring sends
 *   `plaintextCrc32c`, `additionalAuthenticatedDataCrc32c` and `ciphertextCrc32c`, requires
 *   `verifiedPlaintextCrc32c` and `verifiedAdditionalAuthenticatedDataCrc32c`, and checks
 *   `ciphertextCrc32c` / `plaintextCrc32c` of the responses and that `name` is a version of the
 *   configured key. A failed check is a `ProviderError` of kind `integrity` (after re-sending the
 *   call, see {@link GcpKmsRetryOptions}).
 * - Wrapped keys: provider id `gcp-kms`, key id = the CryptoKeyVersion that encrypted.
 * - Strict: unwrap only calls `Decrypt` on the configured CryptoKey, whatever a document says.
 * - Bounded timeouts and retries (default 3 attempts of 5 s); failures are `ProviderError`s with
 *   provider `gcp-kms`, the key name, a `kind` and `retryable`.
 *
 * @example
 * ```ts
 * import { encrypt, decrypt } from '@fieldseal/core';
 * import { GcpKmsKeyring } from '@fieldseal/gcp-kms';
 *
 * // Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server.
 * const keyring = new GcpKmsKeyring({
 *   keyName: 'projects/my-project/locations/europe-west1/keyRings/app/cryptoKeys/customer-kek',
 * });
 * const sealed = await encrypt(customer, { keyring, paths: ['$.ssn'], context: { tenant: 't1' } });
 * const opened = await decrypt(sealed, { keyring, context: { tenant: 't1' } });
 * await keyring.close();
 * ```
 */
export class GcpKmsKeyring implements Keyring {
  /** The configured CryptoKey (or CryptoKeyVersion) name. */
  readonly keyName: string;
  /** The CryptoKey that unwrap calls `Decrypt` on. */
  readonly cryptoKeyName: string;
  readonly #client: ResolvedClient;

  /**
   * @param options - The key name and, optionally, a client, client options and the retry policy.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `keyName` is not a CryptoKey or CryptoKeyVersion name, or a setting is malformed.
   */
  constructor(options: GcpKmsKeyringOptions) {
    /* Precondition: the keyring is configured with a full Cloud KMS key name, never a short or partial one. */
    const cryptoKey = options !== null && typeof options === 'object' && typeof options.keyName === 'string' ? cryptoKeyOf(options.keyName) : undefined;
    if (cryptoKey === undefined) {
      throw new InvalidArgumentError('keyName must be a CryptoKey name (projects/P/locations/L/keyRings/R/cryptoKeys/K) or a version of one');
    }
    this.keyName = options.keyName;
    this.cryptoKeyName = cryptoKey;
    this.#client = resolveClient(options);
    Object.freeze(this);
  }

  /** Total deadline of one `wrap`/`unwrap`, ms (gax retries and integrity re-sends included). */
  get deadlineMs(): number {
    return this.#client.deadlineMs;
  }

  /** The client in use (yours, or the one the keyring built). */
  get client(): GcpKmsClient {
    return this.#client.client;
  }

  #aad(request: WrapRequest | UnwrapRequest): Uint8Array {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('request must be an object');
    const aad = encodeContext(request.context ?? {});
    if (aad.length > MAX_AAD_BYTES) throw new InvalidArgumentError('the encryption context encodes to more than 64 KiB, the most Cloud KMS accepts as additional authenticated data');
    return aad;
  }

  /**
   * Wrap the data key (a fresh one from the CSPRNG unless a multi-keyring passes one in) with Cloud
   * KMS `Encrypt`, the encryption context as AAD.
   * @param request - The data key, if any, and the full encryption context.
   * @returns The data key (the caller owns it) and one `gcp-kms` wrapped key whose key id is the version used.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when Cloud KMS fails or a response fails its integrity checks (`kind: 'integrity'`).
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a `dataKey` that is not 32 bytes or an invalid context.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const aad = this.#aad(request);
    const dataKey = dataKeyToWrap(request);
    try {
      const wrapped = await this.#client.run({ provider: GCP_KMS_PROVIDER, keyId: this.keyName, operation: 'Encrypt', signal: request.signal }, (signal) =>
        withIntegrityRetries(this.#client.maxAttempts, () => this.#encrypt(dataKey, aad, signal), signal),
      );
      return { dataKey, wrapped: [wrapped] };
    } catch (err) {
      dataKey.fill(0);
      throw err;
    }
  }

  async #encrypt(dataKey: Uint8Array, aad: Uint8Array, signal: AbortSignal): Promise<{ provider: string; keyId: string; ciphertext: Uint8Array }> {
    const op = 'Encrypt';
    let response;
    try {
      await this.#client.ready();
      [response] = await cancelOnAbort(this.#client.client.encrypt(
        {
          name: this.keyName,
          plaintext: dataKey,
          additionalAuthenticatedData: aad,
          plaintextCrc32c: { value: crc32c(dataKey) },
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.#client.callOptions(),
      ), signal);
    } catch (err) {
      throw toProviderError(err, GCP_KMS_PROVIDER, this.keyName, op);
    }
    const fail = (what: string, retryable = true) => integrityError(GCP_KMS_PROVIDER, this.keyName, op, what, retryable);
    if (response.verifiedPlaintextCrc32c !== true) throw fail('the service did not verify plaintext_crc32c');
    if (response.verifiedAdditionalAuthenticatedDataCrc32c !== true) throw fail('the service did not verify additional_authenticated_data_crc32c');
    const ciphertext = toBytes(response.ciphertext);
    if (ciphertext === undefined || ciphertext.length === 0) throw fail('no ciphertext');
    const sent = checksumValue(response.ciphertextCrc32c);
    if (sent === undefined) throw fail('no ciphertext_crc32c');
    if (sent !== crc32c(ciphertext)) throw fail('ciphertext_crc32c does not match the ciphertext');
    // The version that encrypted: it must belong to the key we asked for (and be the pinned one, if pinned).
    const version = response.name;
    if (!isCryptoKeyVersionName(version) || cryptoKeyOf(version) !== this.cryptoKeyName || (isCryptoKeyVersionName(this.keyName) && version !== this.keyName)) {
      throw fail('the response names a different key', false);
    }
    return { provider: GCP_KMS_PROVIDER, keyId: version, ciphertext: Uint8Array.from(ciphertext) };
  }

  /**
   * Unwrap the first `gcp-kms` wrapped key of the configured CryptoKey with Cloud KMS `Decrypt`.
   * @param request - The group's wrapped keys and the full encryption context.
   * @returns The 32-byte data key; the caller owns it and zeroes it after use.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no wrapped key is for this CryptoKey, or every `Decrypt` failed; each reason's `cause` is the `ProviderError`.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const aad = this.#aad(request);
    const wrappedKeys = Array.isArray(request.wrapped) ? request.wrapped : [];
    const reasons: KeyUnavailableReason[] = [];
    // One deadline for the whole unwrap, however many wrapped keys it tries.
    const deadline = Date.now() + this.#client.deadlineMs;
    let sent = 0;
    for (const wrapped of wrappedKeys) {
      if (wrapped?.provider !== GCP_KMS_PROVIDER) continue;
      /* Precondition: strict keyring: only versions of the configured CryptoKey are ever sent to Decrypt. */
      if (typeof wrapped.keyId !== 'string' || !isCryptoKeyVersionName(wrapped.keyId) || cryptoKeyOf(wrapped.keyId) !== this.cryptoKeyName) {
        reasons.push({ provider: GCP_KMS_PROVIDER, keyId: typeof wrapped.keyId === 'string' ? wrapped.keyId.slice(0, 1024) : undefined, message: `not a version of the configured key ${this.cryptoKeyName}` });
        continue;
      }
      if (!(wrapped.ciphertext instanceof Uint8Array) || wrapped.ciphertext.length === 0) {
        reasons.push({ provider: GCP_KMS_PROVIDER, keyId: wrapped.keyId, message: 'the wrapped key has no ciphertext' });
        continue;
      }
      // A forged header may list many versions of the configured key: each Decrypt is a paid call.
      if (sent >= MAX_SERVICE_UNWRAPS_PER_KEY) {
        reasons.push({ provider: GCP_KMS_PROVIDER, keyId: wrapped.keyId, message: `not tried: at most ${MAX_SERVICE_UNWRAPS_PER_KEY} wrapped keys per configured key are sent to Cloud KMS in one unwrap` });
        continue;
      }
      sent++;
      try {
        return await this.#client.run({ provider: GCP_KMS_PROVIDER, keyId: wrapped.keyId, operation: 'Decrypt', signal: request.signal, deadline, discard: (late: Uint8Array) => late.fill(0) }, (signal) =>
          withIntegrityRetries(this.#client.maxAttempts, () => this.#decrypt(wrapped.keyId, wrapped.ciphertext, aad, signal), signal),
        );
      } catch (err) {
        const providerError = toProviderError(err, GCP_KMS_PROVIDER, wrapped.keyId, 'Decrypt');
        // The caller asked to stop: trying further wrapped keys would ignore that.
        if (providerError.kind === 'aborted') throw providerError;
        reasons.push({ provider: GCP_KMS_PROVIDER, keyId: wrapped.keyId, message: providerError.message, cause: providerError });
      }
    }
    if (reasons.length === 0) reasons.push({ provider: GCP_KMS_PROVIDER, keyId: this.cryptoKeyName, message: 'no data key in the document is wrapped under this Cloud KMS key' });
    throw new KeyUnavailableError('Cloud KMS could not unwrap the data key', reasons);
  }

  async #decrypt(keyId: string, ciphertext: Uint8Array, aad: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const op = 'Decrypt';
    let response;
    try {
      await this.#client.ready();
      [response] = await cancelOnAbort(this.#client.client.decrypt(
        {
          name: this.cryptoKeyName,
          ciphertext,
          additionalAuthenticatedData: aad,
          ciphertextCrc32c: { value: crc32c(ciphertext) },
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.#client.callOptions(),
      ), signal);
    } catch (err) {
      throw toProviderError(err, GCP_KMS_PROVIDER, keyId, op);
    }
    return verifiedDataKey(GCP_KMS_PROVIDER, keyId, op, toBytes(response.plaintext), checksumValue(response.plaintextCrc32c), crc32c);
  }

  /**
   * Close the client if the keyring built it; a client you passed in is left open (you close it).
   * @returns When the channel is closed.
   */
  async close(): Promise<void> {
    if (!this.#client.owned) return;
    try {
      await this.#client.client.close();
    } catch {
      // close() rejects with the setup error when the client never connected (e.g. no credentials): there is no channel to close.
    }
  }
}
