import { basename } from 'node:path';
import type { EncryptionContext } from '@fieldseal/core';
import { EXIT_FAILURE, EXIT_PARTIAL, ExitError, usage } from '../../exit-error.js';
import { processIo, type CommandIo } from '../../io.js';
import { keyFilePolicy } from '../../keyring-spec.js';
import { documentJob, workerJobModule, type DocumentJobData } from './worker-job.js';
import { progressReporter, summary } from './progress.js';
import { defaultCheckpointPath, EXIT_INTERRUPTED, loadRotation, type RotateCommandOptions } from './options.js';

// Shared with ./rows.js (loaded lazily from here), so they live in a file both import.
export { defaultCheckpointPath, EXIT_INTERRUPTED, loadRotation, type RotateCommandOptions } from './options.js';

function positive(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) throw usage(`${flag} must be a positive integer`);
  return value;
}

/**
 * `fieldseal rotate`: rewrap (or re-encrypt) every document of an NDJSON file or a PostgreSQL
 * table with `@fieldseal/rotation`, with a progress bar, a checkpoint after every batch, Ctrl-C
 * to stop cleanly and `--resume` to continue. Prints a summary (or the JSON report with
 * `--json`) on stdout.
 */
export async function rotate(options: RotateCommandOptions, io: CommandIo = processIo): Promise<void> {
  const mode = options.mode ?? 'rewrap';
  if (options.columns !== undefined || options.headerColumn !== undefined || (mode !== 'rewrap' && mode !== 'reencrypt')) {
    // Rows in the column layout, and migrations into or out of fieldseal.
    const { rotateRows } = await import('./rows.js');
    return rotateRows(options, io);
  }
  const batchSize = positive(options.batch, '--batch');
  const concurrency = positive(options.concurrency, '--concurrency');
  const maxFailures = options.maxFailures === undefined ? 1000 : options.maxFailures;
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 0) throw usage('--max-failures must be a non-negative integer');
  const rotation = await loadRotation();
  let shard;
  if (options.shard !== undefined) {
    try {
      shard = rotation.parseShard(options.shard);
    } catch (err) {
      throw usage(`--shard: ${(err as Error).message}`);
    }
  }

  let store;
  if (options.store.startsWith('ndjson:')) {
    const path = options.store.slice('ndjson:'.length);
    if (path === '') throw usage('--store ndjson:FILE needs a file name');
    if (shard !== undefined && shard.count > 1) throw usage('--shard needs a database store: one process rewrites an NDJSON file');
    if (options.table !== undefined || options.column !== undefined) throw usage('--table and --column apply to a PostgreSQL store only');
    store = new rotation.NdjsonStore({ path });
  } else if (/^postgres(ql)?:\/\//.test(options.store)) {
    if (options.table === undefined || options.column === undefined) throw usage('a PostgreSQL store needs --table and --column');
    try {
      store = new rotation.PostgresStore({ connectionString: options.store, table: options.table, column: options.column, ...(options.idColumn !== undefined ? { idColumn: options.idColumn } : {}) });
    } catch (err) {
      throw usage((err as Error).message);
    }
  } else {
    throw usage('--store must be ndjson:FILE or a postgres:// connection string');
  }

  const fieldContext: [string, string][] = (options.fieldContext ?? []).map((pair) => {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) throw usage(`--field-context expects key=field, got "${pair.slice(0, 40)}"`);
    return [pair.slice(0, i), pair.slice(i + 1)];
  });
  const workers = positive(options.workers, '--workers');
  const jobData: DocumentJobData = { mode, keyring: options.keyring, to: options.to, context: options.context, idContext: options.idContext, fieldContext, all: options.all === true, allowInsecureKeyFile: keyFilePolicy.allowInsecure };
  // The main thread builds the job too: it checks the keyrings before any worker starts and names the target keys.
  let job;
  try {
    job = await documentJob(jobData);
  } catch (err) {
    // E.g. two key files that share a key id (main/v1) but not their key: nothing can be rotated safely.
    if ((err as { code?: unknown }).code === 'ERR_FIELDSEAL_INVALID_ARGUMENT') throw usage((err as Error).message.replace(/^coreRotation: /, ''));
    throw err;
  }
  if (options.queue !== undefined || options.role !== undefined) return rotateThroughQueue(rotation, options, job, jobData, { batchSize, concurrency, workers, maxFailures }, io);
  const checkpointPath = options.checkpoint ?? defaultCheckpointPath(options);

  const stderr = io.stderr as typeof io.stderr & { isTTY?: boolean };
  const reporter = progressReporter(stderr, options.json ? 'json' : stderr.isTTY ? 'tty' : 'lines', options.progressIntervalMs);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    reporter.done();
    stderr.write(`fieldseal: ${signal}: stopping after the current batch (press Ctrl-C again to quit at once; the checkpoint stays valid either way)\n`);
    abort.abort();
  };
  // `once`: a second Ctrl-C finds no listener and ends the process the default way.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  if (!options.json) stderr.write(`fieldseal: ${options.dryRun ? 'dry run: ' : ''}${mode} of ${store.description}${shard ? ` shard ${options.shard}` : ''} to ${job.targetKeys.join(', ')}; checkpoint ${basename(checkpointPath)}\n`);

  let report;
  try {
    report = await rotation.runRotation({
      store,
      ...job,
      checkpoint: new rotation.FileCheckpointStore(checkpointPath),
      resume: options.resume === true,
      dryRun: options.dryRun === true,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(workers !== undefined ? { workers: { count: workers, module: workerJobModule(), data: jobData } } : {}),
      ...(shard !== undefined ? { shard } : {}),
      maxFailures,
      signal: abort.signal,
      onProgress: (p) => reporter.update(p),
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_FIELDSEAL_ROTATION_CHECKPOINT') throw usage((err as Error).message);
    throw err;
  } finally {
    reporter.done();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  io.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : summary(report));
  if (!report.complete && report.stopReason === 'aborted') throw new ExitError(EXIT_INTERRUPTED, `interrupted: checkpoint saved; rerun with --resume to continue`);
  if (!report.complete) {
    throw new ExitError(
      EXIT_FAILURE,
      `stopped after ${report.failed} failures (--max-failures ${maxFailures}). Fix the cause, then rerun with --resume: it continues after the last batch, then retries the records that failed (reported by id)`,
    );
  }
  // The job ran to its end: a partial failure, not a stop (the exit-code table's 5).
  if (report.failed > 0) throw new ExitError(EXIT_PARTIAL, `${report.failed} record(s) could not be rotated and were left unchanged`);
}

/** `--queue URL --role coordinator|worker`: a rotation of a PostgreSQL JSON column across processes and machines. */
async function rotateThroughQueue(
  rotation: typeof import('@fieldseal/rotation'),
  options: RotateCommandOptions,
  job: Awaited<ReturnType<typeof documentJob>>,
  jobData: DocumentJobData,
  tuning: { batchSize: number | undefined; concurrency: number | undefined; workers: number | undefined; maxFailures: number },
  io: CommandIo,
): Promise<void> {
  if (options.queue === undefined || !/^postgres(ql)?:\/\//.test(options.queue)) throw usage('--queue must be a postgres:// connection string (the pg-boss job queue)');
  if (options.role !== 'coordinator' && options.role !== 'worker') throw usage('--queue needs --role coordinator or --role worker');
  if (!/^postgres(ql)?:\/\//.test(options.store) || options.table === undefined || options.column === undefined) throw usage('--queue rotates a PostgreSQL JSON column: give --store postgres://... --table T --column C');
  if (options.shard !== undefined) throw usage('--queue and --shard are two ways to split the work: use one');
  if (options.dryRun === true || options.resume === true) throw usage('--queue runs neither --dry-run nor --resume: a range whose worker died is retried by another worker');
  // A retried range must find its rows current: only a rewrap that skips current documents reruns harmlessly.
  if (jobData.mode !== 'rewrap' || jobData.all) throw usage('--queue supports --mode rewrap (without --all) only: a re-encryption rerun would re-encrypt rows again');
  const queue = { connectionString: options.queue, queue: options.queueName ?? `fieldseal-rotate-${options.table.replace(/[^\w-]/g, '_')}-${options.column}`, schema: 'pgboss' };
  const stderr = io.stderr;
  if (options.role === 'coordinator') {
    const { ranges } = await rotation.enqueueRotationRanges({
      ...queue,
      table: options.table,
      ...(options.idColumn !== undefined ? { idColumn: options.idColumn } : {}),
      ...(options.rangeSize !== undefined ? { rangeSize: options.rangeSize } : {}),
      ...(options.expireSeconds !== undefined ? { expireInSeconds: options.expireSeconds } : {}),
    });
    io.stdout.write(options.json ? JSON.stringify({ queue: queue.queue, ranges }) + '\n' : `enqueued ${ranges} ranges of ${options.table} on queue ${queue.queue}; start workers with --role worker\n`);
    return;
  }
  const abort = new AbortController();
  const onSignal = () => {
    stderr.write('fieldseal: stopping after the current range (it is handed back to the queue)\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  let result;
  try {
    result = await rotation.workRotationQueue({
      ...queue,
      signal: abort.signal,
      store: (range) => new rotation.PostgresStore({ connectionString: options.store, table: options.table!, column: options.column!, ...(options.idColumn !== undefined ? { idColumn: options.idColumn } : {}), range }),
      job: {
        ...job,
        ...(tuning.batchSize !== undefined ? { batchSize: tuning.batchSize } : {}),
        ...(tuning.concurrency !== undefined ? { concurrency: tuning.concurrency } : {}),
        ...(tuning.workers !== undefined ? { workers: { count: tuning.workers, module: workerJobModule(), data: jobData } } : {}),
        maxFailures: tuning.maxFailures,
      },
      onRange: (range, c) => {
        if (!options.json) stderr.write(`fieldseal: range (${range.after ?? ''}, ${range.upTo ?? ''}]: ${c.rotated} rotated, ${c.skipped} skipped, ${c.failed} failed, ${c.conflicts} conflicts\n`);
      },
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const { counts } = result;
  io.stdout.write(
    options.json
      ? JSON.stringify({ ranges: result.ranges, failedRanges: result.failedRanges, ...counts }, null, 2) + '\n'
      : `${result.ranges} ranges: ${counts.scanned} scanned, ${counts.rotated} rotated, ${counts.skipped} skipped, ${counts.failed} failed, ${counts.conflicts} conflicts\n`,
  );
  if (abort.signal.aborted) throw new ExitError(EXIT_INTERRUPTED, 'interrupted: the current range was handed back to the queue');
  // A range handed back is unfinished work (1); records that failed in finished ranges are a partial failure (5).
  if (result.failedRanges > 0) throw new ExitError(EXIT_FAILURE, `${counts.failed} record(s) could not be rotated and were left unchanged; ${result.failedRanges} range(s) handed back for a retry`);
  if (counts.failed > 0) throw new ExitError(EXIT_PARTIAL, `${counts.failed} record(s) could not be rotated and were left unchanged`);
}
