/**
 * fieldseal keyring for Azure Key Vault and Managed HSM, over `@azure/keyvault-keys`.
 *
 * Provider id `azure-keyvault`; wrapped keys record the full versioned kid. The browser-safe,
 * public-key-only keyring is also importable alone from `@fieldseal/azure-keyvault/public-key`.
 * @module
 */
export { AzureKeyVaultKeyring } from './keyring.js';
export type { AzureKeyVaultKeyringOptions, AzureKeyWrapAlgorithm, AzureWrapMode } from './keyring.js';
export type { AzureKeyVaultRetryOptions } from './client.js';
export { AzureKeyVaultPublicKeyKeyring } from './public-key.js';
export type { AzureKeyVaultPublicKeyKeyringOptions, AzurePublicKeyJwk } from './public-key.js';
export { fetchAzurePublicKey } from './fetch-public-key.js';
export type { FetchAzurePublicKeyOptions } from './fetch-public-key.js';
export { keyringFromConfig } from './config.js';
export type { AzureKeyVaultKeyringConfig } from './config.js';
export { AzureCredentialRequiredError, toProviderError } from './errors.js';
export { AZURE_KEYVAULT_PROVIDER_ID, parseAzureKeyId } from './key-id.js';
export type { AzureKeyId } from './key-id.js';
