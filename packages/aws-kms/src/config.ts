/**
 * Build a keyring from a plain JSON object (the `fieldseal` CLI's `aws-kms:<config.json>` specs).
 * @module
 */
import { InvalidArgumentError } from '@fieldseal/core/errors';
import type { Keyring } from '@fieldseal/core';
import type { AwsKmsClientOptions } from './client.js';
import { AwsKmsKeyring } from './keyring.js';
import { AwsKmsRsaKeyring } from './rsa-keyring.js';

/**
 * The JSON accepted by {@link keyringFromConfig}. Unknown properties are rejected, so a typo does
 * not silently fall back to a default.
 */
export interface AwsKmsKeyringConfig {
  /** `symmetric` (default): {@link AwsKmsKeyring}. `rsa`: {@link AwsKmsRsaKeyring}. */
  readonly type?: 'symmetric' | 'rsa';
  /** Key ARNs / aliases / key ids; the first generates. Symmetric only (or use `keyId` for one key). */
  readonly keyIds?: readonly string[];
  /** One key; the only form for `rsa`. */
  readonly keyId?: string;
  /** Region for aliases and key ids, and for the SDK. Default: from the key ARN, else `AWS_REGION`/profile. */
  readonly region?: string;
  /** Endpoint override (VPC endpoint, emulator). Default: the SDK's, which honours `AWS_ENDPOINT_URL_KMS`. */
  readonly endpoint?: string;
  /** Shared-config profile. Default: `AWS_PROFILE` / the default chain. */
  readonly profile?: string;
  /**
   * Static credentials. Discouraged: prefer the default chain (environment, SSO, instance or task
   * role). Default: the default chain.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Symmetric only: unwrap with keys the document names from these accounts. Off by default. */
  readonly discovery?: { readonly accountIds: readonly string[]; readonly partition?: string; readonly regions?: readonly string[] };
  /** Grant tokens sent with every call. */
  readonly grantTokens?: readonly string[];
  /** RSA only: the public key PEM, so wrapping needs no KMS call. */
  readonly publicKeyPem?: string;
  /** Attempts per call (default 3), connect timeout (default 3,000 ms), per-attempt timeout (default 10,000 ms), total deadline per keyring operation (default 30,000 ms). */
  readonly maxAttempts?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly deadlineMs?: number;
}

const ALLOWED = new Set([
  'type',
  'keyIds',
  'keyId',
  'region',
  'endpoint',
  'profile',
  'credentials',
  'discovery',
  'grantTokens',
  'publicKeyPem',
  'maxAttempts',
  'connectionTimeoutMs',
  'requestTimeoutMs',
  'deadlineMs',
  '$schema',
  'comment',
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function str(o: Record<string, unknown>, key: string): string | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError(`aws-kms config: "${key}" must be a non-empty string`);
  return v;
}

function int(o: Record<string, unknown>, key: string): number | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`aws-kms config: "${key}" must be a positive integer`);
  return v;
}

function strings(o: Record<string, unknown>, key: string): string[] | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new InvalidArgumentError(`aws-kms config: "${key}" must be an array of strings`);
  return [...(v as string[])];
}

/**
 * Build an AWS KMS keyring from a plain JSON object, as read from a config file. Credentials come
 * from the SDK's default chain unless `profile` or `credentials` says otherwise.
 *
 * Importable from `@fieldseal/aws-kms`.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { keyringFromConfig } from '@fieldseal/aws-kms';
 * // kms.json: { "keyIds": ["arn:aws:kms:eu-west-1:111122223333:key/…"], "region": "eu-west-1" }
 * const keyring = await keyringFromConfig(JSON.parse(await readFile('kms.json', 'utf8')));
 * ```
 * @param config The parsed JSON (see {@link AwsKmsKeyringConfig}).
 * @returns An {@link AwsKmsKeyring} or an {@link AwsKmsRsaKeyring}.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the object is malformed or has unknown properties.
 */
