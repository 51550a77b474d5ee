// Azure Key Vault key identifiers, parsed without the Azure SDK so the browser entry point can use them.
import { InvalidArgumentError } from '@fieldseal/core';

/** The provider id written into every wrapped key this package produces. */
export const AZURE_KEYVAULT_PROVIDER_ID = 'azure-keyvault';

/**
 * A parsed Key Vault key identifier.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export interface AzureKeyId {
  /** Origin of the vault or Managed HSM, e.g. `https://myvault.vault.azure.net` (host lowercased, default port dropped). */
  readonly vaultUrl: string;
  /** Key name. */
  readonly name: string;
  /** Key version, or `undefined` for a versionless id (the latest version). */
  readonly version: string | undefined;
}

const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const KEY_VERSION = /^[0-9a-zA-Z]{1,64}$/;

/**
 * Parse `https://{vault}/keys/{name}` or `https://{vault}/keys/{name}/{version}`.
 *
 * @param keyId - The key identifier (a Key Vault `kid`).
 * @param what - How to name the value in error messages.
 * @returns The vault origin, name and optional version.
 * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` when it is not a key id.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function parseAzureKeyId(keyId: string, what = 'keyId'): AzureKeyId {
  if (typeof keyId !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  let url: URL;
  try {
    url = new URL(keyId);
  } catch {
    throw new InvalidArgumentError(`${what} is not a URL; expected https://<vault>.vault.azure.net/keys/<name>[/<version>]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError(`${what} must be an https URL`);
  if (url.username || url.password || url.search || url.hash) throw new InvalidArgumentError(`${what} must not contain credentials, a query or a fragment`);
  const parts = url.pathname.split('/');
  // ['', 'keys', name] or ['', 'keys', name, ''] or ['', 'keys', name, version]
  if (parts.length < 3 || parts.length > 4 || parts[0] !== '' || parts[1] !== 'keys') {
    throw new InvalidArgumentError(`${what} must have the form https://<vault>/keys/<name>[/<version>]`);
  }
  const name = parts[2]!;
  const version = parts[3] === undefined || parts[3] === '' ? undefined : parts[3];
  if (!KEY_NAME.test(name)) throw new InvalidArgumentError(`${what} has an invalid key name (1-127 characters of 0-9, a-z, A-Z, -)`);
  if (version !== undefined && !KEY_VERSION.test(version)) throw new InvalidArgumentError(`${what} has an invalid key version`);
  return { vaultUrl: url.origin, name, version };
}

/** The canonical, versioned key id recorded in wrapped keys: `{vaultUrl}/keys/{name}/{version}`. */
export function formatAzureKeyId(key: { readonly vaultUrl: string; readonly name: string }, version: string): string {
  return `${key.vaultUrl}/keys/${key.name}/${version}`;
}

/** Whether `candidate` names the same key (same vault, same name; Key Vault names are case-insensitive). */
export function sameAzureKey(configured: AzureKeyId, candidate: AzureKeyId): boolean {
  return configured.vaultUrl === candidate.vaultUrl && configured.name.toLowerCase() === candidate.name.toLowerCase();
}
