/**
 * {@link GcpKmsRsaKeyring}: data keys wrapped locally with the public key of a Cloud KMS RSA
 * decryption key and unwrapped in Cloud KMS with `AsymmetricDecrypt`.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError, wrapWithRsaOaepPublicKey, type KeyUnavailableReason } from '@fieldseal/core';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';
import { cancelOnAbort, resolveClient, withIntegrityRetries, type GcpKmsClient, type GcpKmsClientSettings, type ResolvedClient } from './client.js';
import { checksumValue, crc32c } from './crc32c.js';
import { integrityError, toProviderError, verifiedDataKey } from './errors.js';
import { cryptoKeyOf, isCryptoKeyVersionName } from './names.js';
import { GCP_KMS_RSA_PROVIDER, importGcpKmsPublicKey, type GcpKmsPublicKeyInput } from './public-key.js';

/* The algorithms whose OAEP parameters (SHA-256, MGF1-SHA-256, empty label) WebCrypto's RSA-OAEP/SHA-256 matches. */
const SUPPORTED_ALGORITHMS = new Set(['RSA_DECRYPT_OAEP_2048_SHA256', 'RSA_DECRYPT_OAEP_3072_SHA256', 'RSA_DECRYPT_OAEP_4096_SHA256']);

/** Options of {@link GcpKmsRsaKeyring}. */
export interface GcpKmsRsaKeyringOptions extends GcpKmsClientSettings {
  /**
   * The CryptoKeyVersion to wrap under (`…/cryptoKeys/K/cryptoKeyVersions/N`) of an
   * `ASYMMETRIC_DECRYPT` key with algorithm `RSA_DECRYPT_OAEP_{3072,4096,2048}_SHA256`. Unwrap
   * accepts data keys wrapped under any version of the same CryptoKey, and no other key.
   */
  readonly keyVersionName: string;
  /**
   * Its public key (SPKI PEM or DER, or a `CryptoKey`). When absent, the keyring fetches it once
   * with `GetPublicKey`, checking its CRC32C, its name and its algorithm.
   */
  readonly publicKey?: GcpKmsPublicKeyInput;
}

/**
 * Cloud KMS asymmetric mode: wraps data keys locally with RSA-OAEP-256 under the public key of an
 * `RSA_DECRYPT_OAEP_*_SHA256` CryptoKeyVersion, and unwraps them in Cloud KMS with
 * `AsymmetricDecrypt`. Pair it with {@link GcpKmsPublicKeyKeyring} in browsers, which holds only
 * the public key and needs no Google SDK.
 *
 * - Wrapped keys: provider id `gcp-kms-rsa`, key id = the CryptoKeyVersion name.
 * - CRC32C: `GetPublicKey`'s `pemCrc32c` is verified; `AsymmetricDecrypt` sends `ciphertextCrc32c`,
 *   requires `verifiedCiphertextCrc32c` and checks `plaintextCrc32c`.
 * - `AsymmetricDecrypt` takes no AAD or OAEP label, so the encryption context is bound by
 *   fieldseal's header MAC and field AAD only, not by Cloud KMS.
 *
 * **No authenticity**: whoever holds the public key can seal documents this keyring opens as
 * genuine, under any context. Treat what it opens as untrusted input, re-seal it under a symmetric
 * key on receipt and store only that (docs/SECURITY.md, `examples/browser-form`).
 *
 * @example
 * ```ts
 * import { decrypt } from '@fieldseal/core';
 * import { GcpKmsRsaKeyring } from '@fieldseal/gcp-kms';
 *
 * const keyring = new GcpKmsRsaKeyring({
 *   keyVersionName: 'projects/my-project/locations/global/keyRings/app/cryptoKeys/browser-forms/cryptoKeyVersions/1',
 * });
 * // Hand this to browsers for GcpKmsPublicKeyKeyring:
 * const publicKeyPem = await keyring.exportPublicKey();
 * const form = await decrypt(sealedFromBrowser, { keyring, context: { form: 'signup' } });
 * await keyring.close();
 * ```
 */
export class GcpKmsRsaKeyring implements Keyring {
  /** The CryptoKeyVersion wrapped under. */
  readonly keyVersionName: string;
  /** Its CryptoKey: unwrap calls only versions of it. */
  readonly cryptoKeyName: string;
  readonly #client: ResolvedClient;
  readonly #publicKeyInput: GcpKmsPublicKeyInput | undefined;
  #publicKey: Promise<{ key: CryptoKey; pem: string | undefined }> | undefined;

