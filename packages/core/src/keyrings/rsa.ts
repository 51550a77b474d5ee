/**
 * {@link RsaKeyring}: wrap data keys with an RSA-OAEP-256 public key, unwrap them with the private key.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError } from '../errors.js';
import type { KeyUnavailableReason } from '../errors.js';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';

/** Provider id written into every key this keyring wraps. */
const PROVIDER = 'rsa';
const DATA_KEY_BYTES = 32;
/* NIST SP 800-57 Part 1 Rev. 5, Table 2: 2048-bit RSA gives 112 bits of security, the floor still acceptable. */
const MIN_MODULUS_BITS = 2048;
/* Bigger moduli buy nothing over symmetric 256-bit keys and make every unwrap slower; a cap keeps a hostile key file from pinning the CPU. */
const MAX_MODULUS_BITS = 16384;
const MAX_KEY_ID_BYTES = 65_535;
const OAEP_SHA256: RsaHashedImportParams = { name: 'RSA-OAEP', hash: 'SHA-256' };

/** An RSA key as a PEM string, a JSON Web Key, or a WebCrypto `CryptoKey` (RSA-OAEP with SHA-256). */
export type RsaKeyInput = string | JsonWebKey | CryptoKey;

/** Options of {@link RsaKeyring.fromPublicKey}. */
export interface RsaPublicKeyringOptions {
  /**
   * The key id written into sealed documents. Defaults to the key's fingerprint
   * ({@link RsaKeyring.fingerprint}). The side that opens documents must use the same id.
   */
  readonly name?: string;
}

/** Options of {@link RsaKeyring.fromPrivateKey}. */
export interface RsaPrivateKeyringOptions extends RsaPublicKeyringOptions {
  /**
   * The matching public key. Optional for PEM and JWK private keys, from which it is derived; needed
   * for a non-extractable private `CryptoKey`.
   */
  readonly publicKey?: RsaKeyInput;
}

/** Options of {@link RsaKeyring.generate}. */
export interface RsaGenerateOptions extends RsaPublicKeyringOptions {
  /** Modulus length in bits, 2048 to 16384. Default 3072. */
  readonly modulusLength?: number;
  /** Whether {@link RsaKeyring.exportPrivateKey} may export the private key. Default `false`. */
  readonly extractable?: boolean;
}

/**
 * A keyring over one RSA key pair, RSA-OAEP with SHA-256 and MGF1-SHA-256 (`RSA-OAEP-256`).
 *
 * This is the browser story: the page holds only the public key, so it can seal a form's PII but
 * nothing in the browser can open it; the server holds the private key. (To keep the private key in
 * a KMS, the cloud packages offer public-key keyrings that record the KMS key instead, e.g.
 * `AwsKmsPublicKeyKeyring`.) Built from a public key alone, the keyring can `wrap` but never `unwrap`, and
 * says so with `ERR_FIELDSEAL_KEY_UNAVAILABLE`.
 *
 * Runs on WebCrypto (`globalThis.crypto.subtle`), so the same code works in Node 20+, browsers, Deno,
 * Bun and workers. Provider id `rsa`; the key id is the caller's `name` or the key's fingerprint, and
 * `unwrap` is strict: it only tries wrapped keys whose key id is its own.
 *
 * Security notes: no OAEP label is used, so the wrapping is the same RSA-OAEP-256 that KMS asymmetric
 * keys decrypt (AWS `RSAES_OAEP_SHA_256`, Azure `RSA-OAEP-256`, GCP `RSA_DECRYPT_OAEP_*_SHA256`); the
 * encryption context is bound by core's header MAC and field AAD instead. Keys below 2048 bits are refused
 * (3072 recommended).
 *
 * **No authenticity.** Anyone holding the public key (and it is public) can seal a document with any
 * values and any context, required row ids included, that passes every check on the decrypting side.
 * A document opened with the private key proves only "someone sent this". Re-seal it on receipt
 * under a key only your server can wrap with (a symmetric KMS key, Vault transit, `LocalKeyring`)
 * and store only that copy: see `examples/browser-form` and docs/SECURITY.md. Do not use a
 * public-key keyring for beacon root keys without pinning their key check (docs/BEACONS.md).
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { RsaKeyring, encrypt } from '@fieldseal/core';
 * // In the browser: the public key comes from your server (PEM or JWK).
 * const pem = await (await fetch('/fieldseal-public-key.pem')).text();
 * const keyring = await RsaKeyring.fromPublicKey(pem);
 * const sealed = await encrypt(form, { keyring, paths: ['$.ssn'], context: { form: 'signup' } });
 * // On the server: RsaKeyring.fromPrivateKey(privatePem) opens it with decrypt().
 * ```
 */
