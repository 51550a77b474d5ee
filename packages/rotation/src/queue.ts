import { createRequire } from 'node:module';
import type PgBoss from 'pg-boss';
import { InvalidArgumentError } from '@fieldseal/core';
import { runRotation, type RotationJobOptions } from './engine.js';
import { reasonOf } from './lib/process-record.js';
import { emptyCounts, type RotationCounts } from './report.js';
import type { Store } from './store.js';

/** A keyset range of a table: the rows with `after < id <= upTo` in id order; a missing bound is open. */
export interface KeyRange {
  readonly after?: string;
  readonly upTo?: string;
}

/** Where the queue lives. */
export interface RotationQueueOptions {
  /** The PostgreSQL holding the queue (pg-boss tables); usually the database being rotated. */
  readonly connectionString: string;
  /** The queue's name; one per rotation job (e.g. `fieldseal-rotate-customers`). */
  readonly queue: string;
  /** pg-boss's schema. Default `pgboss`. */
  readonly schema?: string;
}

/** Options of {@link enqueueRotationRanges}. */
export interface EnqueueRangesOptions extends RotationQueueOptions {
  /** The table to split, optionally schema-qualified. */
  readonly table: string;
  /** Its unique, ordered id column. Default `id`. */
  readonly idColumn?: string;
  /** Rows per range. Default 10,000. */
  readonly rangeSize?: number;
  /**
   * Seconds a worker may hold a range before it is presumed dead and the range is handed to
   * another worker. Default 900. Pick it well above the time one range takes: a range that
   * expires while its worker is alive is rotated twice in parallel, which compare-and-swap keeps
   * correct but wastes the work.
   */
  readonly expireInSeconds?: number;
  /** Further attempts per range after a failure or an expiry. Default 5. */
  readonly retryLimit?: number;
}

/** Options of {@link workRotationQueue}. */
export interface WorkQueueOptions extends RotationQueueOptions {
  /** The store for one range, e.g. `(range) => new PostgresStore({ ..., range })`. */
  readonly store: (range: KeyRange) => Store;
  /**
   * The job for each range (transform or workers, verify, needsRotation, batch size...). It must
   * make a rerun of a range cheap and harmless: documents already rotated are skipped by
   * `needsRotation` (as {@link coreRotation}'s rewrap does), so a range retried after its worker
   * died rotates only what is left.
   */
  readonly job: Omit<RotationJobOptions, 'store' | 'checkpoint' | 'resume' | 'shard' | 'signal'>;
  /** Stop after the current range when aborted. */
  readonly signal?: AbortSignal;
  /** Milliseconds between polls while other workers still hold ranges. Default 1000. */
  readonly pollMs?: number;
  /** Called after each range. */
  readonly onRange?: (range: KeyRange, counts: Readonly<RotationCounts>) => void;
}

/** What a worker did. */
export interface WorkQueueResult {
  /** Ranges this worker finished. */
  readonly ranges: number;
  /** Ranges this worker gave up on (they are retried by pg-boss up to the retry limit). */
  readonly failedRanges: number;
  /** The counts of this worker's ranges added up. */
  readonly counts: RotationCounts;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function quoteTable(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) throw new InvalidArgumentError('table must be "name" or "schema.name" of plain SQL identifiers');
  return parts.map((p) => `"${p}"`).join('.');
}

/** pg-boss, loaded on first use (only queue users need it). */
function loadPgBoss(): typeof PgBoss {
  return createRequire(import.meta.url)('pg-boss') as typeof PgBoss;
}

