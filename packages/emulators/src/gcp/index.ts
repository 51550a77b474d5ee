/**
 * The Google Cloud KMS emulator.
 * @module
 */
export * from './emulator.js';
