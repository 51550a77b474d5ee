/**
 * What the Cloud KMS emulator's parts share: records, gRPC errors, the service definition, names,
 * limits, the ciphertext layout and the field and checksum helpers of the wire format.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { crc32c } from './crc32c.js';
import type { GcpKmsEmulatorAlgorithm, GcpKmsEmulatorPurpose, GcpKmsEmulatorVersionState } from './types.js';

export interface VersionRecord {
  readonly id: number;
  state: GcpKmsEmulatorVersionState;
  readonly algorithm: GcpKmsEmulatorAlgorithm;
  readonly createTime: Date;
  /** AES-256 key for symmetric versions. */
  readonly secret?: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKeyPem?: string;
}

export interface CryptoKeyRecord {
  readonly name: string;
  readonly purpose: GcpKmsEmulatorPurpose;
  readonly algorithm: GcpKmsEmulatorAlgorithm;
  readonly createTime: Date;
  readonly versions: Map<number, VersionRecord>;
  primary: number | undefined;
  nextVersion: number;
}

export type Request = Record<string, unknown>;
export type Response = Record<string, unknown>;

export class RpcError extends Error {
  readonly code: grpc.status;
  readonly details: string;
  constructor(code: grpc.status, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}

export const LOCATION = /^projects\/[a-z0-9-]{1,63}\/locations\/[a-z0-9-]{1,63}$/;
export const RESOURCE_ID = /^[a-zA-Z0-9_-]{1,63}$/;
export const VERSION_NAME = /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/([1-9][0-9]{0,9})$/;
// Cloud KMS caps Encrypt plaintext and AAD at 64 KiB.
export const MAX_DATA = 64 * 1024;
// The emulator's ciphertext: tag byte, 32-bit version id, 12-byte IV, AES-256-GCM output, 16-byte tag.
export const CIPHERTEXT_TAG = 0x47;
export const HEADER_LEN = 5;
export const IV_LEN = 12;
export const GCM_TAG_LEN = 16;

export const RSA_BITS: Partial<Record<GcpKmsEmulatorAlgorithm, { bits: number; hash: string }>> = {
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
export function kmsService(): grpc.ServiceDefinition {
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

export function timestamp(date: Date): { seconds: string; nanos: number } {
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

export function bytesField(request: Request, field: string): Buffer {
  const value = request[field];
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new RpcError(grpc.status.INVALID_ARGUMENT, `${field} must be bytes`);
}

export function stringField(request: Request, field: string): string {
  const value = request[field];
  return typeof value === 'string' ? value : '';
}

/** Check an optional `google.protobuf.Int64Value` checksum field; returns whether one was sent. */
export function checkCrc(request: Request, crcField: string, data: Buffer, dataField: string): boolean {
  const wrapper = request[crcField] as { value?: unknown } | undefined | null;
  if (wrapper === undefined || wrapper === null) return false;
  const sent = Number(wrapper.value ?? 0);
  if (sent !== crc32c(data)) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `The checksum in field ${crcField.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} did not match the data in field ${dataField}.`);
  }
  return true;
}

export function crcValue(data: Buffer): { value: string } {
  return { value: String(crc32c(data)) };
}
