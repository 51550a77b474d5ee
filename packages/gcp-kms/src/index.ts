/**
 * fieldseal keyrings for Google Cloud KMS: {@link GcpKmsKeyring} (symmetric keys, `Encrypt` /
 * `Decrypt` with the encryption context as AAD), {@link GcpKmsRsaKeyring} (RSA decryption keys:
 * wrap locally, `AsymmetricDecrypt`) and {@link GcpKmsPublicKeyKeyring} (wrap-only, no Google SDK;
 * also importable from `@fieldseal/gcp-kms/public-key`). Every call is CRC32C-checked end to end.
 * @module
 */
export { GcpKmsKeyring, GCP_KMS_PROVIDER, type GcpKmsKeyringOptions } from './keyring.js';
export { GcpKmsRsaKeyring, type GcpKmsRsaKeyringOptions } from './rsa-keyring.js';
export { GcpKmsPublicKeyKeyring, GCP_KMS_RSA_PROVIDER, importGcpKmsPublicKey, type GcpKmsPublicKeyInput, type GcpKmsPublicKeyKeyringOptions } from './public-key.js';
export type { GcpKmsClient, GcpKmsClientSettings, GcpKmsRetryOptions } from './client.js';
export { keyringFromConfig, type GcpKmsConfig, type GcpKmsKeyringFromConfigOptions } from './config.js';
export { crc32c } from './crc32c.js';
