/**
 * The Google Cloud KMS emulator.
 * @module
 */
export * from './types.js';
export * from './emulator.js';
