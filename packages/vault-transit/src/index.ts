/**
 * fieldseal keyring for HashiCorp Vault transit: data keys generated, wrapped, unwrapped and
 * re-wrapped by a transit key, with the encryption context bound in Vault.
 *
 * @module
 */
export { VaultTransitKeyring } from './keyring.js';
export { parseVaultTransitKeyId } from './wire.js';
export type { VaultTransitKeyringOptions, VaultContextBinding, VaultTokenSource, VaultTransitKeyInfo, VaultTransitRetryOptions } from './options.js';
export { keyringFromConfig, type VaultTransitConfig, type KeyringFromConfigOptions } from './config.js';
export { VAULT_TRANSIT_PROVIDER, VaultKeyNotDerivedError, VaultTransitRequestError, toProviderError } from './errors.js';
export type { VaultTransitClient, VaultRequestOptions } from './client.js';
