/**
 * {@link AwsKmsRsaKeyring}: wrap locally with an AWS KMS RSA public key, unwrap with KMS `Decrypt`.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError, ProviderError } from '@fieldseal/core/errors';
import type { KeyUnavailableReason } from '@fieldseal/core/errors';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';
import { identifierKind, isKeyArn, parseKmsArn, regionOf } from './arn.js';
import { ClientPool, validateClientOptions } from './client.js';
import type { AwsKmsClientOptions } from './client.js';
import { toProviderError } from './errors.js';
import { AWS_KMS_RSA_PROVIDER, AwsKmsPublicKeyKeyring } from './public-key.js';
import type { AwsKmsPublicKeyInput } from './public-key.js';

const DATA_KEY_BYTES = 32;
const ALGORITHM = 'RSAES_OAEP_SHA_256';
/* RSA-OAEP ciphertexts are as long as the modulus: 256, 384 or 512 bytes for KMS keys. */
const RSA_CIPHERTEXT_BYTES = new Set([256, 384, 512]);

/** Options of {@link AwsKmsRsaKeyring}. */
export interface AwsKmsRsaKeyringOptions extends AwsKmsClientOptions {
  /**
   * The KMS RSA key (`RSA_2048`/`RSA_3072`/`RSA_4096`, usage ENCRYPT_DECRYPT): a key ARN
   * (recommended), or an alias or key id when the public key is fetched from KMS.
   */
  readonly keyId: string;
  /**
   * The key's public key (SPKI PEM or DER). When given, wrapping never calls KMS and `keyId` must
   * be the key ARN. Default: fetched once with `GetPublicKey` and cached.
   */
  readonly publicKey?: AwsKmsPublicKeyInput;
  /** Grant tokens sent with every call. */
  readonly grantTokens?: readonly string[];
}

/**
 * The asymmetric (client-side) mode over an AWS KMS RSA key with `RSAES_OAEP_SHA_256`: wrap is local
 * (RSA-OAEP-256 with WebCrypto, against the public key from `GetPublicKey`, cached, or supplied);
 * unwrap is KMS `Decrypt` naming the configured key. Documents sealed by
 * {@link AwsKmsPublicKeyKeyring} in a browser, with only the public key and no AWS credentials, open
 * here.
 *
 * Wrapped keys: provider id `aws-kms-rsa`, key id = the key ARN. Unwrap is strict: only wrapped keys
 * recorded under this key are tried. KMS RSA decryption takes no encryption context, so here the
 * context is bound by fieldseal's header MAC and field AAD only (a wrong context still fails
 * `decrypt`, after the KMS call).
 *
 * **No authenticity**: whoever holds the public key can seal documents this keyring opens as
 * genuine, under any context. Treat what it opens as untrusted input, re-seal it under a symmetric
 * key on receipt and store only that (docs/SECURITY.md, `examples/browser-form`).
 *
 * Importable from `@fieldseal/aws-kms`.
 *
 * @example
 * ```ts
 * import { decrypt } from '@fieldseal/core';
 * import { AwsKmsRsaKeyring } from '@fieldseal/aws-kms';
 * const keyring = new AwsKmsRsaKeyring({ keyId: process.env.FIELDSEAL_KMS_RSA_KEY_ARN! });
 * const { keyArn, publicKeyPem } = await keyring.exportPublicKey(); // serve these to the browser
 * const opened = await decrypt(sealedByBrowser, { keyring, context: { form: 'signup' } });
 * ```
 */
export class AwsKmsRsaKeyring implements Keyring {
  /** The configured key identifier. */
  readonly keyId: string;
  /** Total deadline of one `wrap`/`unwrap`, ms (SDK retries included). */
  readonly deadlineMs: number;
  readonly #publicKeyInput: AwsKmsPublicKeyInput | undefined;
  readonly #grantTokens: string[] | undefined;
  readonly #pool: ClientPool;
  readonly #state: { publicKeyring?: Promise<AwsKmsPublicKeyKeyring>; keyArn?: string } = {};

