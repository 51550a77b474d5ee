/**
 * The Azure Key Vault (keys) emulator.
 * @module
 */
export { AZURE_EMULATOR_DEFAULT_TOKEN, startAzureKeyVaultEmulator } from './emulator.js';
export type { AzureKeyVaultEmulator, AzureKeyVaultEmulatorOptions } from './emulator.js';
export type { AzureCreateKeyOptions, AzureEmulatedKeyType, AzureEmulatedKeyVersion } from './keys.js';
