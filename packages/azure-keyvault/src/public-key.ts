/**
 * Client-side mode without the Azure SDK: wrap data keys locally with a Key Vault RSA key's public
 * half (RSA-OAEP-256 through WebCrypto), so a browser needs no Azure credentials; unwrap later in
 * Key Vault with {@link AzureKeyVaultKeyring}.
 *
 * Import from `@fieldseal/azure-keyvault/public-key` to keep `@azure/*` out of a browser bundle.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError, wrapWithRsaOaepPublicKey } from '@fieldseal/core';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult } from '@fieldseal/core';
import { fromBase64url } from './bytes.js';
import { AZURE_KEYVAULT_PROVIDER_ID, formatAzureKeyId, parseAzureKeyId } from './key-id.js';

/** The public half of a Key Vault RSA key as a JSON Web Key (base64url members), e.g. from {@link fetchAzurePublicKey}. */
export interface AzurePublicKeyJwk {
  /** `RSA` or `RSA-HSM` (Key Vault's names for RSA keys). */
  readonly kty: string;
  /** Modulus, base64url. */
  readonly n: string;
  /** Public exponent, base64url. */
  readonly e: string;
  /** The versioned key id, `https://{vault}/keys/{name}/{version}`. */
  readonly kid?: string;
}

/** Options of {@link AzureKeyVaultPublicKeyKeyring.create}. */
export interface AzureKeyVaultPublicKeyKeyringOptions {
  /** The RSA public key: a JWK (as Key Vault returns it) or an SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKey: AzurePublicKeyJwk | string;
  /**
   * The versioned key id the public key belongs to. Required for a PEM or a JWK without `kid`; when
   * the JWK has a `kid` too, both must agree.
   */
  readonly keyId?: string;
}

/** Smallest RSA modulus accepted (Key Vault's own minimum). */
const MIN_MODULUS_BITS = 2048;
const RSA_OAEP_256 = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;

/** WebCrypto, present in browsers and in Node >= 19 as `globalThis.crypto`. */
function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidArgumentError('WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

/**
 * Import an RSA public key for RSA-OAEP-256 (SHA-256, MGF1-SHA-256) encryption.
 * @internal
 */
export async function importRsaOaepPublicKey(publicKey: AzurePublicKeyJwk | string): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    if (typeof publicKey === 'string') {
      const m = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/.exec(publicKey.trim());
      if (m === null) throw new InvalidArgumentError('publicKey PEM must be an SPKI "-----BEGIN PUBLIC KEY-----" block (convert PKCS#1 with `openssl rsa -pubin -RSAPublicKey_in`)');
      const bin = atob(m[1]!.replace(/\s+/g, ''));
      const der = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
      key = await subtle().importKey('spki', der, RSA_OAEP_256, false, ['encrypt']);
    } else {
      if (publicKey === null || typeof publicKey !== 'object') throw new InvalidArgumentError('publicKey must be a JWK object or a PEM string');
      if (publicKey.kty !== 'RSA' && publicKey.kty !== 'RSA-HSM') throw new InvalidArgumentError('publicKey must be an RSA key (kty RSA or RSA-HSM)');
      if (typeof publicKey.n !== 'string' || fromBase64url(publicKey.n) === undefined || typeof publicKey.e !== 'string' || fromBase64url(publicKey.e) === undefined) {
        throw new InvalidArgumentError('publicKey.n and publicKey.e must be base64url strings');
      }
      if ('d' in publicKey || 'p' in publicKey) throw new InvalidArgumentError('publicKey must not contain private key members');
      key = await subtle().importKey('jwk', { kty: 'RSA', n: publicKey.n, e: publicKey.e, ext: true }, RSA_OAEP_256, false, ['encrypt']);
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError('publicKey is not a valid RSA public key', { cause: err });
  }
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (bits < MIN_MODULUS_BITS) throw new InvalidArgumentError(`publicKey must have at least ${MIN_MODULUS_BITS} bits (has ${bits})`);
  return key;
}

/**
 * Resolve and check the versioned key id for a public key.
 * @internal
 */
export function publicKeyId(publicKey: AzurePublicKeyJwk | string, keyId: string | undefined): string {
  const fromJwk = typeof publicKey === 'object' && publicKey !== null ? publicKey.kid : undefined;
  const chosen = keyId ?? fromJwk;
  if (chosen === undefined) throw new InvalidArgumentError('keyId is required: the versioned key id (https://<vault>/keys/<name>/<version>) the public key belongs to');
  const parsed = parseAzureKeyId(chosen);
  if (parsed.version === undefined) throw new InvalidArgumentError('keyId must include the key version, so that unwrap uses the exact key that wrapped');
  if (fromJwk !== undefined && keyId !== undefined) {
    const other = parseAzureKeyId(fromJwk, 'publicKey.kid');
    if (formatAzureKeyId(other, other.version ?? '') !== formatAzureKeyId(parsed, parsed.version)) throw new InvalidArgumentError('keyId and publicKey.kid name different keys');
  }
  return formatAzureKeyId(parsed, parsed.version);
}

