/**
 * The Cloud KMS emulator's cryptography: `Encrypt`/`Decrypt` (AES-256-GCM, AAD bound, the version
 * in the ciphertext), `GetPublicKey` and `AsymmetricDecrypt` (RSA-OAEP), CRC32C checked both ways.
 * @module
 */
import { constants as cryptoConstants, createCipheriv, createDecipheriv, createPublicKey, privateDecrypt, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { KmsModel } from './model.js';
import { bytesField, checkCrc, CIPHERTEXT_TAG, crcValue, GCM_TAG_LEN, HEADER_LEN, IV_LEN, MAX_DATA, RpcError, RSA_BITS, stringField, VERSION_NAME, type CryptoKeyRecord, type Request, type Response, type VersionRecord } from './wire.js';

export function kmsCrypto(model: KmsModel) {
  const { cryptoKeyOrThrow, versionOrThrow, requireEnabled } = model;

  function encrypt(request: Request): Response {
    const name = stringField(request, 'name');
    let key: CryptoKeyRecord;
    let version: VersionRecord | undefined;
    if (VERSION_NAME.test(name)) {
      ({ key, version } = versionOrThrow(name));
    } else {
      key = cryptoKeyOrThrow(name);
      version = key.primary === undefined ? undefined : key.versions.get(key.primary);
    }
    if (key.purpose !== 'ENCRYPT_DECRYPT') throw new RpcError(grpc.status.FAILED_PRECONDITION, `${key.name} is not a symmetric encryption key (purpose ${key.purpose}).`);
    if (version === undefined) throw new RpcError(grpc.status.FAILED_PRECONDITION, `${key.name} has no primary version.`);
    requireEnabled(key, version);
    const plaintext = bytesField(request, 'plaintext');
    const aad = bytesField(request, 'additionalAuthenticatedData');
    if (plaintext.length > MAX_DATA) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The plaintext exceeds 65536 bytes.');
    if (aad.length > MAX_DATA) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The additional authenticated data exceeds 65536 bytes.');
    const verifiedPlaintext = checkCrc(request, 'plaintextCrc32c', plaintext, 'plaintext');
    const verifiedAad = checkCrc(request, 'additionalAuthenticatedDataCrc32c', aad, 'additional_authenticated_data');
    const header = Buffer.alloc(HEADER_LEN);
    header.writeUInt8(CIPHERTEXT_TAG, 0);
    header.writeUInt32BE(version.id, 1);
    const iv = randomBytes(IV_LEN);
    const cipher = createCipheriv('aes-256-gcm', version.secret!, iv);
    cipher.setAAD(Buffer.concat([header, aad]));
    const ciphertext = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      name: `${key.name}/cryptoKeyVersions/${version.id}`,
      ciphertext,
      ciphertextCrc32c: crcValue(ciphertext),
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: 'SOFTWARE',
    };
  }

  function decrypt(request: Request): Response {
    const name = stringField(request, 'name');
    if (VERSION_NAME.test(name)) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Decrypt takes the name of a CryptoKey, not of a CryptoKeyVersion.');
    const key = cryptoKeyOrThrow(name);
    if (key.purpose !== 'ENCRYPT_DECRYPT') throw new RpcError(grpc.status.FAILED_PRECONDITION, `${key.name} is not a symmetric encryption key (purpose ${key.purpose}).`);
    const ciphertext = bytesField(request, 'ciphertext');
    const aad = bytesField(request, 'additionalAuthenticatedData');
    checkCrc(request, 'ciphertextCrc32c', ciphertext, 'ciphertext');
    checkCrc(request, 'additionalAuthenticatedDataCrc32c', aad, 'additional_authenticated_data');
    const invalid = new RpcError(grpc.status.INVALID_ARGUMENT, 'Decryption failed: the ciphertext is invalid.');
    if (ciphertext.length < HEADER_LEN + IV_LEN + GCM_TAG_LEN || ciphertext[0] !== CIPHERTEXT_TAG) throw invalid;
    const version = key.versions.get(ciphertext.readUInt32BE(1));
    if (version === undefined || version.secret === undefined) throw invalid;
    requireEnabled(key, version);
    const iv = ciphertext.subarray(HEADER_LEN, HEADER_LEN + IV_LEN);
    const body = ciphertext.subarray(HEADER_LEN + IV_LEN, ciphertext.length - GCM_TAG_LEN);
    const decipher = createDecipheriv('aes-256-gcm', version.secret, iv);
    decipher.setAAD(Buffer.concat([ciphertext.subarray(0, HEADER_LEN), aad]));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_LEN));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw invalid;
    }
    return { plaintext, plaintextCrc32c: crcValue(plaintext), usedPrimary: key.primary === version.id, protectionLevel: 'SOFTWARE' };
  }

  function asymmetricVersion(name: string): { key: CryptoKeyRecord; version: VersionRecord } {
    const found = versionOrThrow(name);
    if (found.key.purpose !== 'ASYMMETRIC_DECRYPT') {
      throw new RpcError(grpc.status.FAILED_PRECONDITION, `${found.key.name} is not an asymmetric decryption key (purpose ${found.key.purpose}).`);
    }
    requireEnabled(found.key, found.version);
    return found;
  }

  function getPublicKey(request: Request): Response {
    const name = stringField(request, 'name');
    const { version } = asymmetricVersion(name);
    const pem = version.publicKeyPem!;
    const base = { algorithm: version.algorithm, name, protectionLevel: 'SOFTWARE' };
    // As Cloud KMS: no format gives `pem`; PEM or DER give `public_key` (data and its CRC32C) in that format.
    const format = request.publicKeyFormat ?? 'PUBLIC_KEY_FORMAT_UNSPECIFIED';
    if (format === 'PUBLIC_KEY_FORMAT_UNSPECIFIED' || format === 0) return { ...base, pem, pemCrc32c: crcValue(Buffer.from(pem, 'utf8')) };
    if (format === 'PEM' || format === 1) {
      const data = Buffer.from(pem, 'utf8');
      return { ...base, pem, pemCrc32c: crcValue(data), publicKeyFormat: 'PEM', publicKey: { data, crc32cChecksum: crcValue(data) } };
    }
    if (format === 'DER' || format === 2) {
      const data = createPublicKey(pem).export({ type: 'spki', format: 'der' });
      return { ...base, publicKeyFormat: 'DER', publicKey: { data, crc32cChecksum: crcValue(data) } };
    }
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `The public key format ${String(format)} is not supported for algorithm ${version.algorithm}.`);
  }

  function asymmetricDecrypt(request: Request): Response {
    const name = stringField(request, 'name');
    const { version } = asymmetricVersion(name);
    const ciphertext = bytesField(request, 'ciphertext');
    const verified = checkCrc(request, 'ciphertextCrc32c', ciphertext, 'ciphertext');
    let plaintext: Buffer;
    try {
      plaintext = privateDecrypt({ key: version.privateKey!, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: RSA_BITS[version.algorithm]!.hash }, ciphertext);
    } catch {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Decryption failed: verify that the ciphertext was encrypted with the public key of this CryptoKeyVersion.');
    }
    return { plaintext, plaintextCrc32c: crcValue(plaintext), verifiedCiphertextCrc32c: verified, protectionLevel: 'SOFTWARE' };
  }

  return { encrypt, decrypt, getPublicKey, asymmetricDecrypt };
}
