/**
 * Loopback emulators of AWS KMS, Azure Key Vault, Google Cloud KMS and HashiCorp Vault transit.
 *
 * Each speaks its service's real wire protocol, so the real SDK clients run unmodified against it,
 * does real cryptography with the context/AAD bound, and has failpoints and request counters. For
 * tests and offline development only: keys live in memory, and servers listen on loopback only.
 * @module
 */
export * from './harness.js';
export * from './azure/index.js';
export * from './vault/index.js';
export * from './aws/index.js';
export * from './gcp/index.js';