export class RsaKeyring implements Keyring {
  /** The key id written into (and required of) wrapped keys. */
  readonly keyId: string;
  /** Whether this keyring holds the private key and can unwrap. */
  readonly canUnwrap: boolean;
  /** The modulus length of the key in bits. */
  readonly modulusLength: number;
  readonly #publicKey: CryptoKey;
  readonly #privateKey: CryptoKey | undefined;

  private constructor(publicKey: CryptoKey, privateKey: CryptoKey | undefined, keyId: string, modulusLength: number) {
    this.#publicKey = publicKey;
    this.#privateKey = privateKey;
    this.keyId = keyId;
    this.canUnwrap = privateKey !== undefined;
    this.modulusLength = modulusLength;
    Object.freeze(this);
  }

  /**
   * A keyring that can only wrap (seal). Give it to code that must not be able to open anything.
   * It gives confidentiality only: whoever holds the public key can seal documents that the private
   * key opens as genuine, so re-seal them on receipt (see the class notes).
   *
   * @param publicKey SPKI PEM (`-----BEGIN PUBLIC KEY-----`), PKCS#1 PEM (`-----BEGIN RSA PUBLIC
   *   KEY-----`), a public JWK (`kty: "RSA"`, `n`, `e`; `alg`, if present, `RSA-OAEP-256`), or an
   *   RSA-OAEP/SHA-256 `CryptoKey` with the `encrypt` usage.
   * @param options Key id.
   * @returns The keyring.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key cannot be parsed, is not RSA, is for
   *   another algorithm or hash, or is shorter than 2048 bits.
   */
  static async fromPublicKey(publicKey: RsaKeyInput, options: RsaPublicKeyringOptions = {}): Promise<RsaKeyring> {
    const key = await importPublic(publicKey);
    return RsaKeyring.#build(key, undefined, options.name);
  }

  /**
   * A keyring that can wrap and unwrap (the server side).
   *
   * @param privateKey PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), PKCS#1 PEM (`-----BEGIN RSA PRIVATE
   *   KEY-----`), a private JWK, or an RSA-OAEP/SHA-256 `CryptoKey` with the `decrypt` usage. The
   *   imported key is not extractable.
   * @param options Key id; the public key when it cannot be derived (non-extractable `CryptoKey`).
   * @returns The keyring.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when a key cannot be parsed, is unsuitable, is shorter
   *   than 2048 bits, or the public key does not match the private key.
   */
  static async fromPrivateKey(privateKey: RsaKeyInput, options: RsaPrivateKeyringOptions = {}): Promise<RsaKeyring> {
    const { key, publicJwk } = await importPrivate(privateKey);
    let pub: CryptoKey;
    if (options.publicKey !== undefined) {
      pub = await importPublic(options.publicKey);
      if (publicJwk !== undefined) {
        const given = (await subtle().exportKey('jwk', pub)) as JsonWebKey;
        if (given.n !== publicJwk.n || given.e !== publicJwk.e) throw new InvalidArgumentError('RsaKeyring: publicKey does not match privateKey');
      } else if (!(await pairMatches(pub, key))) {
        throw new InvalidArgumentError('RsaKeyring: publicKey does not match privateKey');
      }
    } else if (publicJwk !== undefined) {
      pub = await importPublic(publicJwk);
    } else {
      throw new InvalidArgumentError('RsaKeyring: pass options.publicKey with a non-extractable private CryptoKey');
    }
    if (bitsOf(pub) !== bitsOf(key)) throw new InvalidArgumentError('RsaKeyring: publicKey does not match privateKey');
    return RsaKeyring.#build(pub, key, options.name);
  }

