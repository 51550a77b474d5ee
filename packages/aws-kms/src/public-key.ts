/**
 * Seal with the public half of an AWS KMS RSA key, with no AWS SDK and no AWS credentials: for
 * browsers and other untrusted clients. Importable from `@fieldseal/aws-kms/public-key`, which loads
 * nothing from `@aws-sdk/*`; the server opens the documents with {@link AwsKmsRsaKeyring}.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError } from '@fieldseal/core/errors';
import { importRsaOaepPublicKey, wrapWithRsaOaepPublicKey, type Keyring, type UnwrapRequest, type WrapRequest, type WrapResult } from '@fieldseal/core';
import { isKeyArn } from './arn.js';

/** Provider id of data keys wrapped under an AWS KMS RSA key (`RSAES_OAEP_SHA_256`). */
export const AWS_KMS_RSA_PROVIDER = 'aws-kms-rsa';

/** The public key: SPKI PEM (`-----BEGIN PUBLIC KEY-----`), SPKI DER bytes (what KMS `GetPublicKey` returns), or a WebCrypto RSA-OAEP/SHA-256 `CryptoKey`. */
export type AwsKmsPublicKeyInput = string | Uint8Array | CryptoKey;

/** Options of {@link AwsKmsPublicKeyKeyring}. */
export interface AwsKmsPublicKeyKeyringOptions {
  /** The key ARN of the KMS RSA key (`arn:aws:kms:<region>:<account>:key/<id>`); written into each document. */
  readonly keyArn: string;
  /** Its public key. */
  readonly publicKey: AwsKmsPublicKeyInput;
}

/* KMS offers RSA_2048, RSA_3072 and RSA_4096 for ENCRYPT_DECRYPT keys; anything else is not a KMS key. */
const KMS_RSA_SIZES: ReadonlySet<number> = new Set([2048, 3072, 4096]);

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidArgumentError('AwsKmsPublicKeyKeyring needs WebCrypto (globalThis.crypto.subtle); browsers offer it only in secure contexts (https or localhost)');
  return s;
}

/**
 * Import a KMS RSA public key for RSA-OAEP with SHA-256 (MGF1-SHA-256, no label): exactly what KMS
 * `Decrypt` with `RSAES_OAEP_SHA_256` reverses.
 *
 * @param input SPKI PEM, SPKI DER or a `CryptoKey`.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when it is not an RSA public key of 2048, 3072 or 4096 bits for RSA-OAEP/SHA-256.
 */
export async function importKmsRsaPublicKey(input: AwsKmsPublicKeyInput): Promise<CryptoKey> {
  return importRsaOaepPublicKey(input, KMS_RSA_SIZES, 'AWS KMS RSA keys');
}

/**
 * A keyring that wraps data keys with the public key of an AWS KMS RSA key (`RSAES_OAEP_SHA_256`)
 * and cannot unwrap. The browser half of the asymmetric mode: a page holding only the public key
 * seals a form's PII, no AWS credentials involved; a server with `kms:Decrypt` on the key opens it
 * with {@link AwsKmsRsaKeyring}.
 *
 * Wrapped keys: provider id `aws-kms-rsa`, key id = the key ARN given. The encryption context is
 * bound by fieldseal's header MAC and field AAD; RSA-OAEP in KMS has no context or label input, so
 * KMS itself does not check it in this mode.
 *
 * **No authenticity.** Anyone holding the public key (and it is public) can seal a document with any
 * values and any context, required row ids included, that passes every check on the decrypting side.
 * A document opened with the private key proves only "someone sent this". Re-seal it on receipt
 * under a key only your server can wrap with (a symmetric KMS key, Vault transit, `LocalKeyring`)
 * and store only that copy: see `examples/browser-form` and docs/SECURITY.md. Do not use a
 * public-key keyring for beacon root keys without pinning their key check (docs/BEACONS.md).
 *
 * Importable from `@fieldseal/aws-kms/public-key` (no AWS SDK) and from `@fieldseal/aws-kms`.
 *
 * @example
 * ```ts
 * import { encrypt } from '@fieldseal/core';
 * import { AwsKmsPublicKeyKeyring } from '@fieldseal/aws-kms/public-key';
 * // Both served by your backend, e.g. from `aws kms get-public-key` output.
 * const { keyArn, publicKeyPem } = await (await fetch('/fieldseal/kms-public-key.json')).json();
 * const keyring = new AwsKmsPublicKeyKeyring({ keyArn, publicKey: publicKeyPem });
 * const sealed = await encrypt(form, { keyring, paths: ['$.ssn'], context: { form: 'signup' } });
 * ```
 */
export class AwsKmsPublicKeyKeyring implements Keyring {
  /** The key ARN written into documents. */
  readonly keyArn: string;
  readonly #input: AwsKmsPublicKeyInput;
  #key: Promise<CryptoKey> | undefined;

  /**
   * @param options The key ARN and its public key.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the ARN is not a key ARN or the public key is missing.
   */
  constructor(options: AwsKmsPublicKeyKeyringOptions) {
    /* Precondition: the document must name the KMS key by its ARN, so the server can match it strictly. */
    if (options === null || typeof options !== 'object' || typeof options.keyArn !== 'string' || !isKeyArn(options.keyArn)) {
      throw new InvalidArgumentError('keyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
    }
    if (typeof options.publicKey !== 'string' && !(options.publicKey instanceof Uint8Array) && !(typeof CryptoKey !== 'undefined' && options.publicKey instanceof CryptoKey)) {
      throw new InvalidArgumentError('publicKey must be a PEM string, SPKI DER bytes or a CryptoKey');
    }
    this.keyArn = options.keyArn;
    this.#input = typeof options.publicKey === 'string' || options.publicKey instanceof Uint8Array ? options.publicKey.slice() : options.publicKey;
  }

  #publicKey(): Promise<CryptoKey> {
    this.#key ??= importKmsRsaPublicKey(this.#input).catch((err: unknown) => {
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }

  /**
   * The public key as SPKI PEM, e.g. for a server to hand to browsers together with {@link AwsKmsPublicKeyKeyring.keyArn}.
   * @returns `-----BEGIN PUBLIC KEY-----` PEM.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the public key is unusable.
   */
  async exportPublicKey(): Promise<string> {
    const der = new Uint8Array(await subtle().exportKey('spki', await this.#publicKey()));
    let bin = '';
    for (const b of der) bin += String.fromCharCode(b);
    const lines = btoa(bin).match(/.{1,64}/g) ?? [];
    return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
  }

  /**
   * Wrap the data key (a fresh one unless a multi-keyring passes one in) with RSA-OAEP-256, locally.
   * @param request The data key, if any, and the encryption context.
   * @returns The data key (the caller owns it) and one `aws-kms-rsa` wrapped key.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the public key is unusable.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    return wrapWithRsaOaepPublicKey(await this.#publicKey(), request, AWS_KMS_RSA_PROVIDER, this.keyArn);
  }

  /**
   * Always refuses: only KMS holds the private key.
   * @param request Unused.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE`, always.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    void request;
    throw new KeyUnavailableError('a public-key-only keyring cannot unwrap', [
      { provider: AWS_KMS_RSA_PROVIDER, keyId: this.keyArn, message: 'only the public key is held here; unwrap with AwsKmsRsaKeyring (KMS Decrypt) on a server' },
    ]);
  }
}
