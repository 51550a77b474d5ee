import { InvalidArgumentError, type JsonObject } from '@fieldseal/core';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import { CheckpointError } from './errors.js';
import { emptyCounts, MAX_LISTED_RECORDS, MAX_RETRY_RECORDS, MAX_SOURCE_KEYS, type KeyCounts, type RetriedRecord, type RotationCounts, type RotationReport } from './report.js';
import { formatShard } from './shard.js';
import type { CommitItem, Shard, Store, StoreRecord } from './store.js';
import { mapLimit, recordProcessor, type Outcome } from './lib/process-record.js';
import { WorkerPool } from './lib/worker-pool.js';
import type { RecordTransform, RecordVerifier, TransformResult } from './transform.js';

// The transform contract lives in its own file so lib/ can use it without importing the engine.
export type { RecordTransform, RecordVerifier, TransformResult } from './transform.js';

export { reasonOf } from './lib/process-record.js';

/**
 * Transform in worker threads: each worker imports `module` and calls its default export with
 * `data`; it returns the job's `transform` (and optionally `verify`, `needsRotation`, `keysOf`),
 * e.g. the result of {@link coreRotation}. Keys are loaded inside each worker, so `data` should
 * name them (a key file path, a KMS key id), never hold them. The main thread keeps reading,
 * writing and checkpointing, so crash safety is that of a run without workers.
 */
export interface RotationWorkers {
  /** An ES module URL or absolute path (a `file:` URL for paths with special characters). */
  readonly module: string | URL;
  /** Structured-cloneable data for the module's default export. */
  readonly data?: unknown;
  /** Worker threads. Default: one per core (`os.availableParallelism()`). */
  readonly count?: number;
}

/** Progress after each batch. */
export interface RotationProgress {
  /** Counts of the whole job so far (including earlier runs when resumed). */
  readonly counts: Readonly<RotationCounts>;
  /** Records read in this run. */
  readonly scannedThisRun: number;
  /** Total records, when the store can tell. */
  readonly total: number | undefined;
  /** Fraction done (0..1), when known. */
  readonly fraction: number | undefined;
  /** Records per second in this run. */
  readonly recordsPerSecond: number;
  /** Estimated seconds left, when the fraction is known. */
  readonly etaSeconds: number | undefined;
  /** Milliseconds since this run started. */
  readonly elapsedMs: number;
}

