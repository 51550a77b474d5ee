/**
 * The HashiCorp Vault transit emulator.
 * @module
 */
export {
  startVaultTransitEmulator,
  type VaultTransitEmulator,
  type VaultTransitEmulatorOptions,
  type VaultKeyLocation,
  type VaultTransitOperation,
  type TransitKeyInfo,
  type TransitKeyOptions,
  type TransitKeyType,
} from './emulator.js';