async function startBoss(options: RotationQueueOptions): Promise<PgBoss> {
  if (options === null || typeof options !== 'object' || typeof options.connectionString !== 'string' || typeof options.queue !== 'string' || options.queue === '') {
    throw new InvalidArgumentError('the rotation queue needs a connectionString and a queue name');
  }
  const Boss = loadPgBoss();
  // No background maintenance: workers expire abandoned ranges themselves when they run out of work.
  const boss = new Boss({ connectionString: options.connectionString, schema: options.schema ?? 'pgboss', supervise: false, schedule: false, max: 2, application_name: 'fieldseal-rotate-queue' });
  boss.on('error', () => undefined);
  await boss.start();
  return boss;
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

/**
 * The coordinator's part of a rotation across machines: splits a table into keyset ranges of
 * about `rangeSize` rows (boundaries read from the id index) and enqueues one pg-boss job per
 * range, for any number of {@link workRotationQueue} workers to claim. The last range is open
 * ended, so rows inserted beyond the current maximum id are covered too.
 *
 * @example
 * ```ts
 * await enqueueRotationRanges({ connectionString, queue: 'rotate-customers', table: 'customers', rangeSize: 10_000 });
 * ```
 * @param options The queue, the table and the range size.
 * @returns The number of ranges enqueued.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options.
 */
export async function enqueueRotationRanges(options: EnqueueRangesOptions): Promise<{ ranges: number }> {
  const table = quoteTable(options.table);
  const idColumn = options.idColumn ?? 'id';
  if (!IDENTIFIER.test(idColumn)) throw new InvalidArgumentError('idColumn must be a plain SQL identifier');
  const rangeSize = positive(options.rangeSize, 'rangeSize', 10_000);
  const expireInSeconds = positive(options.expireInSeconds, 'expireInSeconds', 900);
  const retryLimit = options.retryLimit ?? 5;
  const boss = await startBoss(options);
  try {
    const db = boss.getDb();
    // Every rangeSize-th id in order: an index-only scan of the id column.
    const { rows } = await db.executeSql(
      `SELECT id FROM (SELECT "${idColumn}"::text AS id, row_number() OVER (ORDER BY "${idColumn}") AS n FROM ${table}) s WHERE n % $1 = 0 ORDER BY n`,
      [rangeSize],
    );
    const bounds = (rows as { id: string }[]).map((r) => r.id);
    const ranges: KeyRange[] = [];
    let after: string | undefined;
    for (const upTo of bounds) {
      ranges.push(after === undefined ? { upTo } : { after, upTo });
      after = upTo;
    }
    ranges.push(after === undefined ? {} : { after });
    await boss.createQueue(options.queue, { name: options.queue, policy: 'standard', retryLimit, retryDelay: 0, expireInSeconds });
    await boss.insert(ranges.map((data) => ({ name: options.queue, data, retryLimit, expireInSeconds })));
    return { ranges: ranges.length };
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function addCounts(into: RotationCounts, from: RotationCounts): void {
  into.scanned += from.scanned;
  into.rotated += from.rotated;
  into.skipped += from.skipped;
  into.failed += from.failed;
  into.conflicts += from.conflicts;
  for (const [k, v] of Object.entries(from.skippedByReason)) into.skippedByReason[k] = (into.skippedByReason[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.failedByReason)) into.failedByReason[k] = (into.failedByReason[k] ?? 0) + v;
}

/**
 * A worker of a rotation across machines: claims ranges enqueued by
 * {@link enqueueRotationRanges} one at a time and rotates each with {@link runRotation}, until
 * no range is left. Start any number, on any number of machines. A range whose worker died
 * (SIGKILL, lost machine) expires and is claimed again by another worker; its rows already
 * rotated are skipped, and compare-and-swap writes keep two workers on one range from writing a
 * row twice, so every row is rotated exactly once.
 *
 * @example
 * ```ts
 * const job = await coreRotation({ mode: 'rewrap', keyring, to });
 * await workRotationQueue({ connectionString, queue: 'rotate-customers', job,
 *   store: (range) => new PostgresStore({ connectionString, table: 'customers', column: 'doc', range }) });
 * ```
 * @param options The queue, the store per range and the job.
 * @returns What this worker did.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options.
 */
export async function workRotationQueue(options: WorkQueueOptions): Promise<WorkQueueResult> {
  if (typeof options?.store !== 'function') throw new InvalidArgumentError('workRotationQueue: options.store must be a function of the range');
  const pollMs = positive(options.pollMs, 'pollMs', 1000);
  const boss = await startBoss(options);
  const counts = emptyCounts();
  let ranges = 0;
  let failedRanges = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      const [claimed] = await boss.fetch<KeyRange>(options.queue);
      if (claimed === undefined) {
        // Ranges held by dead workers come back once expired; stop when nothing is open anywhere.
        await boss.expire();
        if ((await boss.getQueueSize(options.queue, { before: 'completed' })) === 0) break;
        await sleep(pollMs);
        continue;
      }
      const range: KeyRange = { ...(typeof claimed.data?.after === 'string' ? { after: claimed.data.after } : {}), ...(typeof claimed.data?.upTo === 'string' ? { upTo: claimed.data.upTo } : {}) };
      try {
        const report = await runRotation({ ...options.job, store: options.store(range), ...(options.signal !== undefined ? { signal: options.signal } : {}) });
        if (!report.complete) {
          // Aborted or too many failures: hand the range back (it is retried, rows done are skipped).
          await boss.fail(options.queue, claimed.id, { reason: report.stopReason ?? 'incomplete' });
          failedRanges++;
        } else {
          await boss.complete(options.queue, claimed.id, { scanned: report.scanned, rotated: report.rotated, skipped: report.skipped, failed: report.failed, conflicts: report.conflicts });
          ranges++;
        }
        addCounts(counts, report);
        options.onRange?.(range, report);
      } catch (err) {
        await boss.fail(options.queue, claimed.id, { reason: reasonOf(err) });
        failedRanges++;
      }
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
  return { ranges, failedRanges, counts };
}
