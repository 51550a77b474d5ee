// RSA-OAEP-256 with WebCrypto only (no Node built-ins, no Google SDK): shared by the public-key
// subpath and GcpKmsRsaKeyring. Not exported from the package.
import { InvalidArgumentError } from '@fieldseal/core/errors';
import type { WrapRequest, WrapResult } from '@fieldseal/core';

/** Provider id of data keys wrapped locally under a Cloud KMS RSA decryption key and unwrapped with `AsymmetricDecrypt`. */
export const GCP_KMS_RSA_PROVIDER = 'gcp-kms-rsa';

const DATA_KEY_BYTES = 32;
// The RSA_DECRYPT_OAEP_*_SHA256 algorithms Cloud KMS offers; SHA-1 and SHA-512 variants use other OAEP hashes.
export const RSA_SIZES = new Set([2048, 3072, 4096]);
export const OAEP_SHA256: RsaHashedImportParams = { name: 'RSA-OAEP', hash: 'SHA-256' };

export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) throw new InvalidArgumentError('the Cloud KMS public-key keyring needs WebCrypto (globalThis.crypto.subtle); browsers offer it only in secure contexts');
  return s;
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto's types require. */
export function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

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

/** A copy of the data key a multi-keyring passed in, or a fresh one from the CSPRNG. */
export function dataKeyFor(request: WrapRequest): Uint8Array {
  if (request === null || typeof request !== 'object') throw new InvalidArgumentError('request must be an object');
  if (request.dataKey === undefined) return globalThis.crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
  if (!(request.dataKey instanceof Uint8Array) || request.dataKey.length !== DATA_KEY_BYTES) throw new InvalidArgumentError('dataKey must be a 32-byte Uint8Array');
  return request.dataKey.slice();
}

/** RSA-OAEP-256 encryption of a data key with a public key; returns the data key and the wrapped key. */
export async function wrapWithPublicKey(key: CryptoKey, keyVersionName: string, request: WrapRequest): Promise<WrapResult> {
  const dataKey = dataKeyFor(request);
  const copy = own(dataKey);
  try {
    const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'RSA-OAEP' }, key, copy));
    return { dataKey, wrapped: [{ provider: GCP_KMS_RSA_PROVIDER, keyId: keyVersionName, ciphertext }] };
  } catch (err) {
    dataKey.fill(0);
    throw err;
  } finally {
    copy.fill(0);
  }
}

