import type { TokenCredential } from '@azure/core-auth';
import type { KeyClient, KeyClientOptions } from '@azure/keyvault-keys';
import { InvalidArgumentError, ProviderError } from '@fieldseal/core';
import { toBase64url } from './bytes.js';
import { createKeyClient } from './client.js';
import type { AzureKeyVaultRetryOptions } from './client.js';
import { toProviderError } from './errors.js';
import { AZURE_KEYVAULT_PROVIDER_ID, formatAzureKeyId, parseAzureKeyId, sameAzureKey } from './key-id.js';
import type { AzureKeyId } from './key-id.js';
import type { AzurePublicKeyJwk } from './public-key.js';

/** Options of {@link fetchAzurePublicKey}. */
export interface FetchAzurePublicKeyOptions {
  /** Any `TokenCredential` (needs the `keys/get` permission). Required unless `keyClient` is given. */
  readonly credential?: TokenCredential;
  /** A configured KeyClient for the key's vault. */
  readonly keyClient?: KeyClient;
  /** Options for the KeyClient created here. */
  readonly clientOptions?: KeyClientOptions;
  /** Retry policy. */
  readonly retry?: AzureKeyVaultRetryOptions;
}

/** @internal */
export async function fetchPublicKeyWith(keyClient: KeyClient, key: AzureKeyId, operationOptions: object): Promise<AzurePublicKeyJwk> {
  const keyId = key.version === undefined ? `${key.vaultUrl}/keys/${key.name}` : formatAzureKeyId(key, key.version);
  let fetched;
  try {
    fetched = await keyClient.getKey(key.name, { ...operationOptions, ...(key.version === undefined ? {} : { version: key.version }) });
  } catch (err) {
    throw toProviderError(err, keyId, 'getKey');
  }
  const jwk = fetched.key;
  const kid = fetched.id;
  if (jwk === undefined || (jwk.kty !== 'RSA' && jwk.kty !== 'RSA-HSM') || jwk.n === undefined || jwk.e === undefined || kid === undefined) {
    throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, kind: 'invalid-request', retryable: false, message: 'the key is not an RSA key with a public modulus, so it cannot wrap client-side' });
  }
  let reported: AzureKeyId;
  try {
    reported = parseAzureKeyId(kid, 'kid');
  } catch {
    throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, kind: 'other', retryable: false, message: 'Key Vault returned an invalid kid' });
  }
  if (!sameAzureKey(key, reported) || reported.version === undefined || (key.version !== undefined && key.version.toLowerCase() !== reported.version.toLowerCase())) {
    throw new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, kind: 'other', retryable: false, message: 'Key Vault returned a kid that does not belong to the requested key' });
  }
  return { kty: 'RSA', n: toBase64url(jwk.n), e: toBase64url(jwk.e), kid: formatAzureKeyId(key, reported.version) };
}

/**
 * Fetch the public half of a Key Vault RSA key as a JWK with its versioned `kid`: what a server
 * hands to browsers for {@link AzureKeyVaultPublicKeyKeyring} (client-side mode). A versionless key
 * id fetches the latest version. The result holds no secret and can be cached and published.
 *
 * @param keyId - `https://{vault}/keys/{name}[/{version}]`.
 * @param options - A credential (or a configured KeyClient), client options and retries.
 * @returns `{ kty: 'RSA', n, e, kid }` with base64url members.
 * @throws `ProviderError` `ERR_FIELDSEAL_PROVIDER` when Key Vault fails or the key is not RSA.
 * @throws `InvalidArgumentError` `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed key id or a missing credential.
 * @example
 * ```ts
 * const jwk = await fetchAzurePublicKey('https://my-vault.vault.azure.net/keys/browser-kek', { credential });
 * res.json(jwk); // the browser builds AzureKeyVaultPublicKeyKeyring.create({ publicKey: jwk })
 * ```
 */
export async function fetchAzurePublicKey(keyId: string, options: FetchAzurePublicKeyOptions): Promise<AzurePublicKeyJwk> {
  const key = parseAzureKeyId(keyId);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  const keyClient = options.keyClient ?? createKeyClient(key.vaultUrl, options.credential, options.clientOptions, options.retry);
  return fetchPublicKeyWith(keyClient, key, {});
}
