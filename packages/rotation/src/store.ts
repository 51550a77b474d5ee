/**
 * The contract between the rotation engine and a place that holds sealed documents.
 *
 * A store is a cursor over records in a stable order plus a compare-and-swap writer. The engine
 * calls, in order: `open` once, then repeatedly `next` (a batch) and, unless it is a dry run,
 * `commit` (the outcome of that batch), then `complete` once everything was read, then `close`.
 * `commit` returns an opaque position string; the engine saves it in its checkpoint after the
 * commit is durable and hands it back to `open` when a run is resumed.
 *
 * A resumed run whose earlier runs left failed records makes a second pass after `complete`:
 * `close`, then `open` (without a position) and the same cycle again, committing only the retried
 * records. Record ids must therefore be stable across passes.
 */

/** One stored document as read. */
export interface StoreRecord {
  /** The record's id as text (a primary key, a line number): shown in reports, used for sharding. */
  readonly id: string;
  /**
   * The stored document exactly as read. The engine parses it, and the store uses it as the
   * expected value of its compare-and-swap, so it must be the stored representation.
   */
  readonly text: string;
}

/** What the engine decided for one record of a batch. */
export interface CommitItem {
  readonly record: StoreRecord;
  /** The new document text, or `undefined` to leave the record as it is. */
  readonly replacement: string | undefined;
}

/** The result of writing one {@link CommitItem}. */
export type CommitOutcome =
  /** The replacement was written. */
  | 'written'
  /** The record changed (or vanished) since it was read: nothing was written. */
  | 'conflict'
  /** There was no replacement; nothing to write. */
  | 'kept';

/** What {@link Store.commit} returns. */
export interface CommitResult {
  /** One outcome per item, in order. */
  readonly outcomes: readonly CommitOutcome[];
  /** An opaque position after this batch, saved in the checkpoint and passed back to {@link Store.open}. */
  readonly position: string;
}

/** `i/n`: this worker handles the records whose id hashes to `index` modulo `count`. */
export interface Shard {
  /** Zero-based shard index, `0 <= index < count`. */
  readonly index: number;
  /** Number of shards (workers). */
  readonly count: number;
}

/** What {@link Store.open} receives. */
export interface StoreOpenOptions {
  /** A position returned by an earlier {@link Store.commit}, to resume after it. */
  readonly position?: string;
  /** No write will happen: do not create temporary files or take write locks. */
  readonly dryRun: boolean;
  /** Return only the records of this shard (see {@link inShard}). */
  readonly shard?: Shard;
  /**
   * The checkpoint says every batch was already committed: only {@link Store.complete} follows
   * (a crash hit between the last batch and the end of the run).
   */
  readonly finished?: boolean;
}

/**
 * A place the rotation engine can read sealed documents from and write them back to.
 *
 * Implement it to rotate documents held elsewhere (MongoDB, DynamoDB, S3, ...). The rules:
 * - `next` returns records in a stable order and never the same record twice in one run; an empty
 *   array means the end. Keyset pagination (`WHERE id > last ORDER BY id`) satisfies this.
 * - `commit` writes each replacement only if the record still holds exactly `record.text`
 *   (compare-and-swap), and reports `conflict` otherwise: a document changed by the application
 *   meanwhile must never be overwritten. It makes the batch durable before returning.
 * - The `position` returned by `commit` must let `open` continue right after that batch.
 * - With a `shard`, return only records for which {@link inShard} is true (or an equivalent,
 *   stable partition computed by the database), so N workers never overlap.
 * - Errors thrown by a store abort the run; the last checkpoint stays valid.
 */
export interface Store {
  /**
   * A description of what is being rotated (kind, table and column, or file), without
   * credentials. Saved in the checkpoint so a resume cannot continue another job's position.
   */
  readonly description: string;
  /** Prepare to read from the start or from `options.position`. */
  open(options: StoreOpenOptions): Promise<void>;
  /** The next batch of at most `limit` records; empty at the end. */
  next(limit: number): Promise<readonly StoreRecord[]>;
  /** Write a batch's replacements with compare-and-swap, durably, and return the position after it. */
  commit(items: readonly CommitItem[]): Promise<CommitResult>;
  /** Called once after the last batch was committed (the NDJSON store swaps the file in here). Must be idempotent. */
  complete(): Promise<void>;
  /** Release connections and file handles. Safe to call more than once. */
  close(): Promise<void>;
  /** Optional: how many records this run will see in total (for progress and ETA). */
  total?(): Promise<number | undefined>;
  /** Optional: the fraction of the input already read, from 0 to 1 (for progress and ETA). */
  fraction?(): number | undefined;
}
