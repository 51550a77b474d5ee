/**
 * fieldseal core: field-level envelope encryption for JSON documents.
 * @module
 */
export * from './errors.js';
export type * from './types.js';
