import type { TokenCredential } from '@azure/core-auth';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { InvalidArgumentError } from '@fieldseal/core';
import type { Keyring } from '@fieldseal/core';
import { AzureCredentialRequiredError } from './errors.js';
import { AZURE_KEYVAULT_PROVIDER_ID } from './key-id.js';
import { AzureKeyVaultKeyring } from './keyring.js';
import type { AzureKeyVaultKeyringOptions } from './keyring.js';
import { AzureKeyVaultPublicKeyKeyring } from './public-key.js';
import type { AzurePublicKeyJwk } from './public-key.js';

/**
 * The JSON configuration {@link keyringFromConfig} accepts (for example the file behind the CLI's
 * `azure-keyvault:<config.json>` keyring spec). Unknown members are rejected, so a typo fails loudly.
 */
export interface AzureKeyVaultKeyringConfig {
  /** Optional tag; when present it must be `azure-keyvault`. */
  readonly provider?: 'azure-keyvault';
  /** `https://{vault}.vault.azure.net/keys/{name}[/{version}]`. */
  readonly keyId: string;
  /** `RSA-OAEP-256` (default) or `A256KW`. */
  readonly algorithm?: 'RSA-OAEP-256' | 'A256KW';
  /** `remote` (default) or `local` (client-side wrap with the public key). */
  readonly wrapMode?: 'remote' | 'local';
  /** Public key (JWK or SPKI PEM) for `wrapMode: local` or `publicKeyOnly`. */
  readonly publicKey?: AzurePublicKeyJwk | string;
  /** Build a wrap-only {@link AzureKeyVaultPublicKeyKeyring}: needs no credential, cannot decrypt. */
  readonly publicKeyOnly?: boolean;
  /** Timeout of each HTTP attempt, ms. */
  readonly timeoutMs?: number;
  /** Retry policy. */
  readonly retry?: { readonly maxRetries?: number; readonly retryDelayMs?: number; readonly maxRetryDelayMs?: number; readonly deadlineMs?: number };
  /** Key Vault REST API version, e.g. `7.5`. Default: the SDK's. */
  readonly serviceVersion?: string;
  /** Allow `http://` key ids (emulators only). Default false. */
  readonly allowInsecureConnection?: boolean;
  /** Skip the check that the auth challenge's resource matches the vault's domain (emulators, sovereign clouds). Default false. */
  readonly disableChallengeResourceVerification?: boolean;
  /** PEM file of extra CA certificates to trust for the vault's TLS certificate (Node only; a relative path is relative to the working directory). */
  readonly tlsCaFile?: string;
  /**
   * A fixed bearer token for a loopback emulator (`fieldseal-emulators azure`), so offline tools need
   * no credential. Refused unless the key id's host is loopback; when present it is used instead of
   * any credential passed in.
   */
  readonly emulatorToken?: string;
}

