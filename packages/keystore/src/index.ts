/**
 * fieldseal key stores: where the hierarchical keyring's branch keys live (a JSON file, the
 * embedded default; PostgreSQL, for services), and OpenTelemetry audit events for key access.
 * @module
 */
export { FileBranchKeyStore } from './file-store.js';
export { PostgresBranchKeyStore, branchKeyTableSql, type PostgresBranchKeyStoreOptions, type PgQueryable } from './postgres-store.js';
export { createOtelAuditHook } from './otel.js';
