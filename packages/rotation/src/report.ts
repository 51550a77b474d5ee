/** Counts for one source key (`provider:keyId`). */
export interface KeyCounts {
  /** Records read that had a data key wrapped under this key. */
  scanned: number;
  /** Of those, rotated (or, in a dry run, that would be). */
  rotated: number;
  /** Of those, skipped as already current or unchanged. */
  skipped: number;
  /** Of those, left alone because the application changed them meanwhile. */
  conflicts: number;
  /** Of those, failed. */
  failed: number;
}

/** Counts of a rotation job. Serializable; saved in checkpoints so a resumed run reports the whole job. */
export interface RotationCounts {
  /** Records read. */
  scanned: number;
  /** Records rewritten (in a dry run: that would be rewritten). */
  rotated: number;
  /** Records left as they were because they needed no change. */
  skipped: number;
  /** `already-current` (the predicate said so, no key was used) or `unchanged` (the transform changed nothing). */
  skippedByReason: Record<string, number>;
  /** Records changed by someone else between read and write: left alone, never overwritten. */
  conflicts: number;
  /** Records that could not be rotated; they are left unchanged. */
  failed: number;
  /** Failure counts by reason: an error code such as `ERR_FIELDSEAL_KEY_UNAVAILABLE` (no message, no data). */
  failedByReason: Record<string, number>;
  /** Counts per source key, `provider:keyId` (a record with several keys counts under each). */
  bySourceKey: Record<string, KeyCounts>;
  /** The first failed records (id and reason), at most {@link MAX_LISTED_RECORDS}. */
  failedRecords: { id: string; reason: string }[];
  /** The first conflicting record ids, at most {@link MAX_LISTED_RECORDS}. */
  conflictRecords: string[];
  /**
   * Records that had failed in an earlier run and were tried again by a resumed run (each is
   * counted once: its earlier failure is replaced by its new outcome in the counts above).
   */
  retried: number;
  /** The first retried records with their new outcome, at most {@link MAX_LISTED_RECORDS}. */
  retriedRecords: RetriedRecord[];
}

/** A record a resumed run tried again, and what happened to it. */
export interface RetriedRecord {
  readonly id: string;
  readonly outcome: 'rotated' | 'skipped' | 'conflict' | 'failed';
  /** The error code when it failed again. */
  readonly reason?: string;
}

/** How many failed or conflicting record ids a report lists (the counts are always complete). */
export const MAX_LISTED_RECORDS = 100;
/**
 * How many failed record ids a checkpoint keeps for a resumed run to retry; failures beyond it are
 * counted (`unretriedFailures`) and picked up by running the job again once it has finished.
 */
export const MAX_RETRY_RECORDS = 10_000;
/** How many distinct source keys a report tracks; more are counted under `other`. */
export const MAX_SOURCE_KEYS = 1000;

/** The final report of {@link runRotation}. Contains ids, key ids and counts; never document contents. */
export interface RotationReport extends RotationCounts {
  /** The job label (`rewrap`, `reencrypt`, or a custom one). */
  readonly mode: string;
  /** What was rotated ({@link Store.description}). */
  readonly store: string;
  /** `i/n` or null. */
  readonly shard: string | null;
  /** Nothing was written. */
  readonly dryRun: boolean;
  /** This run continued from a checkpoint. */
  readonly resumed: boolean;
  /** Every record was processed (false when stopped early). */
  readonly complete: boolean;
  /** Why the run stopped before the end: `aborted` (signal, Ctrl-C) or `max-failures`. */
  readonly stopReason?: 'aborted' | 'max-failures';
  /** Where the checkpoint is (when there is one and the run did not complete). */
  readonly checkpoint?: string;
  /** Start and end of this run (ISO). */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Duration of this run in milliseconds. */
  readonly durationMs: number;
  /** Records read per second in this run. */
  readonly recordsPerSecond: number;
  /** Failed records a resumed run could not retry because the checkpoint lists at most {@link MAX_RETRY_RECORDS}. */
  readonly unretriedFailures?: number;
}

/** Zeroed counts. */
export function emptyCounts(): RotationCounts {
  return { scanned: 0, rotated: 0, skipped: 0, skippedByReason: {}, conflicts: 0, failed: 0, failedByReason: {}, bySourceKey: {}, failedRecords: [], conflictRecords: [], retried: 0, retriedRecords: [] };
}
