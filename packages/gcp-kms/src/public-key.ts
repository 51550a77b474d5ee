/**
 * Seal with the public half of a Cloud KMS `ASYMMETRIC_DECRYPT` key, with no Google SDK and no
 * Google credentials: for browsers and other untrusted clients. Importable from
 * `@fieldseal/gcp-kms/public-key`, which loads nothing from `@google-cloud/*` or google-gax; the
 * server opens the documents with {@link GcpKmsRsaKeyring} (Cloud KMS `AsymmetricDecrypt`).
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError } from '@fieldseal/core/errors';
import { importRsaOaepPublicKey, wrapWithRsaOaepPublicKey, type Keyring, type UnwrapRequest, type WrapRequest, type WrapResult } from '@fieldseal/core';
import { isCryptoKeyVersionName } from './names.js';

/** Provider id of data keys wrapped locally under a Cloud KMS RSA decryption key and unwrapped with `AsymmetricDecrypt`. */
export const GCP_KMS_RSA_PROVIDER = 'gcp-kms-rsa';

// The RSA_DECRYPT_OAEP_*_SHA256 algorithms Cloud KMS offers; SHA-1 and SHA-512 variants use other OAEP hashes.
const RSA_SIZES: ReadonlySet<number> = new Set([2048, 3072, 4096]);

/** A Cloud KMS RSA public key: SPKI PEM (what `GetPublicKey` returns), SPKI DER bytes, or a WebCrypto RSA-OAEP/SHA-256 `CryptoKey`. */
export type GcpKmsPublicKeyInput = string | Uint8Array | CryptoKey;

/** Options of {@link GcpKmsPublicKeyKeyring}. */
export interface GcpKmsPublicKeyKeyringOptions {
  /**
   * The CryptoKeyVersion (`projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`) of an
   * `RSA_DECRYPT_OAEP_{2048,3072,4096}_SHA256` key; written into each document.
   */
  readonly keyVersionName: string;
  /** Its public key. */
  readonly publicKey: GcpKmsPublicKeyInput;
}

/**
 * Import a Cloud KMS RSA public key for RSA-OAEP with SHA-256 (MGF1-SHA-256, empty label): what
 * `AsymmetricDecrypt` reverses for the `RSA_DECRYPT_OAEP_*_SHA256` algorithms.
 *
 * @param input - SPKI PEM, SPKI DER or a `CryptoKey`.
 * @returns A WebCrypto public key with the `encrypt` usage.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when it is not an RSA public key of 2048, 3072 or 4096 bits for RSA-OAEP/SHA-256.
 * @example
 * ```ts
 * import { importGcpKmsPublicKey } from '@fieldseal/gcp-kms/public-key';
 * const key = await importGcpKmsPublicKey(pemFromGetPublicKey);
 * ```
 */
export async function importGcpKmsPublicKey(input: GcpKmsPublicKeyInput): Promise<CryptoKey> {
  return importRsaOaepPublicKey(input, RSA_SIZES, 'Cloud KMS RSA_DECRYPT_OAEP keys');
}

/**
 * A keyring that wraps data keys with the public key of a Cloud KMS RSA decryption key
 * (`RSA_DECRYPT_OAEP_3072_SHA256`, `…_4096_SHA256` or `…_2048_SHA256`) and cannot unwrap: the
 * browser half of the asymmetric mode. A page holding only the public key seals a form's PII; a
 * server allowed `cloudkms.cryptoKeyVersions.useToDecrypt` opens it with {@link GcpKmsRsaKeyring}.
 *
 * Wrapped keys: provider id `gcp-kms-rsa`, key id = the CryptoKeyVersion name. The encryption
 * context is bound by fieldseal's header MAC and field AAD; `AsymmetricDecrypt` takes no AAD or
 * OAEP label, so Cloud KMS itself does not check it in this mode.
 *
 * **No authenticity.** Anyone holding the public key (and it is public) can seal a document with any
 * values and any context, required row ids included, that passes every check on the decrypting side.
 * A document opened with the private key proves only "someone sent this". Re-seal it on receipt
 * under a key only your server can wrap with (a symmetric KMS key, Vault transit, `LocalKeyring`)
 * and store only that copy: see `examples/browser-form` and docs/SECURITY.md. Do not use a
 * public-key keyring for beacon root keys without pinning their key check (docs/BEACONS.md).
 *
 * Importable from `@fieldseal/gcp-kms/public-key` (no Google SDK) and from `@fieldseal/gcp-kms`.
 *
 * @example
 * ```ts
 * import { encrypt } from '@fieldseal/core';
 * import { GcpKmsPublicKeyKeyring } from '@fieldseal/gcp-kms/public-key';
 * // Both served by your backend, e.g. from `gcloud kms keys versions get-public-key`.
 * const { keyVersionName, publicKeyPem } = await (await fetch('/fieldseal/kms-public-key.json')).json();
 * const keyring = new GcpKmsPublicKeyKeyring({ keyVersionName, publicKey: publicKeyPem });
 * const sealed = await encrypt(form, { keyring, paths: ['$.ssn'], context: { form: 'signup' } });
 * ```
 */
export class GcpKmsPublicKeyKeyring implements Keyring {
  /** The CryptoKeyVersion written into documents. */
  readonly keyVersionName: string;
  readonly #input: GcpKmsPublicKeyInput;
  #key: Promise<CryptoKey> | undefined;

  /**
   * @param options - The CryptoKeyVersion name and its public key.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the name is not a CryptoKeyVersion name or the public key is missing.
   */
  constructor(options: GcpKmsPublicKeyKeyringOptions) {
    /* Precondition: documents name the exact version, so the server can match it strictly and call AsymmetricDecrypt on it. */
    if (options === null || typeof options !== 'object' || !isCryptoKeyVersionName(options.keyVersionName)) {
      throw new InvalidArgumentError('keyVersionName must be a CryptoKeyVersion name (projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N)');
    }
    const input = options.publicKey;
    if (typeof input !== 'string' && !(input instanceof Uint8Array) && !(typeof CryptoKey !== 'undefined' && input instanceof CryptoKey)) {
      throw new InvalidArgumentError('publicKey must be a PEM string, SPKI DER bytes or a CryptoKey');
    }
    this.keyVersionName = options.keyVersionName;
    this.#input = input instanceof Uint8Array ? input.slice() : input;
    Object.freeze(this);
  }

  #publicKey(): Promise<CryptoKey> {
    this.#key ??= importGcpKmsPublicKey(this.#input).catch((err: unknown) => {
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }

  /**
   * Wrap the data key (a fresh one unless a multi-keyring passes one in) with RSA-OAEP-256, locally.
   * @param request - The data key, if any, and the encryption context.
   * @returns The data key (the caller owns it) and one `gcp-kms-rsa` wrapped key.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the public key is unusable or `dataKey` is not 32 bytes.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    return wrapWithRsaOaepPublicKey(await this.#publicKey(), request, GCP_KMS_RSA_PROVIDER, this.keyVersionName);
  }

  /**
   * Always refuses: only Cloud KMS holds the private key.
   * @param request - Unused.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE`, always.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    void request;
    throw new KeyUnavailableError('a public-key-only keyring cannot unwrap', [
      { provider: GCP_KMS_RSA_PROVIDER, keyId: this.keyVersionName, message: 'only the public key is held here; unwrap with GcpKmsRsaKeyring (AsymmetricDecrypt) on a server' },
    ]);
  }
}
