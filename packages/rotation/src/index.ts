/**
 * fieldseal rotation: a crash-safe job engine that rewraps or re-encrypts every sealed document
 * in a store, with compare-and-swap writes, checkpoints, resume, sharding and progress events.
 * Stores for NDJSON files and PostgreSQL are included; implement {@link Store} for others.
 * @module
 */
export { runRotation, reasonOf, type RotationJobOptions, type RotationProgress, type RecordTransform, type RecordVerifier, type TransformResult } from './engine.js';
export { coreRotation, type CoreRotation, type CoreRotationOptions } from './transforms.js';
export type { Store, StoreRecord, StoreOpenOptions, CommitItem, CommitOutcome, CommitResult, Shard } from './store.js';
export { parseShard, shardOf, inShard, formatShard } from './shard.js';
export { FileCheckpointStore, writeFileAtomic, type Checkpoint, type CheckpointStore } from './checkpoint.js';
export { emptyCounts, MAX_LISTED_RECORDS, MAX_RETRY_RECORDS, MAX_SOURCE_KEYS, type RotationReport, type RotationCounts, type KeyCounts, type RetriedRecord } from './report.js';
export { CheckpointError, StoreChangedError, VerificationError } from './errors.js';
export { NdjsonStore, type NdjsonStoreOptions } from './stores/ndjson.js';
export { PostgresStore, redactConnectionString, SUPPORTED_DOCUMENT_TYPES, type PostgresStoreOptions, type PostgresClientLike } from './stores/postgres.js';
export { PostgresRowStore, countRowValues, SUPPORTED_ROW_COLUMN_TYPES, type PostgresRowStoreOptions, type RowValueCounts, type CountRowValuesOptions } from './stores/postgres-rows.js';
export { rowRotation, type RowRotation, type RowRotationOptions, type RowJobMode } from './rows.js';
export { CloakKeychain, CloakImportError, looksLikeCloak, type CloakImportFailure } from './cloak.js';
export { documentMigration, type DocumentMigration, type DocumentMigrationOptions } from './documents.js';