const ALLOWED = new Set(['$schema', 'provider', 'keyId', 'algorithm', 'wrapMode', 'publicKey', 'publicKeyOnly', 'timeoutMs', 'retry', 'serviceVersion', 'allowInsecureConnection', 'disableChallengeResourceVerification', 'tlsCaFile', 'emulatorToken']);
const RETRY_ALLOWED = new Set(['maxRetries', 'retryDelayMs', 'maxRetryDelayMs', 'deadlineMs']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function optional<T>(obj: Record<string, unknown>, key: string, check: (v: unknown) => v is T, expected: string): T | undefined {
  const value = own(obj, key);
  if (value === undefined) return undefined;
  if (!check(value)) throw new InvalidArgumentError(`azure-keyvault config: "${key}" must be ${expected}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Build an Azure Key Vault keyring from a plain JSON object.
 *
 * ```json
 * { "keyId": "https://my-vault.vault.azure.net/keys/fieldseal-kek",
 *   "algorithm": "RSA-OAEP-256", "timeoutMs": 10000, "retry": { "maxRetries": 3 } }
 * ```
 * See {@link AzureKeyVaultKeyringConfig} for every member.
 *
 * @param config - The parsed JSON configuration.
 * @param options - The `TokenCredential` to call Key Vault with (e.g. `new DefaultAzureCredential()`).
 * Not needed for `publicKeyOnly`.
 * @returns An {@link AzureKeyVaultKeyring}, or an {@link AzureKeyVaultPublicKeyKeyring} for `publicKeyOnly`.
 * @throws {@link AzureCredentialRequiredError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when a credential is needed and none was given.
 * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` for an invalid or unknown member.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { keyringFromConfig } from '@fieldseal/azure-keyvault';
 *
 * const config = JSON.parse(await readFile('azure-keyvault.json', 'utf8'));
 * const keyring = await keyringFromConfig(config, { credential: new DefaultAzureCredential() });
 * ```
 */
export async function keyringFromConfig(config: unknown, options: { credential?: TokenCredential } = {}): Promise<Keyring> {
  if (!isPlainObject(config)) throw new InvalidArgumentError('azure-keyvault config must be a JSON object');
  for (const key of Object.keys(config)) {
    if (!ALLOWED.has(key)) throw new InvalidArgumentError(`azure-keyvault config: unknown member "${key.slice(0, 64)}"`);
  }
  const provider = own(config, 'provider');
  if (provider !== undefined && provider !== AZURE_KEYVAULT_PROVIDER_ID) throw new InvalidArgumentError('azure-keyvault config: "provider" must be "azure-keyvault"');
  const keyId = own(config, 'keyId');
  if (!isString(keyId)) throw new InvalidArgumentError('azure-keyvault config: "keyId" is required (https://<vault>.vault.azure.net/keys/<name>[/<version>])');
  const publicKey = own(config, 'publicKey');
  if (publicKey !== undefined && typeof publicKey !== 'string' && !isPlainObject(publicKey)) throw new InvalidArgumentError('azure-keyvault config: "publicKey" must be a JWK object or a PEM string');
  const publicKeyOnly = optional(config, 'publicKeyOnly', isBoolean, 'a boolean') ?? false;

  if (publicKeyOnly) {
    if (publicKey === undefined) throw new InvalidArgumentError('azure-keyvault config: "publicKeyOnly" needs "publicKey"');
    return AzureKeyVaultPublicKeyKeyring.create({ publicKey: publicKey as AzurePublicKeyJwk | string, keyId });
  }

  const retryValue = own(config, 'retry');
  if (retryValue !== undefined) {
    if (!isPlainObject(retryValue)) throw new InvalidArgumentError('azure-keyvault config: "retry" must be an object');
    for (const key of Object.keys(retryValue)) {
      if (!RETRY_ALLOWED.has(key)) throw new InvalidArgumentError(`azure-keyvault config: unknown member "retry.${key.slice(0, 64)}"`);
    }
  }
  const clientOptions: KeyClientOptions = {};
  const serviceVersion = optional(config, 'serviceVersion', isString, 'a string');
  if (serviceVersion !== undefined) clientOptions.serviceVersion = serviceVersion;
  if (optional(config, 'allowInsecureConnection', isBoolean, 'a boolean')) clientOptions.allowInsecureConnection = true;
  if (optional(config, 'disableChallengeResourceVerification', isBoolean, 'a boolean')) clientOptions.disableChallengeResourceVerification = true;
  const tlsCaFile = optional(config, 'tlsCaFile', isString, 'a file path');
  if (tlsCaFile !== undefined) {
    const { readFile } = await import('node:fs/promises');
    let ca: string;
    try {
      ca = await readFile(tlsCaFile, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError('azure-keyvault config: "tlsCaFile" could not be read', { cause: err });
    }
    clientOptions.tlsOptions = { ca };
  }

  const emulatorToken = optional(config, 'emulatorToken', isString, 'a string');
  let credential: TokenCredential | undefined;
  if (emulatorToken !== undefined) {
    /* Precondition: a fixed token only ever goes to an emulator on this machine. */
    if (!isLoopbackHost(new URL(keyId).hostname)) throw new InvalidArgumentError('azure-keyvault config: "emulatorToken" is only accepted for a loopback key id (127.0.0.1, ::1, localhost)');
    credential = { getToken: async () => ({ token: emulatorToken, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  } else {
    credential = options !== null && typeof options === 'object' ? options.credential : undefined;
  }
  if (credential === undefined) throw new AzureCredentialRequiredError();
  const keyringOptions: AzureKeyVaultKeyringOptions = {
    keyId,
    credential,
    clientOptions,
    ...(retryValue === undefined ? {} : { retry: retryValue as AzureKeyVaultKeyringOptions['retry'] & object }),
    ...(own(config, 'timeoutMs') === undefined ? {} : { timeoutMs: optional(config, 'timeoutMs', isNumber, 'a number') as number }),
    ...(own(config, 'algorithm') === undefined ? {} : { algorithm: own(config, 'algorithm') as AzureKeyVaultKeyringOptions['algorithm'] & string }),
    ...(own(config, 'wrapMode') === undefined ? {} : { wrapMode: own(config, 'wrapMode') as AzureKeyVaultKeyringOptions['wrapMode'] & string }),
    ...(publicKey === undefined ? {} : { publicKey: publicKey as AzurePublicKeyJwk | string }),
  };
  return new AzureKeyVaultKeyring(keyringOptions);
}
