/**
 * The Cloud KMS emulator's key model: key rings, CryptoKeys and their versions, in memory, with
 * Cloud KMS's names, errors and resource shapes.
 * @module
 */
import { createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { GcpKmsEmulatorCryptoKeyOptions } from './types.js';
import { LOCATION, RESOURCE_ID, RpcError, RSA_BITS, timestamp, VERSION_NAME, type CryptoKeyRecord, type Response, type VersionRecord } from './wire.js';

/** The emulator's keys and the operations on them; one per emulator. */
export type KmsModel = ReturnType<typeof kmsModel>;

export function kmsModel() {
  const keyRings = new Map<string, Date>();
  const cryptoKeys = new Map<string, CryptoKeyRecord>();

  function keyRingOrThrow(name: string): void {
    if (!keyRings.has(name)) throw new RpcError(grpc.status.NOT_FOUND, `KeyRing ${name} not found.`);
  }

  function cryptoKeyOrThrow(name: string): CryptoKeyRecord {
    const key = cryptoKeys.get(name);
    if (key === undefined) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKey ${name} not found.`);
    return key;
  }

  function versionOrThrow(versionName: string): { key: CryptoKeyRecord; version: VersionRecord } {
    const match = VERSION_NAME.exec(versionName);
    if (match === null) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid CryptoKeyVersion name: ${versionName}`);
    const key = cryptoKeyOrThrow(match[1]!);
    const version = key.versions.get(Number(match[2]));
    if (version === undefined) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKeyVersion ${versionName} not found.`);
    return { key, version };
  }

  function requireEnabled(key: CryptoKeyRecord, version: VersionRecord): void {
    if (version.state !== 'ENABLED') {
      throw new RpcError(grpc.status.FAILED_PRECONDITION, `${key.name}/cryptoKeyVersions/${version.id} is not enabled, current state is: ${version.state}.`);
    }
  }

  async function newVersion(key: CryptoKeyRecord): Promise<VersionRecord> {
    const id = key.nextVersion++;
    const base = { id, state: 'ENABLED' as const, algorithm: key.algorithm, createTime: new Date() };
    let version: VersionRecord;
    const rsa = RSA_BITS[key.algorithm];
    if (rsa === undefined) {
      version = { ...base, secret: randomBytes(32) };
    } else {
      const privateKey = await new Promise<KeyObject>((resolve, reject) =>
        generateKeyPair('rsa', { modulusLength: rsa.bits, publicExponent: 65537 }, (err, _publicKey, priv) => (err ? reject(err) : resolve(priv))),
      );
      const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
      version = { ...base, privateKey, publicKeyPem };
    }
    key.versions.set(id, version);
    return version;
  }

  function createKeyRing(parent: string, keyRingId: string): string {
    if (!LOCATION.test(parent)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid parent: ${parent}`);
    if (!RESOURCE_ID.test(keyRingId)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid key_ring_id: ${keyRingId}`);
    const name = `${parent}/keyRings/${keyRingId}`;
    if (keyRings.has(name)) throw new RpcError(grpc.status.ALREADY_EXISTS, `KeyRing ${name} already exists.`);
    keyRings.set(name, new Date());
    return name;
  }

  async function createCryptoKey(keyRingName: string, cryptoKeyId: string, opts: GcpKmsEmulatorCryptoKeyOptions = {}, skipInitialVersion = false): Promise<CryptoKeyRecord> {
    keyRingOrThrow(keyRingName);
    if (!RESOURCE_ID.test(cryptoKeyId)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid crypto_key_id: ${cryptoKeyId}`);
    const purpose = opts.purpose ?? 'ENCRYPT_DECRYPT';
    if (purpose !== 'ENCRYPT_DECRYPT' && purpose !== 'ASYMMETRIC_DECRYPT') {
      throw new RpcError(grpc.status.UNIMPLEMENTED, `The emulator implements the ENCRYPT_DECRYPT and ASYMMETRIC_DECRYPT purposes, not ${String(purpose)}.`);
    }
    const algorithm = opts.algorithm ?? (purpose === 'ENCRYPT_DECRYPT' ? 'GOOGLE_SYMMETRIC_ENCRYPTION' : undefined);
    if (algorithm === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'version_template.algorithm is required for ASYMMETRIC_DECRYPT keys.');
    const symmetric = algorithm === 'GOOGLE_SYMMETRIC_ENCRYPTION';
    if (symmetric !== (purpose === 'ENCRYPT_DECRYPT') || (!symmetric && RSA_BITS[algorithm] === undefined)) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `Algorithm ${String(algorithm)} is not valid for purpose ${purpose}.`);
    }
    const name = `${keyRingName}/cryptoKeys/${cryptoKeyId}`;
    if (cryptoKeys.has(name)) throw new RpcError(grpc.status.ALREADY_EXISTS, `CryptoKey ${name} already exists.`);
    const key: CryptoKeyRecord = { name, purpose, algorithm, createTime: new Date(), versions: new Map(), primary: undefined, nextVersion: 1 };
    cryptoKeys.set(name, key);
    if (!skipInitialVersion) {
      const version = await newVersion(key);
      if (symmetric) key.primary = version.id;
    }
    return key;
  }

  function setPrimaryVersion(cryptoKeyName: string, versionId: number): CryptoKeyRecord {
    const key = cryptoKeyOrThrow(cryptoKeyName);
    if (key.purpose !== 'ENCRYPT_DECRYPT') throw new RpcError(grpc.status.FAILED_PRECONDITION, `CryptoKey ${key.name} has no primary version: its purpose is ${key.purpose}.`);
    const version = key.versions.get(versionId);
    if (version === undefined) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKeyVersion ${key.name}/cryptoKeyVersions/${versionId} not found.`);
    requireEnabled(key, version);
    key.primary = versionId;
    return key;
  }

  function versionResource(key: CryptoKeyRecord, version: VersionRecord): Response {
    return {
      name: `${key.name}/cryptoKeyVersions/${version.id}`,
      state: version.state,
      protectionLevel: 'SOFTWARE',
      algorithm: version.algorithm,
      createTime: timestamp(version.createTime),
      generateTime: timestamp(version.createTime),
    };
  }

  function keyResource(key: CryptoKeyRecord): Response {
    const primary = key.primary === undefined ? undefined : key.versions.get(key.primary);
    return {
      name: key.name,
      purpose: key.purpose,
      createTime: timestamp(key.createTime),
      versionTemplate: { protectionLevel: 'SOFTWARE', algorithm: key.algorithm },
      ...(primary ? { primary: versionResource(key, primary) } : {}),
    };
  }

  return { keyRings, cryptoKeys, keyRingOrThrow, cryptoKeyOrThrow, versionOrThrow, requireEnabled, newVersion, createKeyRing, createCryptoKey, setPrimaryVersion, versionResource, keyResource };
}
