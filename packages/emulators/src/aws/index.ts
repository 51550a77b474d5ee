/**
 * The AWS KMS emulator: KMS JSON 1.1 over loopback HTTP, SigV4 verified on every request.
 * @module
 */
export { startAwsKmsEmulator } from './emulator.js';
export type { AwsKmsEmulator, AwsKmsEmulatorOptions, AwsKmsRequestRecord, AwsCreateKeyOptions, AwsEmulatedKey, AwsCredentialPair, AwsEmulatedKeySpec } from './emulator.js';