  /**
   * @param options The key, optionally its public key, and client options.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed key id, or a public key with a non-ARN key id.
   */
  constructor(options: AwsKmsRsaKeyringOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('AwsKmsRsaKeyring options must be an object');
    if (typeof options.keyId !== 'string' || identifierKind(options.keyId) === undefined) throw new InvalidArgumentError('keyId must be a KMS key ARN, alias or key id');
    /* Precondition: a supplied public key needs the key ARN, because documents record the ARN and nothing asks KMS for it. */
    if (options.publicKey !== undefined && !isKeyArn(options.keyId)) throw new InvalidArgumentError('with publicKey, keyId must be the key ARN');
    if (options.grantTokens !== undefined && (!Array.isArray(options.grantTokens) || options.grantTokens.some((t) => typeof t !== 'string'))) {
      throw new InvalidArgumentError('grantTokens must be an array of strings');
    }
    validateClientOptions(options);
    this.keyId = options.keyId;
    this.#publicKeyInput = options.publicKey;
    this.#grantTokens = options.grantTokens ? [...options.grantTokens] : undefined;
    this.#pool = new ClientPool({ ...options }, options.region ?? regionOf(options.keyId));
    this.deadlineMs = this.#pool.deadlineMs;
    if (isKeyArn(options.keyId)) this.#state.keyArn = options.keyId;
    if (options.publicKey !== undefined) this.#state.publicKeyring = Promise.resolve(new AwsKmsPublicKeyKeyring({ keyArn: options.keyId, publicKey: options.publicKey }));
    Object.freeze(this);
  }

