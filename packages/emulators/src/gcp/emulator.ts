/**
 * A loopback emulator of Google Cloud KMS (`google.cloud.kms.v1.KeyManagementService`) over gRPC,
 * built from the protos shipped with `@google-cloud/kms`, so the real client runs unmodified
 * against it.
 * @module
 */
import { createCipheriv, createDecipheriv, generateKeyPair, privateDecrypt, randomBytes, constants as cryptoConstants, type KeyObject, createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { FaultInjector, RequestCounters, assertLoopbackHost, delay, testTlsFixture, type EmulatorHandle, type EmulatorOptions } from '../harness.js';
import { crc32c } from './crc32c.js';

/** Key purposes the emulator implements. */
export type GcpKmsEmulatorPurpose = 'ENCRYPT_DECRYPT' | 'ASYMMETRIC_DECRYPT';

/** Algorithms the emulator implements (the `CryptoKeyVersionAlgorithm` enum names). */
export type GcpKmsEmulatorAlgorithm =
  | 'GOOGLE_SYMMETRIC_ENCRYPTION'
  | 'RSA_DECRYPT_OAEP_2048_SHA256'
  | 'RSA_DECRYPT_OAEP_3072_SHA256'
  | 'RSA_DECRYPT_OAEP_4096_SHA256'
  | 'RSA_DECRYPT_OAEP_4096_SHA512'
  | 'RSA_DECRYPT_OAEP_2048_SHA1'
  | 'RSA_DECRYPT_OAEP_3072_SHA1'
  | 'RSA_DECRYPT_OAEP_4096_SHA1';

/** A version's state (the `CryptoKeyVersionState` enum names the emulator uses). */
export type GcpKmsEmulatorVersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

/** Options of {@link startGcpKmsEmulator}. */
export interface GcpKmsEmulatorOptions extends EmulatorOptions {
  /**
   * Require `authorization: Bearer <token>` on every call; others get `UNAUTHENTICATED`. Only
   * useful with `tls`: a gRPC client cannot attach call credentials to an insecure channel.
   */
  readonly requireToken?: string;
}

/** Where the emulator listens, in the shape `KeyManagementServiceClient` options take. */
export interface GcpKmsEmulatorEndpoint {
  /** Host to pass as `apiEndpoint`. */
  readonly apiEndpoint: string;
  /** Port to pass as `port`. */
  readonly port: number;
}

/**
 * Options for `new KeyManagementServiceClient(...)` that reach this emulator without any Google
 * credentials or metadata-server probe.
 */
// A type alias, not an interface, so it is assignable to the client's indexed `ClientOptions`.
export type GcpKmsEmulatorClientOptions = {
  readonly apiEndpoint: string;
  readonly port: number;
  /** Insecure (or test-CA TLS, with the bearer token when one is required) channel credentials. */
  readonly sslCreds: grpc.ChannelCredentials;
  /** Set so the client never asks Application Default Credentials for the universe domain. */
  readonly universeDomain: 'googleapis.com';
  /**
   * With TLS, `localhost` (a name the test certificate holds): gRPC would otherwise send the IP
   * address as the TLS server name, which RFC 6066 forbids and Node warns about (DEP0123).
   */
  readonly 'grpc.ssl_target_name_override'?: string;
};

/** Options of {@link GcpKmsEmulator.createCryptoKey}. */
export interface GcpKmsEmulatorCryptoKeyOptions {
  /** Default `ENCRYPT_DECRYPT`. */
  readonly purpose?: GcpKmsEmulatorPurpose;
  /** Default `GOOGLE_SYMMETRIC_ENCRYPTION`; required for `ASYMMETRIC_DECRYPT`. */
  readonly algorithm?: GcpKmsEmulatorAlgorithm;
}

/** A running Cloud KMS emulator. Operation names in counters and failpoints are the RPC names (`Encrypt`, `Decrypt`, …). */
export interface GcpKmsEmulator extends EmulatorHandle {
  /** `apiEndpoint` and `port` for the client. */
  readonly endpoint: GcpKmsEmulatorEndpoint;
  /** The CA certificate (PEM) clients must trust when the emulator serves TLS. */
  readonly caPem: string | undefined;
  /** Client options for the real `KeyManagementServiceClient` pointed at this emulator. */
  clientOptions(): GcpKmsEmulatorClientOptions;
  /** Create a key ring (`parent` is `projects/P/locations/L`); returns its name. */
  createKeyRing(parent: string, keyRingId: string): string;
  /** Create a crypto key with one enabled version (the primary, for symmetric keys); returns the CryptoKey name. */
  createCryptoKey(keyRingName: string, cryptoKeyId: string, options?: GcpKmsEmulatorCryptoKeyOptions): Promise<string>;
  /** Add a version (not primary); returns the CryptoKeyVersion name. */
  createCryptoKeyVersion(cryptoKeyName: string): Promise<string>;
  /** Make version `versionId` of a symmetric key its primary. */
  setPrimaryVersion(cryptoKeyName: string, versionId: number): void;
  /** Rotate: add a version and, for symmetric keys, make it primary. Returns the new version name. */
  rotate(cryptoKeyName: string): Promise<string>;
  /** Enable, disable or destroy a version. */
  setVersionState(versionName: string, state: GcpKmsEmulatorVersionState): void;
  /** The public key PEM of an asymmetric version. */
  publicKeyPem(versionName: string): string;
  /**
   * Let a test change the next response of `operation` before it is sent (a hostile or buggy
   * server: drop a `verified*` flag, change `name`, …). Applies once.
   */
  tamperNextResponse(operation: string, mutate: (response: Record<string, unknown>) => void): void;
}

interface VersionRecord {
  readonly id: number;
  state: GcpKmsEmulatorVersionState;
  readonly algorithm: GcpKmsEmulatorAlgorithm;
  readonly createTime: Date;
  /** AES-256 key for symmetric versions. */
  readonly secret?: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKeyPem?: string;
}

interface CryptoKeyRecord {
  readonly name: string;
  readonly purpose: GcpKmsEmulatorPurpose;
  readonly algorithm: GcpKmsEmulatorAlgorithm;
  readonly createTime: Date;
  readonly versions: Map<number, VersionRecord>;
  primary: number | undefined;
  nextVersion: number;
}

type Request = Record<string, unknown>;
type Response = Record<string, unknown>;

class RpcError extends Error {
  readonly code: grpc.status;
  readonly details: string;
  constructor(code: grpc.status, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}

const LOCATION = /^projects\/[a-z0-9-]{1,63}\/locations\/[a-z0-9-]{1,63}$/;
const RESOURCE_ID = /^[a-zA-Z0-9_-]{1,63}$/;
const VERSION_NAME = /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/([1-9][0-9]{0,9})$/;
// Cloud KMS caps Encrypt plaintext and AAD at 64 KiB.
const MAX_DATA = 64 * 1024;
// The emulator's ciphertext: tag byte, 32-bit version id, 12-byte IV, AES-256-GCM output, 16-byte tag.
const CIPHERTEXT_TAG = 0x47;
const HEADER_LEN = 5;
const IV_LEN = 12;
const GCM_TAG_LEN = 16;

const RSA_BITS: Partial<Record<GcpKmsEmulatorAlgorithm, { bits: number; hash: string }>> = {
  RSA_DECRYPT_OAEP_2048_SHA256: { bits: 2048, hash: 'sha256' },
  RSA_DECRYPT_OAEP_3072_SHA256: { bits: 3072, hash: 'sha256' },
  RSA_DECRYPT_OAEP_4096_SHA256: { bits: 4096, hash: 'sha256' },
  RSA_DECRYPT_OAEP_4096_SHA512: { bits: 4096, hash: 'sha512' },
  RSA_DECRYPT_OAEP_2048_SHA1: { bits: 2048, hash: 'sha1' },
  RSA_DECRYPT_OAEP_3072_SHA1: { bits: 3072, hash: 'sha1' },
  RSA_DECRYPT_OAEP_4096_SHA1: { bits: 4096, hash: 'sha1' },
};

let serviceDefinition: grpc.ServiceDefinition | undefined;

/** Load `google.cloud.kms.v1.KeyManagementService` from the protos.json that ships with the client (once per process). */
function kmsService(): grpc.ServiceDefinition {
  if (serviceDefinition === undefined) {
    const require = createRequire(import.meta.url);
    const json = require('@google-cloud/kms/build/protos/protos.json') as Parameters<typeof protoLoader.fromJSON>[0];
    const definition = protoLoader.fromJSON(json, { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
    const root = grpc.loadPackageDefinition(definition) as unknown as {
      google: { cloud: { kms: { v1: { KeyManagementService: grpc.ServiceClientConstructor } } } };
    };
    serviceDefinition = root.google.cloud.kms.v1.KeyManagementService.service;
  }
  return serviceDefinition;
}

function timestamp(date: Date): { seconds: string; nanos: number } {
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

function bytesField(request: Request, field: string): Buffer {
  const value = request[field];
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new RpcError(grpc.status.INVALID_ARGUMENT, `${field} must be bytes`);
}

function stringField(request: Request, field: string): string {
  const value = request[field];
  return typeof value === 'string' ? value : '';
}

/** Check an optional `google.protobuf.Int64Value` checksum field; returns whether one was sent. */
function checkCrc(request: Request, crcField: string, data: Buffer, dataField: string): boolean {
  const wrapper = request[crcField] as { value?: unknown } | undefined | null;
  if (wrapper === undefined || wrapper === null) return false;
  const sent = Number(wrapper.value ?? 0);
  if (sent !== crc32c(data)) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `The checksum in field ${crcField.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} did not match the data in field ${dataField}.`);
  }
  return true;
}

function crcValue(data: Buffer): { value: string } {
  return { value: String(crc32c(data)) };
}

/**
 * Start a Cloud KMS emulator on loopback.
 *
 * Implements `CreateKeyRing`, `GetKeyRing`, `CreateCryptoKey`, `GetCryptoKey`,
 * `CreateCryptoKeyVersion`, `GetCryptoKeyVersion`, `UpdateCryptoKeyVersion` (state),
 * `UpdateCryptoKeyPrimaryVersion`, `Encrypt`, `Decrypt`, `GetPublicKey` (with `publicKeyFormat` PEM or DER) and `AsymmetricDecrypt`;
 * other RPCs answer `UNIMPLEMENTED`. Symmetric ciphertexts are AES-256-GCM with the additional
 * authenticated data bound and carry the version that made them; every CRC32C field is computed
 * on responses and verified on requests (`INVALID_ARGUMENT` on mismatch).
 *
 * Failpoints: `server-error` answers `UNAVAILABLE` (or `fault.status`), `throttle` answers
 * `RESOURCE_EXHAUSTED`, `delay` waits, `drop` cuts every client connection (the client sees
 * `UNAVAILABLE` at once and reconnects), `blackhole` never answers (the client's deadline expires), and
 * `corrupt-response` corrupts the response's checksum (`ciphertextCrc32c`, `plaintextCrc32c`,
 * `pemCrc32c`).
 *
 * @param options - Port, loopback host, TLS and an optional bearer token to require.
 * @returns The running emulator; call `close()` when done.
 * @throws Error when `host` is not a loopback address.
 * @example
 * ```ts
 * import { KeyManagementServiceClient } from '@google-cloud/kms';
 * import { startGcpKmsEmulator } from '@fieldseal/emulators';
 *
 * const emulator = await startGcpKmsEmulator();
 * const ring = emulator.createKeyRing('projects/demo/locations/global', 'ring');
 * const keyName = await emulator.createCryptoKey(ring, 'kek');
 * const client = new KeyManagementServiceClient(emulator.clientOptions());
 * const [response] = await client.encrypt({ name: keyName, plaintext: Buffer.from('hello') });
 * await client.close();
 * await emulator.close();
 * ```
 */
export async function startGcpKmsEmulator(options: GcpKmsEmulatorOptions = {}): Promise<GcpKmsEmulator> {
  const host = assertLoopbackHost(options.host ?? '127.0.0.1');
  const tls = options.tls === true ? testTlsFixture() : options.tls || undefined;
  const counters = new RequestCounters();
  const faults = new FaultInjector();
  const keyRings = new Map<string, Date>();
  const cryptoKeys = new Map<string, CryptoKeyRecord>();
  const tampers: { operation: string; mutate: (response: Response) => void }[] = [];

  // --- model ----------------------------------------------------------------------------------

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

  // --- cryptography -----------------------------------------------------------------------------

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

  // --- RPC plumbing -----------------------------------------------------------------------------

  const corruptField: Record<string, string> = {
    Encrypt: 'ciphertextCrc32c',
    Decrypt: 'plaintextCrc32c',
    AsymmetricDecrypt: 'plaintextCrc32c',
    GetPublicKey: 'pemCrc32c',
  };

  function rpc(operation: string, handler: (request: Request) => Response | Promise<Response>): grpc.handleUnaryCall<Request, Response> {
    return (call, callback) => {
      void (async () => {
        counters.increment(operation);
        const fault = faults.take(operation);
        if (fault?.kind === 'delay') await delay(fault.delayMs ?? 100);
        if (fault?.kind === 'blackhole') return; // never answer: the client's deadline decides
        if (fault?.kind === 'drop') {
          relay.dropAll(); // every client connection reset, as a network drop would; this call is never answered
          return;
        }
        if (fault?.kind === 'server-error') throw new RpcError(fault.status ?? grpc.status.UNAVAILABLE, 'The service is currently unavailable.');
        if (fault?.kind === 'throttle') throw new RpcError(grpc.status.RESOURCE_EXHAUSTED, 'Quota exceeded for quota metric cryptographic requests.');
        if (options.requireToken !== undefined) {
          const auth = call.metadata.get('authorization')[0];
          if (auth !== `Bearer ${options.requireToken}`) throw new RpcError(grpc.status.UNAUTHENTICATED, 'Request had invalid authentication credentials.');
        }
        const response = await handler(call.request);
        if (fault?.kind === 'corrupt-response') {
          const field = corruptField[operation];
          const wrapper = field === undefined ? undefined : (response[field] as { value: string } | undefined);
          if (field !== undefined && wrapper !== undefined) response[field] = { value: String((Number(wrapper.value) ^ 0x1) >>> 0) };
        }
        const tamper = tampers.findIndex((t) => t.operation === operation);
        if (tamper >= 0) tampers.splice(tamper, 1)[0]!.mutate(response);
        callback(null, response);
      })().catch((err: unknown) => {
        if (err instanceof RpcError) {
          callback({ code: err.code, details: err.details, metadata: new grpc.Metadata() });
        } else {
          callback({ code: grpc.status.INTERNAL, details: 'Internal error in the emulator.', metadata: new grpc.Metadata() });
        }
      });
    };
  }

  const implementation: grpc.UntypedServiceImplementation = {
    createKeyRing: rpc('CreateKeyRing', (request) => {
      const name = createKeyRing(stringField(request, 'parent'), stringField(request, 'keyRingId'));
      return { name, createTime: timestamp(keyRings.get(name)!) };
    }),
    getKeyRing: rpc('GetKeyRing', (request) => {
      const name = stringField(request, 'name');
      keyRingOrThrow(name);
      return { name, createTime: timestamp(keyRings.get(name)!) };
    }),
    createCryptoKey: rpc('CreateCryptoKey', async (request) => {
      const template = ((request.cryptoKey as Request | undefined)?.versionTemplate ?? {}) as Request;
      const purpose = (request.cryptoKey as Request | undefined)?.purpose as GcpKmsEmulatorPurpose | undefined;
      const algorithm = template.algorithm as GcpKmsEmulatorAlgorithm | undefined;
      const key = await createCryptoKey(
        stringField(request, 'parent'),
        stringField(request, 'cryptoKeyId'),
        { ...(purpose ? { purpose } : {}), ...(algorithm ? { algorithm } : {}) },
        request.skipInitialVersionCreation === true,
      );
      return keyResource(key);
    }),
    getCryptoKey: rpc('GetCryptoKey', (request) => keyResource(cryptoKeyOrThrow(stringField(request, 'name')))),
    createCryptoKeyVersion: rpc('CreateCryptoKeyVersion', async (request) => {
      const key = cryptoKeyOrThrow(stringField(request, 'parent'));
      return versionResource(key, await newVersion(key));
    }),
    getCryptoKeyVersion: rpc('GetCryptoKeyVersion', (request) => {
      const { key, version } = versionOrThrow(stringField(request, 'name'));
      return versionResource(key, version);
    }),
    updateCryptoKeyVersion: rpc('UpdateCryptoKeyVersion', (request) => {
      const body = (request.cryptoKeyVersion ?? {}) as Request;
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map(String);
      if (paths.length !== 1 || paths[0] !== 'state') throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The emulator updates only the state field (update_mask "state").');
      const state = body.state;
      if (state !== 'ENABLED' && state !== 'DISABLED') throw new RpcError(grpc.status.INVALID_ARGUMENT, 'state must be ENABLED or DISABLED.');
      const { key, version } = versionOrThrow(stringField(body, 'name'));
      if (version.state === 'DESTROYED') throw new RpcError(grpc.status.FAILED_PRECONDITION, 'A destroyed version cannot change state.');
      version.state = state;
      return versionResource(key, version);
    }),
    updateCryptoKeyPrimaryVersion: rpc('UpdateCryptoKeyPrimaryVersion', (request) => {
      const id = Number(stringField(request, 'cryptoKeyVersionId'));
      if (!Number.isSafeInteger(id) || id < 1) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Invalid crypto_key_version_id.');
      return keyResource(setPrimaryVersion(stringField(request, 'name'), id));
    }),
    encrypt: rpc('Encrypt', encrypt),
    decrypt: rpc('Decrypt', decrypt),
    getPublicKey: rpc('GetPublicKey', getPublicKey),
    asymmetricDecrypt: rpc('AsymmetricDecrypt', asymmetricDecrypt),
  };

  const server = new grpc.Server();
  server.addService(kmsService(), implementation);
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], false)
    : grpc.ServerCredentials.createInsecure();
  const bindHost = host.includes(':') ? `[${host}]` : host;
  const innerPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${bindHost}:0`, credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort))),
  );
  const relay = await startRelay(host, options.port ?? 0, innerPort);
  const port = relay.port;
  const caPem = tls ? tls.cert.toString() : undefined;

  // Test helpers speak in plain errors, not gRPC statuses.
  const plain = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw err instanceof RpcError ? new Error(err.details) : err;
    }
  };
  const plainAsync = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof RpcError ? new Error(err.details) : err;
    }
  };

  return {
    url: `${tls ? 'https' : 'http'}://${bindHost}:${port}`,
    port,
    // gax joins host and port with ':', so an IPv6 address must come bracketed.
    endpoint: { apiEndpoint: bindHost, port },
    caPem,
    counters,
    faults,
    clientOptions() {
      let sslCreds: grpc.ChannelCredentials;
      if (caPem === undefined) {
        sslCreds = grpc.credentials.createInsecure();
      } else {
        const channel = grpc.credentials.createSsl(Buffer.from(caPem));
        const token = options.requireToken;
        sslCreds =
          token === undefined
            ? channel
            : grpc.credentials.combineChannelCredentials(
                channel,
                grpc.credentials.createFromMetadataGenerator((_params, cb) => {
                  const metadata = new grpc.Metadata();
                  metadata.add('authorization', `Bearer ${token}`);
                  cb(null, metadata);
                }),
              );
      }
      const base = { apiEndpoint: bindHost, port, sslCreds, universeDomain: 'googleapis.com' } as const;
      return caPem === undefined ? base : { ...base, 'grpc.ssl_target_name_override': 'localhost' };
    },
    createKeyRing: (parent, keyRingId) => plain(() => createKeyRing(parent, keyRingId)),
    createCryptoKey: (keyRingName, cryptoKeyId, opts) => plainAsync(async () => (await createCryptoKey(keyRingName, cryptoKeyId, opts)).name),
    createCryptoKeyVersion: (cryptoKeyName) =>
      plainAsync(async () => {
        const key = cryptoKeyOrThrow(cryptoKeyName);
        return `${key.name}/cryptoKeyVersions/${(await newVersion(key)).id}`;
      }),
    setPrimaryVersion: (cryptoKeyName, versionId) => void plain(() => setPrimaryVersion(cryptoKeyName, versionId)),
    rotate: (cryptoKeyName) =>
      plainAsync(async () => {
        const key = cryptoKeyOrThrow(cryptoKeyName);
        const version = await newVersion(key);
        if (key.purpose === 'ENCRYPT_DECRYPT') key.primary = version.id;
        return `${key.name}/cryptoKeyVersions/${version.id}`;
      }),
    setVersionState: (versionName, state) =>
      plain(() => {
        const { version } = versionOrThrow(versionName);
        version.state = state;
      }),
    publicKeyPem: (versionName) =>
      plain(() => {
        const { version } = versionOrThrow(versionName);
        if (version.publicKeyPem === undefined) throw new RpcError(grpc.status.FAILED_PRECONDITION, `${versionName} has no public key.`);
        return version.publicKeyPem;
      }),
    tamperNextResponse(operation, mutate) {
      tampers.push({ operation, mutate });
    },
    close: async () => {
      server.forceShutdown();
      await relay.close();
    },
  };
}

/**
 * A TCP relay in front of the gRPC server: grpc-js gives a handler no access to its connection,
 * and the `drop` failpoint must cut connections as a network does (a reset the client sees at
 * once as `UNAVAILABLE`, not a polite HTTP/2 cancel).
 */
async function startRelay(host: string, port: number, innerPort: number): Promise<{ port: number; dropAll(): void; close(): Promise<void> }> {
  const pairs = new Set<{ down: Socket; up: Socket }>();
  const relay = createServer((down) => {
    const up = connect(innerPort, host);
    const pair = { down, up };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(port, host, () => resolve());
  });
  return {
    port: (relay.address() as AddressInfo).port,
    dropAll() {
      for (const { down, up } of [...pairs]) {
        down.resetAndDestroy();
        up.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { down, up } of pairs) {
          down.destroy();
          up.destroy();
        }
        relay.close(() => resolve());
      }),
  };
}
