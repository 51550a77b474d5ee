import { basename } from 'node:path';
import type { EncryptionContext, JsonObject } from '@fieldseal/core';
import { EXIT_FAILURE, ExitError, usage } from '../../exit-error.js';
import { processIo, type CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
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
  const staticContext = options.context;
  const needsContextFn = options.idContext !== undefined || fieldContext.length > 0;
  const context = needsContextFn
    ? (record: { id: string }, doc: JsonObject): EncryptionContext => {
        const ctx: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, staticContext ?? {});
        if (options.idContext !== undefined) ctx[options.idContext] = record.id;
        for (const [key, field] of fieldContext) {
          const v = Object.prototype.hasOwnProperty.call(doc, field) ? doc[field] : undefined;
          // A missing field binds nothing: decrypt then reports the missing context key by name.
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ctx[key] = String(v);
        }
        return ctx;
      }
    : staticContext;

  const keyring = await keyringFromSpec(options.keyring);
  const to = options.to === undefined || options.to === options.keyring ? keyring : await keyringFromSpec(options.to);
  let job;
  try {
    job = await rotation.coreRotation({ mode, keyring, to, ...(context !== undefined ? { context } : {}), ...(options.all === true ? { skipCurrent: false } : mode === 'reencrypt' ? {} : { skipCurrent: true }) });
  } catch (err) {
    // E.g. two key files that share a key id (main/v1) but not their key: nothing can be rotated safely.
    if ((err as { code?: unknown }).code === 'ERR_FIELDSEAL_INVALID_ARGUMENT') throw usage((err as Error).message.replace(/^coreRotation: /, ''));
    throw err;
  }
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
  if (report.failed > 0) throw new ExitError(EXIT_FAILURE, `${report.failed} record(s) could not be rotated and were left unchanged`);
}
