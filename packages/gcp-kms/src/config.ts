/**
 * {@link keyringFromConfig}: a Cloud KMS keyring from a plain JSON object (the `fieldseal` CLI
 * loads `gcp-kms:<config.json>` through it).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from '@fieldseal/core';
import { grpc, type ClientOptions } from 'google-gax';
import { GcpKmsKeyring } from './keyring.js';
import { isCryptoKeyVersionName } from './names.js';
import { GcpKmsRsaKeyring } from './rsa-keyring.js';

/**
 * The JSON configuration of a Cloud KMS keyring. Only `keyName` is required; unknown fields are
 * rejected, so a typo cannot silently fall back to a default. Credentials are never in the file:
 * Application Default Credentials are used, or the service-account key file named by `keyFilename`.
 */
export interface GcpKmsConfig {
  /** The CryptoKey (symmetric) or CryptoKeyVersion (asymmetric, or a pinned symmetric version). */
  readonly keyName: string;
  /** `symmetric` (default: Encrypt/Decrypt in Cloud KMS) or `asymmetric` (RSA-OAEP-256 wrap locally, AsymmetricDecrypt). */
  readonly mode?: 'symmetric' | 'asymmetric';
  /** Asymmetric mode: a PEM file with the version's public key, instead of fetching it with `GetPublicKey`. */
  readonly publicKeyFile?: string;
  /** Google Cloud project for quota and billing. Default: from the credentials. */
  readonly projectId?: string;
  /** A service-account key file (JSON). Default: Application Default Credentials. */
  readonly keyFilename?: string;
  /** Service host, e.g. a regional or Private Service Connect endpoint. Default `cloudkms.googleapis.com`. */
  readonly apiEndpoint?: string;
  /** Service port. Default 443. */
  readonly port?: number;
  /** Universe domain. Default `googleapis.com`. */
  readonly universeDomain?: string;
  /** Plaintext gRPC with no credentials: only for an emulator on a loopback `apiEndpoint`. */
  readonly insecure?: boolean;
  /** TLS trusting this CA file, with no Google credentials: only for an emulator on a loopback `apiEndpoint`. The server's certificate must hold the name `localhost` (the emulators' does). */
  readonly caFile?: string;
  /** Deadline of each attempt, in milliseconds. Default 5,000. */
  readonly timeoutMs?: number;
  /** Attempts per call, including the first. Default 3. */
  readonly maxAttempts?: number;
  /** Total deadline of one keyring operation, in milliseconds. Default 30,000. */
  readonly deadlineMs?: number;
}

/** Where {@link keyringFromConfig} resolves relative paths. */
export interface GcpKmsKeyringFromConfigOptions {
  /** Directory that relative `publicKeyFile`, `keyFilename` and `caFile` paths are resolved against. Default: the working directory. */
  readonly baseDir?: string;
}

