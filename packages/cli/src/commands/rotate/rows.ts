import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { defineRowLayout, type EncryptionContext, type JsonObject, type RowLayout } from '@fieldseal/core';
import type { RotationReport, RowValueCounts } from '@fieldseal/rotation';
import { EXIT_FAILURE, EXIT_PARTIAL, ExitError, usage } from '../../exit-error.js';
import type { CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { progressReporter, summary } from './progress.js';
import { defaultCheckpointPath, EXIT_INTERRUPTED, loadRotation, type RotateCommandOptions } from './options.js';

/** The modes that migrate data into or out of fieldseal (rather than rotate its keys). */
export const MIGRATION_MODES: readonly string[] = ['seal', 'unseal', 'import-cloak'];

/** Passes `--until-clean` makes at most (each one a full scan). */
const MAX_PASSES = 50;

const n = (v: number) => v.toLocaleString('en-US');

/** Split `--columns a,b`. */
function columnList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((s) => s === '')) throw usage('--columns expects a comma-separated list of column names');
  return names;
}

function pairs(values: readonly string[] | undefined, flag: string): [string, string][] {
  return (values ?? []).map((pair) => {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) throw usage(`${flag} expects key=column, got "${pair.slice(0, 40)}"`);
    return [pair.slice(0, i), pair.slice(i + 1)];
  });
}