  /**
   * Generate a new key pair (3072 bits unless told otherwise) and return a keyring holding both keys.
   * Export the public key with {@link RsaKeyring.exportPublicKey} for the sealing side.
   *
   * @param options Modulus length, key id, whether the private key may be exported.
   * @returns The keyring.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` for a modulus length outside 2048..16384 or not a multiple of 8.
   */
  static async generate(options: RsaGenerateOptions = {}): Promise<RsaKeyring> {
    const modulusLength = options.modulusLength ?? 3072;
    /* Precondition: the modulus length is within the accepted range. */
    if (!Number.isSafeInteger(modulusLength) || modulusLength < MIN_MODULUS_BITS || modulusLength > MAX_MODULUS_BITS || modulusLength % 8 !== 0) {
      throw new InvalidArgumentError(`RsaKeyring: modulusLength must be a multiple of 8 from ${MIN_MODULUS_BITS} to ${MAX_MODULUS_BITS}`);
    }
    const pair = await subtle().generateKey(
      { ...OAEP_SHA256, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
      options.extractable === true,
      ['encrypt', 'decrypt'],
    );
    return RsaKeyring.#build(pair.publicKey, pair.privateKey, options.name);
  }

  /**
   * The fingerprint of an RSA public key: base64url (no padding) of SHA-256 over its DER
   * SubjectPublicKeyInfo. It is the default key id, and equals
   * `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | basenc --base64url`.
   *
   * @param publicKey A public key in any form {@link RsaKeyring.fromPublicKey} accepts.
   * @returns 43 base64url characters.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key is unsuitable.
   */
  static async fingerprint(publicKey: RsaKeyInput): Promise<string> {
    return fingerprintOf(await importPublic(publicKey));
  }

  static async #build(pub: CryptoKey, priv: CryptoKey | undefined, name: string | undefined): Promise<RsaKeyring> {
    let keyId: string;
    if (name !== undefined) {
      /* Precondition: a caller-supplied key id is a non-empty string that fits the header's key id field. */
      if (typeof name !== 'string' || name.length === 0 || new TextEncoder().encode(name).length > MAX_KEY_ID_BYTES) {
        throw new InvalidArgumentError('RsaKeyring: name must be a non-empty string of at most 65,535 UTF-8 bytes');
      }
      keyId = name;
    } else {
      keyId = await fingerprintOf(pub);
    }
    return new RsaKeyring(pub, priv, keyId, bitsOf(pub));
  }