/**
 * A keyring that only wraps, locally, with the public half of an Azure Key Vault RSA key. It holds
 * no credentials and cannot unwrap: documents it seals are opened by an {@link AzureKeyVaultKeyring}
 * for the same key, which unwraps in Key Vault (`unwrapkey`, `RSA-OAEP-256`).
 *
 * Wrapped keys it writes: provider `azure-keyvault`, keyId the versioned kid, ciphertext the
 * RSA-OAEP-256 ciphertext of the data key, byte for byte what Key Vault's `wrapkey` would return.
 *
 * **No authenticity** (the same holds for every Azure RSA key, whatever `wrapMode`: `unwrapkey` cannot tell who wrapped). Anyone holding the public key (and it is public) can seal a document with any
 * values and any context, required row ids included, that passes every check on the decrypting side.
 * A document opened with the private key proves only "someone sent this". Re-seal it on receipt
 * under a key only your server can wrap with (a symmetric KMS key, Vault transit, `LocalKeyring`)
 * and store only that copy: see `examples/browser-form` and docs/SECURITY.md. Do not use a
 * public-key keyring for beacon root keys without pinning their key check (docs/BEACONS.md).
 *
 * @example
 * ```ts
 * import { encrypt } from '@fieldseal/core';
 * import { AzureKeyVaultPublicKeyKeyring } from '@fieldseal/azure-keyvault/public-key';
 *
 * // publicJwk came from your server (fetchAzurePublicKey), with its versioned kid.
 * const keyring = await AzureKeyVaultPublicKeyKeyring.create({ publicKey: publicJwk });
 * const sealed = await encrypt(form, { keyring, paths: ['$.ssn'] });
 * ```
 */
export class AzureKeyVaultPublicKeyKeyring implements Keyring {
  /** The versioned key id written into wrapped keys. */
  readonly keyId: string;
  readonly #key: CryptoKey;

  private constructor(keyId: string, key: CryptoKey) {
    this.keyId = keyId;
    this.#key = key;
    Object.freeze(this);
  }

  /**
   * Import the public key and build the keyring.
   * @param options - The public key (JWK or SPKI PEM) and, unless the JWK carries it, the versioned key id.
   * @returns The keyring.
   * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` for a missing or versionless
   * key id, a key that is not RSA, private members in the JWK, or a modulus under 2048 bits.
   */
  static async create(options: AzureKeyVaultPublicKeyKeyringOptions): Promise<AzureKeyVaultPublicKeyKeyring> {
    /* Precondition: options name a public key. */
    if (options === null || typeof options !== 'object' || options.publicKey === undefined) throw new InvalidArgumentError('options.publicKey is required');
    const keyId = publicKeyId(options.publicKey, options.keyId);
    return new AzureKeyVaultPublicKeyKeyring(keyId, await importRsaOaepPublicKey(options.publicKey));
  }

  /**
   * Wrap the data key (a fresh random one unless given) with RSA-OAEP-256 under the public key.
   * @param request - The optional data key and the encryption context (Key Vault has no AAD; the
   * context is bound by fieldseal's header MAC and field AADs instead).
   * @returns The data key (a copy the caller owns) and one wrapped key.
   * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` when `dataKey` is not 32 bytes.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    return wrapWithRsaOaepPublicKey(this.#key, request, AZURE_KEYVAULT_PROVIDER_ID, this.keyId);
  }

  /**
   * Always fails: a public key cannot unwrap.
   * @param request - The wrapped keys of one key group.
   * @throws `KeyUnavailableError` `ERR_FIELDSEAL_KEY_UNAVAILABLE`, one reason per Azure wrapped key.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const reasons = request.wrapped
      .filter((w) => w.provider === AZURE_KEYVAULT_PROVIDER_ID)
      .map((w) => ({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: w.keyId, message: 'a public-key-only keyring cannot unwrap; use AzureKeyVaultKeyring' }));
    throw new KeyUnavailableError('no data key could be unwrapped', reasons.length ? reasons : [{ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId: this.keyId, message: 'no wrapped key for azure-keyvault, and a public-key-only keyring cannot unwrap' }]);
  }
}
