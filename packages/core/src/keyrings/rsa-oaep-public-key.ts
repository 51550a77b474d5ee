/**
 * RSA-OAEP-256 wrapping with the public half of a key-service RSA key, through WebCrypto alone: the
 * one implementation behind the provider packages' public-key keyrings (AWS KMS, Azure Key Vault,
 * Cloud KMS), which must run in browsers without any cloud SDK or Node built-in.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { WrapRequest, WrapResult } from '../types.js';

const DATA_KEY_BYTES = 32;
const RSA_OAEP_256: RsaHashedImportParams = { name: 'RSA-OAEP', hash: 'SHA-256' };

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidArgumentError('wrapping with a public key needs WebCrypto (globalThis.crypto.subtle); browsers offer it only in secure contexts (https or localhost)');
  return s;
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto's types require. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/**
 * The DER bytes of an SPKI `-----BEGIN PUBLIC KEY-----` PEM block.
 *
 * @internal For fieldseal's provider packages; not part of the public API.
 * @param pem The PEM text.
 * @returns The DER bytes.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for no PEM block, a private key or a body that is not base64.
 */
export function spkiFromPem(pem: string): Uint8Array {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new InvalidArgumentError('publicKey: expected a PEM block (-----BEGIN PUBLIC KEY-----)');
  if (m[1] !== 'PUBLIC KEY') throw new InvalidArgumentError(`publicKey: expected a PUBLIC KEY (SPKI) PEM, got ${/PRIVATE/.test(m[1]!) ? 'a private key' : m[1]}`);
  const body = m[2]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new InvalidArgumentError('publicKey: the PEM body is not base64');
  const bin = atob(body);
  const der = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
  return der;
}

/**
 * Import an RSA public key (SPKI PEM, SPKI DER or a WebCrypto `CryptoKey`) for RSA-OAEP with SHA-256
 * (MGF1-SHA-256, empty label) and check it: public, RSA-OAEP/SHA-256, `encrypt` usage, one of the
 * modulus sizes the key service offers.
 *
 * @internal For fieldseal's provider packages; not part of the public API.
 * @param input SPKI PEM, SPKI DER or a `CryptoKey`.
 * @param sizes The modulus sizes the key service offers.
 * @param service How the size error names the service's keys (`AWS KMS RSA keys`).
 * @returns A WebCrypto public key with the `encrypt` usage.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when it is not such a key.
 */
export async function importRsaOaepPublicKey(input: string | Uint8Array | CryptoKey, sizes: ReadonlySet<number>, service: string): Promise<CryptoKey> {
  let key: CryptoKey;
  if (typeof CryptoKey !== 'undefined' && input instanceof CryptoKey) {
    key = input;
  } else {
    const der = typeof input === 'string' ? spkiFromPem(input) : input instanceof Uint8Array ? input.slice() : undefined;
    if (der === undefined) throw new InvalidArgumentError('publicKey must be a PEM string, SPKI DER bytes or a CryptoKey');
    try {
      key = await subtle().importKey('spki', own(der), RSA_OAEP_256, true, ['encrypt']);
    } catch (err) {
      throw new InvalidArgumentError('publicKey is not an RSA public key (SPKI)', { cause: err });
    }
  }
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  if (key.type !== 'public' || alg.name !== 'RSA-OAEP' || alg.hash?.name !== 'SHA-256' || !key.usages.includes('encrypt')) {
    throw new InvalidArgumentError('publicKey must be an RSA-OAEP public key with SHA-256 and the encrypt usage');
  }
  if (!sizes.has(alg.modulusLength)) throw new InvalidArgumentError(`publicKey has ${alg.modulusLength} bits; ${service} have ${[...sizes].join(', ').replace(/, (\d+)$/, ' or $1')}`);
  return key;
}

/**
 * The data key to wrap: a copy of the one a multi-keyring passed in, or a fresh one from the CSPRNG.
 * The caller owns it.
 *
 * @internal For fieldseal's provider packages; not part of the public API.
 * @param request The wrap request.
 * @returns 32 bytes.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `dataKey` is not 32 bytes.
 */
export function dataKeyToWrap(request: WrapRequest): Uint8Array {
  if (request === null || typeof request !== 'object') throw new InvalidArgumentError('request must be an object');
  if (request.dataKey === undefined) return globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
  if (!(request.dataKey instanceof Uint8Array) || request.dataKey.length !== DATA_KEY_BYTES) throw new InvalidArgumentError('dataKey must be a 32-byte Uint8Array');
  return request.dataKey.slice();
}

/**
 * RSA-OAEP-256 encryption of a data key with a public key: what the key services' private-key
 * unwraps (KMS `RSAES_OAEP_SHA_256`, Key Vault `RSA-OAEP-256`, Cloud KMS `RSA_DECRYPT_OAEP_*_SHA256`)
 * reverse. The data key is copied for WebCrypto and the copy zeroed.
 *
 * @internal For fieldseal's provider packages; not part of the public API.
 * @param publicKey An RSA-OAEP/SHA-256 public key.
 * @param dataKey The data key.
 * @returns The ciphertext.
 */
export async function rsaOaepPublicKeyEncrypt(publicKey: CryptoKey, dataKey: Uint8Array): Promise<Uint8Array> {
  const copy = own(dataKey);
  try {
    return new Uint8Array(await subtle().encrypt({ name: 'RSA-OAEP' }, publicKey, copy));
  } finally {
    copy.fill(0);
  }
}

/**
 * A keyring's whole `wrap` with a public key: the data key ({@link dataKeyToWrap}), wrapped with
 * RSA-OAEP-256 under `provider`/`keyId`. On failure the data key is zeroed.
 *
 * @internal For fieldseal's provider packages; not part of the public API.
 * @param publicKey An RSA-OAEP/SHA-256 public key.
 * @param request The wrap request.
 * @param provider The provider id written into the wrapped key.
 * @param keyId The key id written into the wrapped key.
 * @returns The data key (the caller owns it) and one wrapped key.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `dataKey` is not 32 bytes.
 */
export async function wrapWithRsaOaepPublicKey(publicKey: CryptoKey, request: WrapRequest, provider: string, keyId: string): Promise<WrapResult> {
  const dataKey = dataKeyToWrap(request);
  try {
    const ciphertext = await rsaOaepPublicKeyEncrypt(publicKey, dataKey);
    return { dataKey, wrapped: [{ provider, keyId, ciphertext }] };
  } catch (err) {
    dataKey.fill(0);
    throw err;
  }
}