  /**
   * Export the public key, to hand to the side that seals (a browser, another service).
   *
   * @param format `pem` (SPKI, `-----BEGIN PUBLIC KEY-----`, the default) or `jwk` (with
   *   `alg: "RSA-OAEP-256"`, `use: "enc"` and `kid` set to this keyring's key id).
   * @returns The public key.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` for an unknown format.
   */
  async exportPublicKey(format?: 'pem'): Promise<string>;
  async exportPublicKey(format: 'jwk'): Promise<JsonWebKey & { kid: string }>;
  async exportPublicKey(format: 'pem' | 'jwk' = 'pem'): Promise<string | (JsonWebKey & { kid: string })> {
    if (format === 'pem') return toPem('PUBLIC KEY', new Uint8Array(await subtle().exportKey('spki', this.#publicKey)));
    if (format === 'jwk') {
      const jwk = (await subtle().exportKey('jwk', this.#publicKey)) as JsonWebKey;
      return { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', use: 'enc', kid: this.keyId };
    }
    throw new InvalidArgumentError('RsaKeyring: format must be "pem" or "jwk"');
  }

  /**
   * Export the private key as PKCS#8 PEM. Only for keyrings made by {@link RsaKeyring.generate} with
   * `extractable: true`; store the result as you would any secret.
   *
   * @returns PKCS#8 PEM.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when there is no private key or it is not extractable.
   */
  async exportPrivateKey(): Promise<string> {
    if (this.#privateKey === undefined || !this.#privateKey.extractable) {
      throw new InvalidArgumentError('RsaKeyring: the private key is absent or not extractable');
    }
    const der = new Uint8Array(await subtle().exportKey('pkcs8', this.#privateKey));
    try {
      return toPem('PRIVATE KEY', der);
    } finally {
      der.fill(0);
    }
  }

  /**
   * Wrap the data key (or a fresh 32-byte key from the CSPRNG) under the public key.
   *
   * @param request The data key to wrap, if another keyring generated it; the encryption context
   *   (bound by core, not by this keyring).
   * @returns A copy of the data key, owned by the caller, and one wrapped key.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when the request is not an object or a supplied data key
   *   is not 32 bytes.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('RsaKeyring: wrap needs a request object');
    request.signal?.throwIfAborted();
    let dataKey: Uint8Array<ArrayBuffer>;
    if (request.dataKey !== undefined) {
      /* Precondition: a supplied data key is 32 bytes. */
      if (!(request.dataKey instanceof Uint8Array) || request.dataKey.length !== DATA_KEY_BYTES) {
        throw new InvalidArgumentError('RsaKeyring: dataKey must be a 32-byte Uint8Array');
      }
      dataKey = request.dataKey.slice();
    } else {
      dataKey = globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
    }
    try {
      const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'RSA-OAEP' }, this.#publicKey, dataKey));
      const wrapped: WrappedKey = { provider: PROVIDER, keyId: this.keyId, ciphertext };
      return { dataKey, wrapped: [wrapped] };
    } catch (err) {
      dataKey.fill(0);
      throw err;
    }
  }

  /**
   * Unwrap the first wrapped key with provider `rsa` and this keyring's key id that the private key
   * opens. Wrapped keys of other providers or other key ids are never tried.
   *
   * @param request The group's wrapped keys and the encryption context.
   * @returns The 32-byte data key, owned by the caller.
   * @throws `ERR_FIELDSEAL_KEY_UNAVAILABLE` when the keyring has no private key, no wrapped key
   *   carries its key id, or none of those decrypts to a 32-byte key (one reason per key tried);
   *   `ERR_FIELDSEAL_INVALID_ARGUMENT` when the request has no array of wrapped keys.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    if (this.#privateKey === undefined) {
      throw new KeyUnavailableError('RsaKeyring cannot unwrap', [
        { provider: PROVIDER, keyId: this.keyId, message: 'this keyring was built from a public key only; it can seal but not open' },
      ]);
    }
    if (request === null || typeof request !== 'object' || !Array.isArray(request.wrapped)) {
      throw new InvalidArgumentError('RsaKeyring: unwrap needs a request with an array of wrapped keys');
    }
    const reasons: KeyUnavailableReason[] = [];
    const expectedLength = this.modulusLength / 8;
    request.signal?.throwIfAborted();
    for (const wrapped of request.wrapped) {
      if (wrapped.provider !== PROVIDER || wrapped.keyId !== this.keyId) continue;
      // Each attempt is a private-key operation: stop when the caller gave up.
      request.signal?.throwIfAborted();
      if (!(wrapped.ciphertext instanceof Uint8Array) || wrapped.ciphertext.length !== expectedLength) {
        reasons.push({ provider: PROVIDER, keyId: this.keyId, message: `wrapped key is not ${expectedLength} bytes long` });
        continue;
      }
      let dataKey: Uint8Array;
      try {
        dataKey = new Uint8Array(await subtle().decrypt({ name: 'RSA-OAEP' }, this.#privateKey, wrapped.ciphertext.slice()));
      } catch (cause) {
        // OAEP decoding failures are all reported alike (no padding oracle in the message).
        reasons.push({ provider: PROVIDER, keyId: this.keyId, message: 'RSA-OAEP decryption failed', cause });
        continue;
      }
      if (dataKey.length !== DATA_KEY_BYTES) {
        dataKey.fill(0);
        reasons.push({ provider: PROVIDER, keyId: this.keyId, message: 'unwrapped key is not 32 bytes' });
        continue;
      }
      return dataKey;
    }
    if (reasons.length === 0) {
      reasons.push({ provider: PROVIDER, keyId: this.keyId, message: 'no wrapped key for this RSA key' });
    }
    throw new KeyUnavailableError('RsaKeyring could not unwrap the data key', reasons);
  }
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidArgumentError('RsaKeyring needs WebCrypto (globalThis.crypto.subtle); in browsers it requires a secure context (https or localhost)');
  return s;
}

/** A round trip through the pair: the only check possible when the private key cannot be exported. */
async function pairMatches(pub: CryptoKey, priv: CryptoKey): Promise<boolean> {
  const probe = globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
  try {
    const back = new Uint8Array(await subtle().decrypt({ name: 'RSA-OAEP' }, priv, await subtle().encrypt({ name: 'RSA-OAEP' }, pub, probe)));
    const same = back.length === probe.length && back.every((b, i) => b === probe[i]);
    back.fill(0);
    return same;
  } catch {
    return false;
  } finally {
    probe.fill(0);
  }
}

function bitsOf(key: CryptoKey): number {
  return (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
}

async function fingerprintOf(pub: CryptoKey): Promise<string> {
  let spki: Uint8Array<ArrayBuffer>;
  try {
    spki = new Uint8Array(await subtle().exportKey('spki', pub));
  } catch (cause) {
    throw new InvalidArgumentError('RsaKeyring: the public CryptoKey is not extractable, so it has no fingerprint; import it extractable or pass a name', { cause });
  }
  return base64url(new Uint8Array(await subtle().digest('SHA-256', spki)));
}

function checkCryptoKey(key: CryptoKey, type: KeyType, usage: KeyUsage): CryptoKey {
  const alg = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  if (key.type !== type) throw new InvalidArgumentError(`RsaKeyring: expected an RSA ${type} key`);
  if (alg.name !== 'RSA-OAEP' || alg.hash?.name !== 'SHA-256') throw new InvalidArgumentError('RsaKeyring: the CryptoKey must be RSA-OAEP with SHA-256');
  if (!key.usages.includes(usage)) throw new InvalidArgumentError(`RsaKeyring: the CryptoKey lacks the "${usage}" usage`);
  return checkBits(key);
}

function checkBits(key: CryptoKey): CryptoKey {
  const bits = bitsOf(key);
  if (!(bits >= MIN_MODULUS_BITS)) throw new InvalidArgumentError(`RsaKeyring: RSA keys must have at least ${MIN_MODULUS_BITS} bits (3072 recommended)`);
  if (bits > MAX_MODULUS_BITS) throw new InvalidArgumentError(`RsaKeyring: RSA keys above ${MAX_MODULUS_BITS} bits are not accepted`);
  return key;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}

async function importPublic(input: RsaKeyInput): Promise<CryptoKey> {
  if (isCryptoKey(input)) return checkCryptoKey(input, 'public', 'encrypt');
  if (typeof input === 'string') {
    const { label, der } = fromPem(input);
    let spki: Uint8Array;
    if (label === 'PUBLIC KEY') spki = der;
    else if (label === 'RSA PUBLIC KEY') spki = spkiFromPkcs1(der);
    else throw new InvalidArgumentError(`RsaKeyring: expected a PUBLIC KEY or RSA PUBLIC KEY PEM, got ${label}`);
    return checkBits(await importOrThrow('spki', spki, true, ['encrypt']));
  }
  const jwk = checkJwk(input);
  // Only the public members: a private JWK passed here must not yield a key that can decrypt.
  const pub: JsonWebKey = { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', ext: true };
  return checkBits(await importOrThrow('jwk', pub, true, ['encrypt']));
}

async function importPrivate(input: RsaKeyInput): Promise<{ key: CryptoKey; publicJwk: JsonWebKey | undefined }> {
  if (isCryptoKey(input)) {
    checkCryptoKey(input, 'private', 'decrypt');
    let publicJwk: JsonWebKey | undefined;
    if (input.extractable) {
      const jwk = (await subtle().exportKey('jwk', input)) as JsonWebKey;
      publicJwk = { kty: 'RSA', n: jwk.n, e: jwk.e };
    }
    return { key: input, publicJwk };
  }
  if (typeof input === 'string') {
    const { label, der } = fromPem(input);
    try {
      let pkcs8: Uint8Array;
      if (label === 'PRIVATE KEY') pkcs8 = der;
      else if (label === 'RSA PRIVATE KEY') pkcs8 = pkcs8FromPkcs1(der);
      else throw new InvalidArgumentError(`RsaKeyring: expected a PRIVATE KEY or RSA PRIVATE KEY PEM, got ${label === 'ENCRYPTED PRIVATE KEY' ? 'an encrypted private key (decrypt it first)' : label}`);
      const key = checkBits(await importOrThrow('pkcs8', pkcs8, false, ['decrypt']));
      const publicJwk = publicJwkFromPkcs8(pkcs8);
      if (pkcs8 !== der) pkcs8.fill(0);
      return { key, publicJwk };
    } finally {
      der.fill(0);
    }
  }
  const jwk = checkJwk(input);
  if (typeof jwk.d !== 'string') throw new InvalidArgumentError('RsaKeyring: the JWK is not a private key (no "d")');
  const key = checkBits(await importOrThrow('jwk', { ...jwk, ext: false }, false, ['decrypt']));
  return { key, publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e } };
}

function checkJwk(input: unknown): JsonWebKey & { n: string; e: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('RsaKeyring: the key must be a PEM string, a JWK object or a CryptoKey');
  }
  const jwk = input as JsonWebKey;
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw new InvalidArgumentError('RsaKeyring: the JWK must have kty "RSA" and string "n" and "e"');
  }
  if (jwk.alg !== undefined && jwk.alg !== 'RSA-OAEP-256') {
    throw new InvalidArgumentError(`RsaKeyring: the JWK is for ${String(jwk.alg)}; only RSA-OAEP-256 is supported`);
  }
  if (jwk.use !== undefined && jwk.use !== 'enc') throw new InvalidArgumentError('RsaKeyring: the JWK "use" must be "enc"');
  return jwk as JsonWebKey & { n: string; e: string };
}

async function importOrThrow(format: 'spki' | 'pkcs8', data: Uint8Array, extractable: boolean, usages: KeyUsage[]): Promise<CryptoKey>;
async function importOrThrow(format: 'jwk', data: JsonWebKey, extractable: boolean, usages: KeyUsage[]): Promise<CryptoKey>;
async function importOrThrow(format: 'spki' | 'pkcs8' | 'jwk', data: Uint8Array | JsonWebKey, extractable: boolean, usages: KeyUsage[]): Promise<CryptoKey> {
  try {
    if (format === 'jwk') return await subtle().importKey('jwk', data as JsonWebKey, OAEP_SHA256, extractable, usages);
    return await subtle().importKey(format, data as Uint8Array<ArrayBuffer>, OAEP_SHA256, extractable, usages);
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause;
    // The WebCrypto message names the problem (not RSA, bad encoding) without echoing key bytes.
    throw new InvalidArgumentError(`RsaKeyring: the key could not be imported as an RSA-OAEP-256 ${format === 'pkcs8' ? 'private' : format === 'spki' ? 'public' : 'JWK'} key`, { cause });
  }
}

// --- PEM and the little DER needed to accept PKCS#1 keys and derive a public key from PKCS#8 ---

function fromPem(pem: string): { label: string; der: Uint8Array } {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (match === null) throw new InvalidArgumentError('RsaKeyring: the string is not a PEM key (no BEGIN/END lines)');
  const body = (match[2] ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
    throw new InvalidArgumentError('RsaKeyring: the PEM body is not valid base64');
  }
  return { label: match[1] ?? '', der: base64Decode(body) };
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = base64Encode(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/* rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters, RFC 8017 Appendix C. */
const RSA_ALGORITHM_ID = new Uint8Array([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function derTlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const head = [tag, ...derLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** RFC 5280 SubjectPublicKeyInfo around an RFC 8017 RSAPublicKey. */
function spkiFromPkcs1(rsaPublicKey: Uint8Array): Uint8Array {
  return derTlv(0x30, RSA_ALGORITHM_ID, derTlv(0x03, new Uint8Array([0]), rsaPublicKey));
}

/** RFC 5208 PrivateKeyInfo (version 0) around an RFC 8017 RSAPrivateKey. */
function pkcs8FromPkcs1(rsaPrivateKey: Uint8Array): Uint8Array {
  return derTlv(0x30, new Uint8Array([0x02, 0x01, 0x00]), RSA_ALGORITHM_ID, derTlv(0x04, rsaPrivateKey));
}

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  const bad = (): never => {
    throw new InvalidArgumentError('RsaKeyring: the private key DER is malformed');
  };
  if (offset + 2 > limit) bad();
  const tag = der[offset] ?? bad();
  let len = der[offset + 1] ?? bad();
  let start = offset + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) bad();
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + (der[start + i] ?? 0);
    start += count;
  }
  if (start + len > limit) bad();
  return { tag, start, end: start + len };
}

/** n and e of a PKCS#8 RSA private key, which WebCrypto will not hand out for a non-extractable key. */
function publicJwkFromPkcs8(pkcs8: Uint8Array): JsonWebKey {
  const outer = readTlv(pkcs8, 0, pkcs8.length); // PrivateKeyInfo
  const version = readTlv(pkcs8, outer.start, outer.end);
  const algorithm = readTlv(pkcs8, version.end, outer.end);
  const octets = readTlv(pkcs8, algorithm.end, outer.end);
  const rsaKey = readTlv(pkcs8, octets.start, octets.end); // RSAPrivateKey
  const rsaVersion = readTlv(pkcs8, rsaKey.start, rsaKey.end);
  const n = readTlv(pkcs8, rsaVersion.end, rsaKey.end);
  const e = readTlv(pkcs8, n.end, rsaKey.end);
  if (outer.tag !== 0x30 || octets.tag !== 0x04 || rsaKey.tag !== 0x30 || n.tag !== 0x02 || e.tag !== 0x02) {
    throw new InvalidArgumentError('RsaKeyring: the private key DER is malformed');
  }
  const unsigned = (t: Tlv): Uint8Array => {
    let s = t.start;
    while (s < t.end - 1 && pkcs8[s] === 0) s++; // JWK integers carry no sign byte
    return pkcs8.slice(s, t.end);
  };
  return { kty: 'RSA', n: base64url(unsigned(n)), e: base64url(unsigned(e)) };
}

// --- base64 without Buffer (this file runs in browsers) ---

function base64Encode(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function base64Decode(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function base64url(bytes: Uint8Array): string {
  return base64Encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