export async function keyringFromConfig(config: unknown): Promise<Keyring> {
  if (!isPlainObject(config)) throw new InvalidArgumentError('aws-kms config must be a JSON object');
  for (const key of Object.keys(config)) if (!ALLOWED.has(key)) throw new InvalidArgumentError(`aws-kms config: unknown property "${key.slice(0, 64)}"`);
  const type = own(config, 'type') ?? 'symmetric';
  if (type !== 'symmetric' && type !== 'rsa') throw new InvalidArgumentError('aws-kms config: "type" must be "symmetric" or "rsa"');

  const keyId = str(config, 'keyId');
  const keyIds = strings(config, 'keyIds');
  if (keyId !== undefined && keyIds !== undefined) throw new InvalidArgumentError('aws-kms config: give "keyId" or "keyIds", not both');

  const clientOptions: { -readonly [K in keyof AwsKmsClientOptions]: AwsKmsClientOptions[K] } = {};
  const region = str(config, 'region');
  if (region !== undefined) clientOptions.region = region;
  const endpoint = str(config, 'endpoint');
  if (endpoint !== undefined) clientOptions.endpoint = endpoint;
  const profile = str(config, 'profile');
  if (profile !== undefined) clientOptions.profile = profile;
  const maxAttempts = int(config, 'maxAttempts');
  if (maxAttempts !== undefined) clientOptions.maxAttempts = maxAttempts;
  const connectionTimeoutMs = int(config, 'connectionTimeoutMs');
  if (connectionTimeoutMs !== undefined) clientOptions.connectionTimeoutMs = connectionTimeoutMs;
  const requestTimeoutMs = int(config, 'requestTimeoutMs');
  if (requestTimeoutMs !== undefined) clientOptions.requestTimeoutMs = requestTimeoutMs;
  const deadlineMs = int(config, 'deadlineMs');
  if (deadlineMs !== undefined) clientOptions.deadlineMs = deadlineMs;
  const creds = own(config, 'credentials');
  if (creds !== undefined) {
    if (!isPlainObject(creds)) throw new InvalidArgumentError('aws-kms config: "credentials" must be an object');
    for (const k of Object.keys(creds)) if (!['accessKeyId', 'secretAccessKey', 'sessionToken'].includes(k)) throw new InvalidArgumentError(`aws-kms config: unknown credentials property "${k.slice(0, 64)}"`);
    const accessKeyId = str(creds, 'accessKeyId');
    const secretAccessKey = str(creds, 'secretAccessKey');
    const sessionToken = str(creds, 'sessionToken');
    if (accessKeyId === undefined || secretAccessKey === undefined) throw new InvalidArgumentError('aws-kms config: "credentials" needs accessKeyId and secretAccessKey');
    clientOptions.credentials = { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
  }
  const grantTokens = strings(config, 'grantTokens');

  if (type === 'rsa') {
    if (keyIds !== undefined && keyIds.length !== 1) throw new InvalidArgumentError('aws-kms config: an rsa keyring has exactly one key');
    const id = keyId ?? keyIds?.[0];
    if (id === undefined) throw new InvalidArgumentError('aws-kms config: "keyId" is required');
    if (own(config, 'discovery') !== undefined) throw new InvalidArgumentError('aws-kms config: "discovery" applies to symmetric keyrings only');
    const publicKeyPem = str(config, 'publicKeyPem');
    return new AwsKmsRsaKeyring({ keyId: id, ...clientOptions, ...(publicKeyPem !== undefined ? { publicKey: publicKeyPem } : {}), ...(grantTokens ? { grantTokens } : {}) });
  }

  if (own(config, 'publicKeyPem') !== undefined) throw new InvalidArgumentError('aws-kms config: "publicKeyPem" applies to rsa keyrings only');
  const discovery = own(config, 'discovery');
  let discoveryOption: { accountIds: string[]; partition?: string; regions?: string[] } | undefined;
  if (discovery !== undefined) {
    if (!isPlainObject(discovery)) throw new InvalidArgumentError('aws-kms config: "discovery" must be an object');
    for (const k of Object.keys(discovery)) if (!['accountIds', 'partition', 'regions'].includes(k)) throw new InvalidArgumentError(`aws-kms config: unknown discovery property "${k.slice(0, 64)}"`);
    const accountIds = strings(discovery, 'accountIds');
    if (accountIds === undefined) throw new InvalidArgumentError('aws-kms config: "discovery.accountIds" is required');
    const partition = str(discovery, 'partition');
    const regions = strings(discovery, 'regions');
    discoveryOption = { accountIds, ...(partition !== undefined ? { partition } : {}), ...(regions !== undefined ? { regions } : {}) };
  }
  const ids = keyIds ?? (keyId !== undefined ? [keyId] : []);
  return new AwsKmsKeyring({ keyIds: ids, ...clientOptions, ...(discoveryOption ? { discovery: discoveryOption } : {}), ...(grantTokens ? { grantTokens } : {}) });
}