  /**
   * @param options - The key version, optionally its public key, a client, client options and the retry policy.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `keyVersionName` is not a CryptoKeyVersion name or a setting is malformed.
   */
  constructor(options: GcpKmsRsaKeyringOptions) {
    /* Precondition: asymmetric keys are used per version; a bare CryptoKey name cannot be called. */
    if (options === null || typeof options !== 'object' || !isCryptoKeyVersionName(options.keyVersionName)) {
      throw new InvalidArgumentError('keyVersionName must be a CryptoKeyVersion name (projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N)');
    }
    const input = options.publicKey;
    if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array) && !(typeof CryptoKey !== 'undefined' && input instanceof CryptoKey)) {
      throw new InvalidArgumentError('publicKey must be a PEM string, SPKI DER bytes or a CryptoKey');
    }
    this.keyVersionName = options.keyVersionName;
    this.cryptoKeyName = cryptoKeyOf(options.keyVersionName)!;
    this.#publicKeyInput = input instanceof Uint8Array ? input.slice() : input;
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

  #loadPublicKey(): Promise<{ key: CryptoKey; pem: string | undefined }> {
    this.#publicKey ??= (async () => {
      if (this.#publicKeyInput !== undefined) return { key: await importGcpKmsPublicKey(this.#publicKeyInput), pem: typeof this.#publicKeyInput === 'string' ? this.#publicKeyInput : undefined };
      const pem = await this.#client.run({ provider: GCP_KMS_RSA_PROVIDER, keyId: this.keyVersionName, operation: 'GetPublicKey', signal: undefined }, (s) =>
        withIntegrityRetries(this.#client.maxAttempts, () => this.#fetchPublicKeyPem(s), s),
      );
      return { key: await importGcpKmsPublicKey(pem), pem };
    })().catch((err: unknown) => {
      // Do not cache a failure: the next wrap asks again.
      this.#publicKey = undefined;
      throw err;
    });
    return this.#publicKey;
  }

  async #fetchPublicKeyPem(signal: AbortSignal): Promise<string> {
    const op = 'GetPublicKey';
    let response;
    try {
      await this.#client.ready();
      [response] = await cancelOnAbort(this.#client.client.getPublicKey({ name: this.keyVersionName }, this.#client.callOptions()), signal);
    } catch (err) {
      throw toProviderError(err, GCP_KMS_RSA_PROVIDER, this.keyVersionName, op);
    }
    const fail = (what: string, retryable = true) => integrityError(GCP_KMS_RSA_PROVIDER, this.keyVersionName, op, what, retryable);
    const pem = response.pem;
    if (typeof pem !== 'string' || pem.length === 0) throw fail('no pem');
    const sent = checksumValue(response.pemCrc32c);
    if (sent === undefined) throw fail('no pem_crc32c');
    if (sent !== crc32c(new TextEncoder().encode(pem))) throw fail('pem_crc32c does not match the pem');
    if (response.name !== this.keyVersionName) throw fail('the response names a different key version', false);
    const algorithm = String(response.algorithm ?? '');
    if (!SUPPORTED_ALGORITHMS.has(algorithm)) {
      throw new InvalidArgumentError(`${this.keyVersionName} has algorithm ${algorithm || 'unknown'}; GcpKmsRsaKeyring needs RSA_DECRYPT_OAEP_3072_SHA256, RSA_DECRYPT_OAEP_4096_SHA256 or RSA_DECRYPT_OAEP_2048_SHA256`);
    }
    return pem;
  }

  /**
   * The public key as SPKI PEM, e.g. to hand to browsers together with {@link GcpKmsRsaKeyring.keyVersionName}.
   * @returns `-----BEGIN PUBLIC KEY-----` PEM.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when `GetPublicKey` fails or its checksum does not match.
   */
  async exportPublicKey(): Promise<string> {
    const { key, pem } = await this.#loadPublicKey();
    if (pem !== undefined) return pem;
    const der = new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', key));
    let bin = '';
    for (const b of der) bin += String.fromCharCode(b);
    return `-----BEGIN PUBLIC KEY-----\n${(btoa(bin).match(/.{1,64}/g) ?? []).join('\n')}\n-----END PUBLIC KEY-----\n`;
  }

  /**
   * Wrap the data key locally with RSA-OAEP-256 under the version's public key (fetched once).
   * @param request - The data key, if any, and the encryption context.
   * @returns The data key (the caller owns it) and one `gcp-kms-rsa` wrapped key.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when `GetPublicKey` fails or fails its integrity checks.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key is not an RSA-OAEP-256 key of a supported size.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    // The public key is fetched once for every caller, under its own deadline; a caller's signal only ends that caller's wait.
    const shared = this.#loadPublicKey();
    const { key } = await this.#client.run({ provider: GCP_KMS_RSA_PROVIDER, keyId: this.keyVersionName, operation: 'GetPublicKey', signal: request.signal }, () => shared);
    return wrapWithRsaOaepPublicKey(key, request, GCP_KMS_RSA_PROVIDER, this.keyVersionName);
  }

  /**
   * Unwrap the first `gcp-kms-rsa` wrapped key of the configured CryptoKey with `AsymmetricDecrypt`.
   * @param request - The group's wrapped keys and the encryption context.
   * @returns The 32-byte data key; the caller owns it.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no wrapped key is for this CryptoKey, or every call failed; each reason's `cause` is the `ProviderError`.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('request must be an object');
    const reasons: KeyUnavailableReason[] = [];
    const deadline = Date.now() + this.#client.deadlineMs;
    for (const wrapped of Array.isArray(request.wrapped) ? request.wrapped : []) {
      if (wrapped?.provider !== GCP_KMS_RSA_PROVIDER) continue;
      /* Precondition: strict keyring: only versions of the configured CryptoKey are ever called. */
      if (typeof wrapped.keyId !== 'string' || !isCryptoKeyVersionName(wrapped.keyId) || cryptoKeyOf(wrapped.keyId) !== this.cryptoKeyName) {
        reasons.push({ provider: GCP_KMS_RSA_PROVIDER, message: `not a version of the configured key ${this.cryptoKeyName}` });
        continue;
      }
      if (!(wrapped.ciphertext instanceof Uint8Array) || wrapped.ciphertext.length === 0) {
        reasons.push({ provider: GCP_KMS_RSA_PROVIDER, keyId: wrapped.keyId, message: 'the wrapped key has no ciphertext' });
        continue;
      }
      try {
        return await this.#client.run(
          { provider: GCP_KMS_RSA_PROVIDER, keyId: wrapped.keyId, operation: 'AsymmetricDecrypt', signal: request.signal, deadline, discard: (late: Uint8Array) => late.fill(0) },
          (signal) => withIntegrityRetries(this.#client.maxAttempts, () => this.#asymmetricDecrypt(wrapped.keyId, wrapped.ciphertext, signal), signal),
        );
      } catch (err) {
        const providerError = toProviderError(err, GCP_KMS_RSA_PROVIDER, wrapped.keyId, 'AsymmetricDecrypt');
        if (providerError.kind === 'aborted') throw providerError;
        reasons.push({ provider: GCP_KMS_RSA_PROVIDER, keyId: wrapped.keyId, message: providerError.message, cause: providerError });
      }
    }
    if (reasons.length === 0) reasons.push({ provider: GCP_KMS_RSA_PROVIDER, keyId: this.cryptoKeyName, message: 'no data key in the document is wrapped under this Cloud KMS key' });
    throw new KeyUnavailableError('Cloud KMS could not unwrap the data key', reasons);
  }

  async #asymmetricDecrypt(keyId: string, ciphertext: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const op = 'AsymmetricDecrypt';
    let response;
    try {
      await this.#client.ready();
      [response] = await cancelOnAbort(this.#client.client.asymmetricDecrypt({ name: keyId, ciphertext, ciphertextCrc32c: { value: crc32c(ciphertext) } }, this.#client.callOptions()), signal);
    } catch (err) {
      throw toProviderError(err, GCP_KMS_RSA_PROVIDER, keyId, op);
    }
    const plaintext = response.plaintext instanceof Uint8Array ? response.plaintext : undefined;
    if (response.verifiedCiphertextCrc32c !== true) {
      plaintext?.fill(0);
      throw integrityError(GCP_KMS_RSA_PROVIDER, keyId, op, 'the service did not verify ciphertext_crc32c');
    }
    return verifiedDataKey(GCP_KMS_RSA_PROVIDER, keyId, op, plaintext, checksumValue(response.plaintextCrc32c), crc32c);
  }

  /**
   * Close the client if the keyring built it; a client you passed in is left open.
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