/** The row layout the flags describe: sealed columns, header, the id column bound, context columns bound, stored context. */
export function layoutFromFlags(options: RotateCommandOptions): RowLayout {
  if (options.columns === undefined || options.headerColumn === undefined) throw usage('a row store needs --columns and --header-column');
  const contextColumns = Object.fromEntries(pairs(options.contextColumn, '--context-column'));
  try {
    return defineRowLayout({
      columns: columnList(options.columns),
      header: options.headerColumn,
      id: options.idColumn ?? 'id',
      contextColumns,
      ...(options.context !== undefined ? { context: { ...options.context } } : {}),
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
}

/** The values a pass leaves to do, by mode: what `--until-clean` drives to 0. */
function remainingOf(mode: string, counts: RowValueCounts): number {
  if (mode === 'unseal') return counts.sealedValues + counts.sealedRows;
  if (mode === 'import-cloak') return counts.cloakValues;
  return counts.plaintextValues;
}

function valuesLine(mode: string, table: string, counts: RowValueCounts): string {
  const lines = [`  ${table}: ${n(counts.rows)} rows; sealed values ${n(counts.sealedValues)}; plaintext values remaining ${n(counts.plaintextValues)} (in ${n(counts.plaintextRows)} rows)${counts.cloakValues > 0 ? `, of which cloak ciphertext ${n(counts.cloakValues)}` : ''}`];
  if (mode === 'seal' && counts.plaintextValues > 0) lines.push('  plaintext remains: run again (or with --until-clean) until it reaches 0');
  if (mode === 'seal' && counts.cloakValues > 0) lines.push('  cloak ciphertext is never sealed as plaintext: import it with --mode import-cloak');
  return lines.join('\n') + '\n';
}

/** Documents of an NDJSON file that have no header (a seal-in-place migration ends at 0). */
async function ndjsonCounts(path: string, headerName: string): Promise<{ documents: number; plaintext: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { documents: 0, plaintext: 0 };
  }
  let documents = 0;
  let plaintext = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    documents++;
    try {
      const doc = JSON.parse(line) as Record<string, unknown>;
      if (doc === null || typeof doc !== 'object' || doc[headerName] === undefined || doc[headerName] === null) plaintext++;
    } catch {
      plaintext++;
    }
  }
  return { documents, plaintext };
}

/**
 * `fieldseal rotate` over rows in the column layout (`--columns`, `--header-column`), and the
 * migration modes `seal`, `unseal` and `import-cloak` over rows or NDJSON documents. Runs the
 * rotation engine one pass at a time (repeating with `--until-clean` while plaintext is left and
 * the last pass made progress) and prints, after each pass, what is left in the table.
 */
export async function rotateRows(options: RotateCommandOptions, io: CommandIo): Promise<void> {
  const mode = options.mode ?? 'rewrap';
  if (!['rewrap', 'reencrypt', ...MIGRATION_MODES].includes(mode)) throw usage('--mode must be rewrap, reencrypt, seal, unseal or import-cloak');
  if (mode === 'unseal' && options.yesWritePlaintext !== true) throw usage('--mode unseal writes every sealed value back as plaintext: add --yes-write-plaintext to confirm');
  if (options.yesWritePlaintext === true && mode !== 'unseal') throw usage('--yes-write-plaintext applies to --mode unseal only');
  const rotation = await loadRotation();
  let shard;
  if (options.shard !== undefined) {
    try {
      shard = rotation.parseShard(options.shard);
    } catch (err) {
      throw usage(`--shard: ${(err as Error).message}`);
    }
  }
  // The remaining counts are table-wide: one shard's pass could never bring them to 0.
  if (options.untilClean === true && shard !== undefined && shard.count > 1) throw usage('--until-clean counts the whole table: run it without --shard (after the shards finished)');
  const positive = (v: number | undefined, flag: string) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw usage(`${flag} must be a positive integer`);
    return v;
  };
  const batchSize = positive(options.batch, '--batch');
  const concurrency = positive(options.concurrency, '--concurrency');
  const maxFailures = options.maxFailures ?? 1000;
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 0) throw usage('--max-failures must be a non-negative integer');

  const ndjson = options.store.startsWith('ndjson:') ? options.store.slice('ndjson:'.length) : undefined;
  const postgres = /^postgres(ql)?:\/\//.test(options.store);
  if (ndjson === undefined && !postgres) throw usage('--store must be ndjson:FILE or a postgres:// connection string');
  if (ndjson === '') throw usage('--store ndjson:FILE needs a file name');

  let layout: RowLayout | undefined;
  let describe: () => Promise<{ remaining: number; text: string; values: unknown }>;
  let makeStore: () => import('@fieldseal/rotation').Store;
  let job: Awaited<ReturnType<typeof rotation.rowRotation>> | Awaited<ReturnType<typeof rotation.documentMigration>>;

  const keyring = await keyringFromSpec(options.keyring);
  const to = options.to === undefined || options.to === options.keyring ? keyring : await keyringFromSpec(options.to);

  if (postgres) {
    if (options.table === undefined) throw usage('a PostgreSQL row store needs --table');
    if (options.column !== undefined) throw usage('--column is the JSON-document store; rows take --columns and --header-column');
    if ((options.paths ?? []).length > 0) throw usage('--path applies to documents (NDJSON); rows take --columns');
    if (options.idContext !== undefined || (options.fieldContext ?? []).length > 0) throw usage('rows bind their id and --context-column columns; --id-context and --field-context apply to documents');
    const rowLayout = layoutFromFlags(options);
    layout = rowLayout;
    const table = options.table;
    const connectionString = options.store;
    try {
      new rotation.PostgresRowStore({ connectionString, table, layout: rowLayout, ...(options.idColumn !== undefined ? { idColumn: options.idColumn } : {}) });
    } catch (err) {
      throw usage((err as Error).message);
    }
    makeStore = () => new rotation.PostgresRowStore({ connectionString, table, layout: rowLayout, ...(options.idColumn !== undefined ? { idColumn: options.idColumn } : {}) });
    let cloak;
    if (mode === 'import-cloak') {
      try {
        cloak = rotation.CloakKeychain.fromEnv(options.env ?? process.env);
      } catch (err) {
        throw usage((err as Error).message);
      }
    }
    job = await rotation.rowRotation({ mode: mode as 'seal', layout: rowLayout, keyring, to, ...(cloak !== undefined ? { cloak } : {}), ...(options.all === true ? { skipCurrent: false } : {}) });
    describe = async () => {
      const counts = await rotation.countRowValues({ connectionString, table, layout: rowLayout });
      return { remaining: remainingOf(mode, counts), text: valuesLine(mode, table, counts), values: counts };
    };
  } else {
    if (mode !== 'seal' && mode !== 'unseal') throw usage('an NDJSON store takes --mode rewrap, reencrypt, seal or unseal');
    if (options.columns !== undefined || options.headerColumn !== undefined || options.table !== undefined) throw usage('--table, --columns and --header-column apply to a PostgreSQL store only');
    if (shard !== undefined && shard.count > 1) throw usage('--shard needs a database store: one process rewrites an NDJSON file');
    if (mode === 'seal' && (options.paths ?? []).length === 0) throw usage("--mode seal on documents needs --path '$.field' (repeatable)");
    const fieldContext = pairs(options.fieldContext, '--field-context');
    const requiredContext =
      options.idContext !== undefined || fieldContext.length > 0
        ? (record: { id: string }, doc: JsonObject): EncryptionContext => {
            const ctx: Record<string, string> = Object.create(null) as Record<string, string>;
            if (options.idContext !== undefined) ctx[options.idContext] = record.id;
            for (const [key, field] of fieldContext) {
              const v = Object.prototype.hasOwnProperty.call(doc, field) ? doc[field] : undefined;
              if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ctx[key] = String(v);
            }
            return ctx;
          }
        : undefined;
    const path = ndjson!;
    makeStore = () => new rotation.NdjsonStore({ path });
    job = await rotation.documentMigration({ mode, keyring, to, ...(options.paths !== undefined ? { paths: options.paths } : {}), ...(options.context !== undefined ? { context: options.context } : {}), ...(requiredContext !== undefined ? { requiredContext } : {}) });
    describe = async () => {
      const c = await ndjsonCounts(path, '_fieldseal');
      const remaining = mode === 'unseal' ? c.documents - c.plaintext : c.plaintext;
      return { remaining, text: `  ${basename(path)}: ${n(c.documents)} documents; plaintext documents remaining ${n(c.plaintext)}\n`, values: c };
    };
  }

  const checkpointPath = options.checkpoint ?? defaultCheckpointPath({ ...options, column: options.columns?.replaceAll(',', '+') ?? mode });
  const stderr = io.stderr as typeof io.stderr & { isTTY?: boolean };
  const reporter = progressReporter(stderr, options.json ? 'json' : stderr.isTTY ? 'tty' : 'lines', options.progressIntervalMs);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    reporter.done();
    stderr.write(`fieldseal: ${signal}: stopping after the current batch (press Ctrl-C again to quit at once; the checkpoint stays valid either way)\n`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });

  const reports: RotationReport[] = [];
  let last: { remaining: number; text: string; values: unknown } | undefined;
  try {
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      const store = makeStore();
      if (!options.json) stderr.write(`fieldseal: ${options.dryRun ? 'dry run: ' : ''}${mode} of ${store.description}${shard ? ` shard ${options.shard}` : ''}${pass > 1 ? ` (pass ${pass})` : ''} to ${job.targetKeys.join(', ')}; checkpoint ${basename(checkpointPath)}\n`);
      let report: RotationReport;
      try {
        report = await rotation.runRotation({
          store,
          ...job,
          mode,
          checkpoint: new rotation.FileCheckpointStore(checkpointPath),
          resume: pass === 1 && options.resume === true,
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
      }
      reporter.done();
      reports.push(report);
      last = await describe();
      if (!options.json) io.stdout.write(summary(report) + last.text);
      const progressed = report.rotated > 0 || report.conflicts > 0;
      if (options.untilClean !== true || options.dryRun === true || !report.complete || last.remaining === 0 || !progressed) break;
    }
  } finally {
    reporter.done();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  const report = reports.at(-1)!;
  if (options.json) io.stdout.write(JSON.stringify({ ...report, passes: reports.length, remaining: last!.remaining, values: last!.values }, null, 2) + '\n');
  if (!report.complete && report.stopReason === 'aborted') throw new ExitError(EXIT_INTERRUPTED, 'interrupted: checkpoint saved; rerun with --resume to continue');
  if (!report.complete) throw new ExitError(EXIT_FAILURE, `stopped after ${report.failed} failures (--max-failures ${maxFailures}). Fix the cause, then rerun with --resume, or delete ${checkpointPath} and rerun`);
  // --until-clean promised a clean table: values left are a failure (1), not a partial success.
  if (options.untilClean === true && options.dryRun !== true && last!.remaining > 0) throw new ExitError(EXIT_FAILURE, `${last!.remaining} value(s) are still left after ${reports.length} pass(es)`);
  if (report.failed > 0) throw new ExitError(EXIT_PARTIAL, `${report.failed} record(s) could not be processed and were left exactly as they were`);
}
