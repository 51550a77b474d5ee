import type { JsonObject } from '@fieldseal/core';
import type { StoreRecord } from './store.js';

/** What a {@link RecordTransform} returns. */
export interface TransformResult {
  /** The new document (ignored when `changed` is false). */
  readonly document: JsonObject;
  /** False when the document was already in the target state. */
  readonly changed: boolean;
  /** When `changed` is false: the reason it is counted under in `skippedByReason`. Default `unchanged`. */
  readonly reason?: string;
}

/** Turns one sealed document into its rotated form (e.g. core's `rewrap` or `reencrypt`). */
export type RecordTransform = (document: JsonObject, record: StoreRecord) => Promise<TransformResult>;

/** Checks a rotated document before it is written; throws to reject it (the record is then left alone). */
export type RecordVerifier = (rotated: JsonObject, original: JsonObject, record: StoreRecord) => Promise<void>;
