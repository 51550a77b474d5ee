/**
 * fieldseal keyring for HashiCorp Vault transit: data keys generated, wrapped, unwrapped and
 * re-wrapped by a transit key, with the encryption context bound in Vault.
 *
 * @module
 */
export {
  VaultTransitKeyring,
  parseVaultTransitKeyId,
  type VaultTransitKeyringOptions,
  type VaultContextBinding,
  type VaultTokenSource,
  type VaultTransitKeyInfo,
  type VaultTransitRetryOptions,
} from './keyring.js';
export { keyringFromConfig, type VaultTransitConfig, type KeyringFromConfigOptions } from './config.js';
export { VAULT_TRANSIT_PROVIDER, VaultKeyNotDerivedError, VaultTransitRequestError, toProviderError } from './errors.js';
export type { VaultTransitClient, VaultRequestOptions } from './client.js';
