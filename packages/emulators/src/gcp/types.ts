/**
 * The public types of the Google Cloud KMS emulator.
 * @module
 */
import type * as grpc from '@grpc/grpc-js';
import type { EmulatorHandle, EmulatorOptions } from '../harness.js';

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
