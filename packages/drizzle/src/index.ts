/**
 * fieldseal for Drizzle ORM (PostgreSQL): encrypted column builders, a table declaration, and a
 * wrapped database that seals on write, opens on read, turns `eq` on an encrypted column into a
 * beacon lookup and refuses every other query it cannot answer on ciphertext.
 * @module
 */
export { encryptedText, encryptedDate, encryptedBigint, encryptedBytes, encryptedJson, fieldsealHeader, type EncryptedColumnOptions } from './columns.js';
export { fieldseal, type FieldsealTableOptions, type BeaconColumn } from './fieldseal.js';
export { withFieldseal, type WithFieldsealOptions, type FieldsealDatabase, type FieldsealHelpers } from './with-fieldseal.js';
export { UnsupportedQueryError } from '@fieldseal/core';
