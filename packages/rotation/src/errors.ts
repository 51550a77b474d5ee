import { FieldsealError } from '@fieldseal/core';

/**
 * A checkpoint stops the run: one exists but `resume` was not asked for, it belongs to another
 * job (other store, mode or shard), or it cannot be read. Nothing was written.
 */
export class CheckpointError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_ROTATION_CHECKPOINT';
  override readonly code = 'ERR_FIELDSEAL_ROTATION_CHECKPOINT';
  /** The checkpoint file concerned. */
  readonly path: string;
  /** @ignore */
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/**
 * The data source changed underneath a run in a way compare-and-swap cannot cover (an NDJSON file
 * modified while it was being rewritten). The original is left in place, untouched.
 */
export class StoreChangedError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_ROTATION_STORE_CHANGED';
  override readonly code = 'ERR_FIELDSEAL_ROTATION_STORE_CHANGED';
}

/** A rotated document failed verification before being written; the stored one was left unchanged. */
export class VerificationError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_ROTATION_VERIFY';
  override readonly code = 'ERR_FIELDSEAL_ROTATION_VERIFY';
}
