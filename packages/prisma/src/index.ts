/**
 * fieldseal for Prisma 7: a client extension that seals the encrypted fields of the configured
 * models on every write and opens them on every read, over fieldseal's row layout (so the CLI and
 * the rotation engine read and rotate the same rows).
 * @module
 */
export { fieldseal } from './fieldseal.js';
export { assertActive } from './assert-active.js';
export type { FieldsealPrismaOptions, PrismaModelOptions, PrismaFieldOptions, PlaintextReport, FieldsealMarker, RuntimeDataModel, RuntimeField } from './types.js';
export { modelsFromSchema, type SchemaModel } from './models-from-schema.js';