/** Options of {@link runRotation}. */
export interface RotationJobOptions {
  /** Where the documents are. */
  readonly store: Store;
  /** The rotation to apply to each document (see {@link coreRotation}). Not used with `workers`. */
  readonly transform?: RecordTransform;
  /** Run the transform, verification and pre-filter in worker threads instead (see {@link RotationWorkers}). */
  readonly workers?: RotationWorkers;
  /** Checks each rotated document before it is written (see {@link coreRotation}). Strongly recommended. */
  readonly verify?: RecordVerifier;
  /**
   * Cheap pre-filter: return false for a document that is already current, so no key is used for it
   * (it is counted as skipped, `already-current`). Called with the parsed document.
   */
  readonly needsRotation?: (document: JsonObject, record: StoreRecord) => boolean;
  /**
   * The `provider:keyId` of the keys a document's header names, for the per-key counts. Default:
   * core's `inspect` of the `_fieldseal` header (row jobs pass their own: a row's header is a column).
   */
  readonly keysOf?: (document: JsonObject) => string[];
  /** Job label saved in the checkpoint and the report. Default `rotate`. */
  readonly mode?: string;
  /** Where to keep the checkpoint. Without one the job cannot be resumed (it can still be rerun). */
  readonly checkpoint?: CheckpointStore;
  /** Continue from the checkpoint if there is one. Without it, an existing checkpoint is an error. */
  readonly resume?: boolean;
  /** Records per batch (one read, one write transaction, one checkpoint). Default 500. */
  readonly batchSize?: number;
  /** Documents transformed at the same time within a batch (KMS calls in flight). Default 8. */
  readonly concurrency?: number;
  /** Process only this shard of the records. */
  readonly shard?: Shard;
  /** Read, transform and verify, but write nothing (no checkpoint either). */
  readonly dryRun?: boolean;
  /** Stop cleanly after the current batch when aborted; the checkpoint then allows resuming. */
  readonly signal?: AbortSignal;
  /** Stop after the batch in which the number of failures (this run) exceeds this. Default: never. */
  readonly maxFailures?: number;
  /** Attempts per record when the transform fails with a retryable provider error. Default 3. */
  readonly attempts?: number;
  /** Called after every batch. Must not throw. */
  readonly onProgress?: (progress: RotationProgress) => void;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function keyCounts(counts: RotationCounts, key: string): KeyCounts {
  let k = Object.prototype.hasOwnProperty.call(counts.bySourceKey, key) ? counts.bySourceKey[key] : undefined;
  if (k === undefined) {
    const name = Object.keys(counts.bySourceKey).length >= MAX_SOURCE_KEYS ? 'other' : key;
    k = counts.bySourceKey[name] ??= { scanned: 0, rotated: 0, skipped: 0, conflicts: 0, failed: 0 };
  }
  return k;
}

/**
 * Runs a rotation job: reads the store in batches, transforms each document (bounded
 * concurrency), verifies the result, writes it back with compare-and-swap, saves a checkpoint
 * after every batch, and returns a report. A crash at any point loses nothing: the store's
 * writes are atomic per batch and the checkpoint only ever points at durable batches, so running
 * again with `resume: true` finishes the job.
 *
 * A record that fails (wrong key, tampered, malformed) is left unchanged and counted by reason;
 * a record changed by the application between read and write is left alone and counted as a
 * conflict. Neither stops the job (see `maxFailures`). The checkpoint keeps the ids of failed
 * records (up to {@link MAX_RETRY_RECORDS}); a run resumed with `resume: true` retries them after
 * its main pass, in a second pass over the store, and reports them in `retried`/`retriedRecords`.
 *
 * Importable from `@fieldseal/rotation`.
 *
 * @example
 * ```ts
 * import { LocalKeyring } from '@fieldseal/core';
 * import { coreRotation, FileCheckpointStore, NdjsonStore, runRotation } from '@fieldseal/rotation';
 * const keyring = LocalKeyring.fromKeyFile(keyFileText); // old versions unwrap, the primary wraps
 * const report = await runRotation({
 *   store: new NdjsonStore({ path: 'customers.ndjson' }),
 *   ...(await coreRotation({ mode: 'rewrap', keyring, to: keyring })),
 *   checkpoint: new FileCheckpointStore('customers.ndjson.checkpoint.json'),
 *   resume: true,
 * });
 * console.log(report.rotated, report.failedByReason);
 * ```
 * @param options The store, the transform and the job settings.
 * @returns The report of the whole job (counts include earlier runs when resumed).
 * @throws {CheckpointError} `ERR_FIELDSEAL_ROTATION_CHECKPOINT` when a checkpoint exists without `resume`, or belongs to another job.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options or store settings.
 * @throws {StoreChangedError} `ERR_FIELDSEAL_ROTATION_STORE_CHANGED` when the store changed in a way compare-and-swap cannot cover.
 */
export async function runRotation(options: RotationJobOptions): Promise<RotationReport> {
  /* Precondition: a store and a transform. */
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('runRotation: options must be an object');
  const { store, transform, verify, checkpoint: checkpoints, workers } = options;
  if (store === null || typeof store !== 'object' || typeof store.next !== 'function') throw new InvalidArgumentError('runRotation: options.store must be a Store');
  if (workers === undefined && typeof transform !== 'function') throw new InvalidArgumentError('runRotation: options.transform must be a function');
  if (workers !== undefined && (workers === null || typeof workers !== 'object' || (typeof workers.module !== 'string' && !(workers.module instanceof URL)))) throw new InvalidArgumentError('runRotation: options.workers.module must be a module URL or path');
  const workerCount = workers !== undefined ? positiveInt(workers.count, 'workers.count', WorkerPool.defaultCount()) : 0;
  const batchSize = positiveInt(options.batchSize, 'batchSize', 500);
  const concurrency = positiveInt(options.concurrency, 'concurrency', 8);
  const attempts = positiveInt(options.attempts, 'attempts', 3);
  const maxFailures = options.maxFailures ?? Infinity;
  const dryRun = options.dryRun === true;
  const mode = options.mode ?? 'rotate';
  const shard = formatShard(options.shard);
  const startedAt = new Date();
  const t0 = performance.now();

  let saved: Checkpoint | undefined;
  if (checkpoints !== undefined && !dryRun) {
    saved = await checkpoints.load();
    if (saved !== undefined && options.resume !== true) {
      throw new CheckpointError(`a checkpoint of an interrupted run exists at ${checkpoints.location}: resume it, or delete the file to start over`, checkpoints.location);
    }
    if (saved !== undefined && (saved.store !== store.description || saved.mode !== mode || saved.shard !== shard)) {
      throw new CheckpointError(
        `the checkpoint ${checkpoints.location} belongs to another job (${saved.mode} of ${saved.store}, shard ${saved.shard ?? 'none'}); this job is ${mode} of ${store.description}, shard ${shard ?? 'none'}`,
        checkpoints.location,
      );
    }
  }
  const counts: RotationCounts = { ...emptyCounts(), ...(saved !== undefined ? structuredClone(saved.counts) : {}) };
  let scannedThisRun = 0;
  let failedThisRun = 0;
  let stopReason: RotationReport['stopReason'];
  let complete = false;
  let position = saved?.position;
  // Every failed record (up to MAX_RETRY_RECORDS), so that a resumed job retries those of earlier runs.
  const failures = new Map<string, string>((saved?.failures ?? []).map((f) => [f.id, f.reason]));
  let failuresUnlisted = saved?.failuresUnlisted ?? 0;
  // The retry pass: a resumed run retries, after its main pass, the records that failed before it started.
  let retrying: Map<string, string> | undefined = saved?.retrying !== undefined ? new Map(saved.retrying.map((f) => [f.id, f.reason])) : undefined;
  let retryPosition = saved?.retryPosition;
  const earlierFailures = retrying === undefined && failures.size > 0 ? new Map(failures) : undefined;

  const save = async (finished: boolean) => {
    if (checkpoints === undefined || dryRun || position === undefined) return;
    await checkpoints.save({
      format: 'fieldseal-rotation-checkpoint/1',
      store: store.description,
      mode,
      shard,
      position,
      finished,
      counts,
      failures: [...failures].map(([id, reason]) => ({ id, reason })),
      ...(failuresUnlisted > 0 ? { failuresUnlisted } : {}),
      ...(retrying !== undefined ? { retrying: [...retrying].map(([id, reason]) => ({ id, reason })) } : {}),
      ...(retrying !== undefined && retryPosition !== undefined ? { retryPosition } : {}),
      updatedAt: new Date().toISOString(),
    });
  };

  const recordFailure = (id: string, reason: string) => {
    if (failures.has(id) || failures.size < MAX_RETRY_RECORDS) failures.set(id, reason);
    else failuresUnlisted++;
  };

  /** Take a retried record's earlier failure out of the counts; its new outcome is counted instead. */
  const forgetFailure = (id: string, reason: string, keys: readonly string[]) => {
    counts.failed = Math.max(0, counts.failed - 1);
    const left = (counts.failedByReason[reason] ?? 1) - 1;
    if (left > 0) counts.failedByReason[reason] = left;
    else delete counts.failedByReason[reason];
    counts.failedRecords = counts.failedRecords.filter((f) => f.id !== id);
    for (const key of keys) {
      const k = Object.prototype.hasOwnProperty.call(counts.bySourceKey, key) ? counts.bySourceKey[key]! : undefined;
      if (k !== undefined && k.failed > 0) k.failed--;
    }
    failures.delete(id);
  };

  const processRecord = workers === undefined ? recordProcessor({ transform: transform!, verify, needsRotation: options.needsRotation, keysOf: options.keysOf }, attempts) : undefined;
  let pool: WorkerPool | undefined;
  const processBatch = async (records: readonly StoreRecord[]): Promise<Outcome[]> => {
    if (records.length === 0) return [];
    if (workers === undefined) return mapLimit(records, concurrency, processRecord!);
    pool ??= await WorkerPool.start({ count: workerCount, module: String(workers.module), data: workers.data, attempts, concurrency });
    return pool.run(records);
  };

  /**
   * One pass over the store. With `only`, the retry pass: records not in it are kept as they are
   * and not counted; each one in it has its earlier failure replaced by its new outcome.
   */
  /** Write one transformed batch (compare-and-swap), count it, then checkpoint it: only after the write is durable. */
  const commitBatch = async (records: readonly StoreRecord[], chosen: readonly StoreRecord[], decided: readonly Outcome[], only: Map<string, string> | undefined, fraction0: number | undefined, total: number | undefined) => {
    const outcomeOf = new Map(chosen.map((r, i) => [r, decided[i]!]));
    let written: readonly string[] | undefined;
    if (!dryRun) {
      const items: CommitItem[] = records.map((record) => {
        const o = outcomeOf.get(record);
        return { record, replacement: o?.kind === 'rotate' ? o.text : undefined };
      });
      const result = await store.commit(items);
      written = result.outcomes;
      if (only === undefined) position = result.position;
      else retryPosition = result.position;
    }
    records.forEach((record, i) => {
      const o = outcomeOf.get(record);
      if (o === undefined) return;
      const earlier = only?.get(record.id);
      if (earlier !== undefined) {
        forgetFailure(record.id, earlier, o.keys);
        only!.delete(record.id);
        counts.retried++;
      }
      counts.scanned++;
      const perKey = o.keys.map((k) => keyCounts(counts, k));
      for (const k of perKey) k.scanned++;
      let outcome: RetriedRecord['outcome'];
      if (o.kind === 'skipped') {
        outcome = 'skipped';
        counts.skipped++;
        bump(counts.skippedByReason, o.reason);
        for (const k of perKey) k.skipped++;
      } else if (o.kind === 'failed') {
        outcome = 'failed';
        counts.failed++;
        failedThisRun++;
        bump(counts.failedByReason, o.reason);
        for (const k of perKey) k.failed++;
        if (counts.failedRecords.length < MAX_LISTED_RECORDS) counts.failedRecords.push({ id: record.id, reason: o.reason });
        recordFailure(record.id, o.reason);
      } else if (written !== undefined && written[i] === 'conflict') {
        outcome = 'conflict';
        counts.conflicts++;
        for (const k of perKey) k.conflicts++;
        if (counts.conflictRecords.length < MAX_LISTED_RECORDS) counts.conflictRecords.push(record.id);
      } else {
        outcome = 'rotated';
        counts.rotated++;
        for (const k of perKey) k.rotated++;
      }
      if (earlier !== undefined) {
        // A retried record is not scanned twice.
        counts.scanned--;
        for (const k of perKey) k.scanned--;
        if (counts.retriedRecords.length < MAX_LISTED_RECORDS) counts.retriedRecords.push({ id: record.id, outcome, ...(o.kind === 'failed' ? { reason: o.reason } : {}) });
      }
    });
    if (only === undefined) scannedThisRun += records.length;
    await save(false);
    if (options.onProgress) {
      const elapsedMs = performance.now() - t0;
      const fraction = store.fraction?.() ?? (total ? Math.min(1, counts.scanned / total) : undefined);
      const recordsPerSecond = elapsedMs > 0 ? (scannedThisRun * 1000) / elapsedMs : 0;
      const gained = fraction !== undefined && fraction0 !== undefined ? fraction - fraction0 : 0;
      const etaSeconds = fraction !== undefined && gained > 0 ? ((1 - fraction) * elapsedMs) / gained / 1000 : undefined;
      options.onProgress({ counts, scannedThisRun, total, fraction, recordsPerSecond, etaSeconds, elapsedMs });
    }
  };

  /**
   * One pass over the store. With `only`, the retry pass: records not in it are kept as they are
   * and not counted; each one in it has its earlier failure replaced by its new outcome.
   *
   * Pipelined: batch k is transformed while batch k-1 is written and checkpointed and, for a store
   * that allows one batch of read-ahead, batch k+1 is read. Store calls stay strictly sequential
   * and batches are committed (hence checkpointed) in order, so crash safety is unchanged.
   */
  const runPass = async (only: Map<string, string> | undefined, fraction0: number | undefined, total: number | undefined): Promise<boolean> => {
    const stop = () => {
      if (options.signal?.aborted) stopReason = 'aborted';
      else if (failedThisRun > maxFailures) stopReason = 'max-failures';
      return stopReason !== undefined;
    };
    if (stop()) return false;
    let writing: Promise<void> = Promise.resolve();
    try {
      let records = await store.next(batchSize);
      for (;;) {
        if (records.length === 0) {
          await writing;
          return true;
        }
        const chosen = only === undefined ? records : records.filter((r) => only.has(r.id));
        const transforming = processBatch(chosen);
        // Observed below; this keeps a failure during the wait for the write from being unhandled.
        transforming.catch(() => undefined);
        await writing;
        if (stop()) {
          // This batch was read but is neither written nor checkpointed: a resume reads it again.
          await transforming.catch(() => undefined);
          return false;
        }
        const upcoming = store.readAhead === true ? store.next(batchSize) : undefined;
        upcoming?.catch(() => undefined);
        const decided = await transforming;
        const following = upcoming !== undefined ? await upcoming : undefined;
        writing = commitBatch(records, chosen, decided, only, fraction0, total);
        if (following !== undefined) {
          writing.catch(() => undefined);
          records = following;
        } else {
          await writing;
          records = await store.next(batchSize);
        }
      }
    } finally {
      await writing.catch(() => undefined);
    }
  };

  const openStore = async (finished: boolean, at: string | undefined) => {
    await store.open({ dryRun, ...(finished ? { finished: true } : {}), ...(at !== undefined ? { position: at } : {}), ...(options.shard !== undefined ? { shard: options.shard } : {}) });
  };

  try {
    if (retrying === undefined) {
      await openStore(saved?.finished === true, position);
      const total = store.total ? await store.total() : undefined;
      const fraction0 = store.fraction?.() ?? (total ? counts.scanned / total : undefined);
      complete = saved?.finished === true ? true : await runPass(undefined, fraction0, total);
      if (complete && !dryRun) {
        // Mark the pass finished before the store's last step, so a crash in between resumes into that step only.
        await save(true);
        await store.complete();
      }
      if (complete && !dryRun && earlierFailures !== undefined) {
        // The retry pass, for the records that failed in earlier runs: saved as started before the
        // store is reopened, so a crash from here on resumes into this pass, from its start.
        retrying = earlierFailures;
        await save(false);
        await store.close();
      }
    }
    if (retrying !== undefined && (complete || saved?.retrying !== undefined)) {
      const finished = saved?.retrying !== undefined && saved.finished;
      await openStore(finished, retryPosition);
      complete = finished ? true : await runPass(retrying, undefined, undefined);
      if (complete) {
        await save(true);
        await store.complete();
      }
    }
    if (complete && !dryRun) await checkpoints?.clear();
  } finally {
    await pool?.close();
    await store.close();
  }
  const durationMs = performance.now() - t0;
  return {
    ...counts,
    mode,
    store: store.description,
    shard,
    dryRun,
    resumed: saved !== undefined,
    complete,
    ...(stopReason !== undefined ? { stopReason } : {}),
    ...(!complete && checkpoints !== undefined && !dryRun ? { checkpoint: checkpoints.location } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(durationMs),
    recordsPerSecond: durationMs > 0 ? Math.round((scannedThisRun * 1000) / durationMs) : 0,
    ...(earlierFailures !== undefined && failuresUnlisted > 0 ? { unretriedFailures: failuresUnlisted } : {}),
  };
}
