/**
 * fieldseal keyrings for AWS KMS, over the real `@aws-sdk/client-kms`: symmetric keys
 * ({@link AwsKmsKeyring}, provider id `aws-kms`) and RSA keys wrapped client-side
 * ({@link AwsKmsRsaKeyring} and the SDK-free {@link AwsKmsPublicKeyKeyring}, provider id `aws-kms-rsa`).
 * @module
 */
export { AwsKmsKeyring, AWS_KMS_PROVIDER, type AwsKmsKeyringOptions, type AwsKmsDiscoveryFilter } from './keyring.js';
export { AwsKmsRsaKeyring, type AwsKmsRsaKeyringOptions } from './rsa-keyring.js';
export { AwsKmsPublicKeyKeyring, AWS_KMS_RSA_PROVIDER, importKmsRsaPublicKey, type AwsKmsPublicKeyKeyringOptions, type AwsKmsPublicKeyInput } from './public-key.js';
export { keyringFromConfig, type AwsKmsKeyringConfig } from './config.js';
export { kmsOperations, DEFAULT_MAX_ATTEMPTS, DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, type KmsOperations, type KmsCallOptions, type KmsClientInput, type AwsKmsClientOptions } from './client.js';
export { toProviderError, classifyAwsError } from './errors.js';
export { toKmsEncryptionContext } from './context.js';
export { parseKmsArn, type KmsArn } from './arn.js';