  #grants(): { GrantTokens?: string[] } {
    return this.#grantTokens ? { GrantTokens: [...this.#grantTokens] } : {};
  }

  #publicKeyring(): Promise<AwsKmsPublicKeyKeyring> {
    this.#state.publicKeyring ??= this.#fetchPublicKey().catch((err: unknown) => {
      delete this.#state.publicKeyring; // a transient failure must not stick
      throw err;
    });
    return this.#state.publicKeyring;
  }

  async #fetchPublicKey(): Promise<AwsKmsPublicKeyKeyring> {
    const out = await this.#pool.call(
      regionOf(this.keyId),
      { provider: AWS_KMS_RSA_PROVIDER, operation: 'GetPublicKey', keyId: this.keyId, signal: undefined, deadline: this.#pool.deadline() },
      (ops, options) => ops.getPublicKey({ KeyId: this.keyId, ...this.#grants() }, options),
    );
    const bad = (message: string) => new ProviderError({ provider: AWS_KMS_RSA_PROVIDER, keyId: this.keyId, kind: 'invalid-request', retryable: false, message });
    if (out.KeyUsage !== 'ENCRYPT_DECRYPT') throw bad(`the key's usage is ${String(out.KeyUsage)}, not ENCRYPT_DECRYPT`);
    if (!out.EncryptionAlgorithms?.includes(ALGORITHM)) throw bad(`the key does not offer ${ALGORITHM}`);
    if (typeof out.KeyId !== 'string' || !isKeyArn(out.KeyId) || (isKeyArn(this.keyId) && out.KeyId !== this.keyId)) throw bad('KMS GetPublicKey reported an unexpected key id');
    if (!(out.PublicKey instanceof Uint8Array)) throw bad('KMS GetPublicKey returned no public key');
    const keyring = new AwsKmsPublicKeyKeyring({ keyArn: out.KeyId, publicKey: out.PublicKey });
    await keyring.exportPublicKey(); // imports and checks it now, not at the first wrap
    this.#state.keyArn = out.KeyId;
    return keyring;
  }

  /**
   * The key ARN and public key to hand to clients that seal with {@link AwsKmsPublicKeyKeyring}.
   * @returns `{ keyArn, publicKeyPem }`.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when `GetPublicKey` fails or the key is not an RSA encryption key.
   */
  async exportPublicKey(): Promise<{ keyArn: string; publicKeyPem: string }> {
    const pk = await this.#publicKeyring();
    return { keyArn: pk.keyArn, publicKeyPem: await pk.exportPublicKey() };
  }

  /**
   * Wrap the data key locally with the public key (fetched once from KMS unless supplied).
   * @param request The data key, if any, and the context.
   * @returns The data key (the caller owns it) and one `aws-kms-rsa` wrapped key.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when the public key cannot be fetched.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    // The public key is fetched once for every caller, under its own deadline; a caller's signal only ends that caller's wait.
    const shared = this.#publicKeyring();
    const keyring = await this.#pool.call(regionOf(this.keyId), { provider: AWS_KMS_RSA_PROVIDER, operation: 'GetPublicKey', keyId: this.keyId, signal: request.signal, deadline: this.#pool.deadline() }, () => shared);
    return keyring.wrap(request);
  }

  /**
   * Unwrap with KMS `Decrypt` (`RSAES_OAEP_SHA_256`), naming the configured key.
   * @param request The group's wrapped keys and the context.
   * @returns The 32-byte data key; the caller owns and zeroes it.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` with one reason per wrapped key tried (each `cause` a {@link ProviderError}).
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const known = this.#state.keyArn;
    const candidates = (Array.isArray(request.wrapped) ? request.wrapped : []).filter(
      (w) =>
        w?.provider === AWS_KMS_RSA_PROVIDER &&
        typeof w.keyId === 'string' &&
        // Strict: with the ARN known only its wrapped keys; for an alias, KMS checks (the wrong key fails to decrypt).
        (known !== undefined ? w.keyId === known : parseKmsArn(w.keyId)?.resourceType === 'key') &&
        w.ciphertext instanceof Uint8Array &&
        RSA_CIPHERTEXT_BYTES.has(w.ciphertext.length),
    );
    const reasons: KeyUnavailableReason[] = [];
    if (candidates.length === 0) reasons.push({ provider: AWS_KMS_RSA_PROVIDER, keyId: known ?? this.keyId, message: 'the document has no key wrapped under this KMS RSA key' });
    const signal = request.signal;
    const deadline = this.#pool.deadline();
    for (const w of candidates) {
      let out;
      try {
        out = await this.#pool.call(
          regionOf(this.keyId) ?? regionOf(w.keyId),
          { provider: AWS_KMS_RSA_PROVIDER, operation: 'Decrypt', keyId: w.keyId, signal, deadline },
          (ops, options) => ops.decrypt({ CiphertextBlob: w.ciphertext.slice(), KeyId: this.keyId, EncryptionAlgorithm: ALGORITHM, ...this.#grants() }, options),
          (late) => late.Plaintext?.fill?.(0),
        );
      } catch (err) {
        const pe = toProviderError(err, AWS_KMS_RSA_PROVIDER, 'Decrypt', w.keyId);
        if (pe.kind === 'aborted') throw pe;
        reasons.push({ provider: AWS_KMS_RSA_PROVIDER, keyId: w.keyId, message: pe.message, cause: pe });
        continue;
      }
      const plaintext = out.Plaintext;
      /* Postcondition: the key the document names did it, and the result is a 32-byte key. */
      if (out.KeyId !== w.keyId || !(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES) {
        plaintext?.fill?.(0);
        reasons.push({ provider: AWS_KMS_RSA_PROVIDER, keyId: w.keyId, message: 'KMS Decrypt answered with another key or a data key of the wrong size' });
        continue;
      }
      this.#state.keyArn ??= w.keyId;
      const dataKey = plaintext.slice();
      plaintext.fill(0);
      return dataKey;
    }
    throw new KeyUnavailableError('AWS KMS could not unwrap the data key', reasons);
  }

  /** Close the `KMSClient`s this keyring built (a client passed in is left alone). Idempotent. */
  destroy(): void {
    this.#pool.destroy();
  }
}