const FIELDS: Record<keyof GcpKmsConfig, 'string' | 'number' | 'boolean'> = {
  keyName: 'string',
  mode: 'string',
  publicKeyFile: 'string',
  projectId: 'string',
  keyFilename: 'string',
  apiEndpoint: 'string',
  port: 'number',
  universeDomain: 'string',
  insecure: 'boolean',
  caFile: 'string',
  timeoutMs: 'number',
  maxAttempts: 'number',
  deadlineMs: 'number',
};

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Build a {@link GcpKmsKeyring} (or, with `"mode": "asymmetric"`, a {@link GcpKmsRsaKeyring}) from
 * a plain JSON object. The keyring builds and owns its `KeyManagementServiceClient`; call its
 * `close()` when done.
 *
 * @param config - The parsed JSON, e.g. `{ "keyName": "projects/p/locations/global/keyRings/app/cryptoKeys/kek" }`.
 * @param options - Base directory for relative paths.
 * @returns The keyring. Nothing is sent to Cloud KMS until it is used.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a config that is not an
 *   object, an unknown field, a field of the wrong type, a bad key name for the mode, `insecure` or
 *   `caFile` with a non-loopback endpoint, or an unreadable file.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { keyringFromConfig } from '@fieldseal/gcp-kms';
 *
 * const keyring = await keyringFromConfig(JSON.parse(await readFile('gcp-kms.json', 'utf8')));
 * ```
 */
export async function keyringFromConfig(config: unknown, options: GcpKmsKeyringFromConfigOptions = {}): Promise<GcpKmsKeyring | GcpKmsRsaKeyring> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new InvalidArgumentError('gcp-kms config must be a JSON object');
  // Own data properties only, into an object with no prototype: inherited or accessor values are never read.
  const c: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    const desc = Object.getOwnPropertyDescriptor(config, key);
    c[key] = desc && 'value' in desc ? desc.value : undefined;
  }
  for (const key of Object.keys(c)) {
    const type = Object.hasOwn(FIELDS, key) ? FIELDS[key as keyof GcpKmsConfig] : undefined;
    if (type === undefined) throw new InvalidArgumentError(`gcp-kms config: unknown field "${key}" (known: ${Object.keys(FIELDS).join(', ')})`);
    if (typeof c[key] !== type) throw new InvalidArgumentError(`gcp-kms config: "${key}" must be a ${type}`);
  }
  const cfg = c as unknown as GcpKmsConfig;
  if (cfg.keyName === undefined) throw new InvalidArgumentError('gcp-kms config: "keyName" is required');
  const mode = cfg.mode ?? 'symmetric';
  if (mode !== 'symmetric' && mode !== 'asymmetric') throw new InvalidArgumentError('gcp-kms config: "mode" must be "symmetric" or "asymmetric"');
  if (mode === 'asymmetric' && !isCryptoKeyVersionName(cfg.keyName)) throw new InvalidArgumentError('gcp-kms config: asymmetric mode needs a CryptoKeyVersion name in "keyName"');
  if (mode === 'symmetric' && cfg.publicKeyFile !== undefined) throw new InvalidArgumentError('gcp-kms config: "publicKeyFile" is for asymmetric mode');
  if (cfg.insecure === true && cfg.caFile !== undefined) throw new InvalidArgumentError('gcp-kms config: "insecure" and "caFile" exclude each other');
  if (cfg.port !== undefined && (!Number.isInteger(cfg.port) || cfg.port < 1 || cfg.port > 65535)) throw new InvalidArgumentError('gcp-kms config: "port" must be an integer from 1 to 65535');

  const path = (p: string): string => (isAbsolute(p) ? p : resolve(options.baseDir ?? process.cwd(), p));
  const read = async (field: string, p: string): Promise<string> => {
    try {
      return await readFile(path(p), 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`gcp-kms config: cannot read "${field}"`, { cause: err });
    }
  };

  const clientOptions: ClientOptions = {};
  if (cfg.projectId !== undefined) clientOptions.projectId = cfg.projectId;
  if (cfg.keyFilename !== undefined) clientOptions.keyFilename = path(cfg.keyFilename);
  if (cfg.apiEndpoint !== undefined) clientOptions.apiEndpoint = cfg.apiEndpoint;
  if (cfg.port !== undefined) clientOptions.port = cfg.port;
  if (cfg.universeDomain !== undefined) clientOptions.universeDomain = cfg.universeDomain;
  if (cfg.insecure === true || cfg.caFile !== undefined) {
    /* Precondition: credential-less channels are for a loopback emulator only, never a real endpoint. */
    if (cfg.apiEndpoint === undefined || !isLoopback(cfg.apiEndpoint)) {
      throw new InvalidArgumentError('gcp-kms config: "insecure" and "caFile" are for a loopback emulator: set "apiEndpoint" to 127.0.0.1, ::1 or localhost');
    }
    clientOptions.sslCreds = cfg.caFile === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(await read('caFile', cfg.caFile)));
    // gRPC would send an IP endpoint as the TLS server name, which RFC 6066 forbids (Node's DEP0123):
    // name the host instead; the emulators' certificate holds `localhost`.
    if (cfg.caFile !== undefined && cfg.apiEndpoint !== 'localhost') clientOptions['grpc.ssl_target_name_override'] = 'localhost';
    // Known up front, so the client never asks Application Default Credentials (or a metadata server) for it.
    clientOptions.universeDomain ??= 'googleapis.com';
  }
  const retry = {
    ...(cfg.timeoutMs !== undefined ? { attemptTimeoutMs: cfg.timeoutMs } : {}),
    ...(cfg.maxAttempts !== undefined ? { maxAttempts: cfg.maxAttempts } : {}),
    ...(cfg.deadlineMs !== undefined ? { deadlineMs: cfg.deadlineMs } : {}),
  };
  if (mode === 'asymmetric') {
    const publicKey = cfg.publicKeyFile === undefined ? undefined : await read('publicKeyFile', cfg.publicKeyFile);
    return new GcpKmsRsaKeyring({ keyVersionName: cfg.keyName, ...(publicKey !== undefined ? { publicKey } : {}), clientOptions, retry });
  }
  return new GcpKmsKeyring({ keyName: cfg.keyName, clientOptions, retry });
}
