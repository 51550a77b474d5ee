import { fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { describeError } from './describe-error.js';
import { EXIT_PARTIAL, ExitError, usage } from './exit-error.js';
import { DEFAULT_MAX_INPUT_BYTES, MAX_INPUT_BYTES_CEILING, openOutput, readAll, readLineGroups, readLines, writeJsonPretty, type CommandIo } from './io.js';
import { parseJsonDocument } from './json-input.js';
import { transformLine, type DocumentTransform } from './lib/ndjson-batch.js';
import { transformInWorkers, type WorkerJob } from './ndjson-workers.js';
import { progressReporter } from './progress.js';

export type { WorkerJob } from './ndjson-workers.js';

/** `--workers` above this is refused: more threads than any machine's cores only cost memory. */
export const MAX_WORKERS = 64;

/** Where documents come from and go to: a file or stdin/stdout; one JSON document or NDJSON. */
export interface DocumentStreams {
  readonly in?: string;
  readonly out?: string;
  readonly ndjson?: boolean;
  /** NDJSON: `stop` (default) at the first failed line, or `skip` it, report it and go on. */
  readonly onError?: 'skip' | 'stop';
  /** Single document: one line instead of the default indented JSON. */
  readonly compact?: boolean;
  /** Single document: indented JSON (the default; refused with `ndjson`). */
  readonly pretty?: boolean;
  /** Largest input (a single document) or input line (NDJSON), in bytes. */
  readonly maxInputBytes?: number;
  /**
   * NDJSON: transform in this many worker threads (`auto`: one per core). Default 1: in this
   * thread, with no thread start-up. Refused for a single document.
   */
  readonly workers?: number | 'auto';
}

/** The worker count `--workers` asks for (1 when not given). */
export function workerCount(streams: DocumentStreams): number {
  if (streams.workers === undefined) return 1;
  return streams.workers === 'auto' ? Math.min(MAX_WORKERS, availableParallelism()) : streams.workers;
}

/** Check the stream flags before any key is loaded, so a usage error costs no key-service call. */
export function checkStreams(streams: DocumentStreams): void {
  if (streams.onError !== undefined && streams.onError !== 'skip' && streams.onError !== 'stop') throw usage('--on-error must be skip or stop');
  if (streams.onError !== undefined && !streams.ndjson) throw usage('--on-error applies to --ndjson streams only');
  if (streams.compact && streams.pretty) throw usage('--compact and --pretty exclude each other');
  if (streams.ndjson && (streams.compact || streams.pretty)) throw usage('--compact and --pretty apply to single documents; NDJSON is always one document per line');
  const max = streams.maxInputBytes;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1 || max > MAX_INPUT_BYTES_CEILING)) throw usage(`--max-input-bytes must be an integer from 1 to ${MAX_INPUT_BYTES_CEILING}`);
  const w = streams.workers;
  if (w !== undefined && w !== 'auto' && (!Number.isSafeInteger(w) || w < 1 || w > MAX_WORKERS)) throw usage(`--workers must be auto or an integer from 1 to ${MAX_WORKERS}`);
  // A single document is one unit of work: threads could only add their start-up to it.
  if (w !== undefined && !streams.ndjson) throw usage('--workers applies to --ndjson streams only');
}

/**
 * Apply `transform` to one JSON document, or to every line of an NDJSON stream. Files are written
 * atomically: after a failure the output file is absent or the complete previous one. NDJSON blank
 * lines are kept, so output line N is input line N; under `--on-error skip` a failed line's output
 * is an empty line, its error goes to stderr with its number, and the exit code is EXIT_PARTIAL.
 * Input text is never echoed in errors. `outputMode` is the mode of a new output file. With
 * `streams.workers` above 1, NDJSON lines are transformed in worker threads that rebuild the
 * transform from `job` (required then); results are written in input order, so the output is the
 * same as in one thread.
 */
export async function transformDocuments(streams: DocumentStreams, io: CommandIo, transform: DocumentTransform, outputMode = 0o666, job?: WorkerJob): Promise<void> {
  checkStreams(streams);
  const workers = workerCount(streams);
  if (workers > 1 && job === undefined) throw usage('this command does not take --workers');
  const maxBytes = streams.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (!streams.ndjson) {
    const text = await readAll(streams.in, io.stdin, maxBytes);
    const result = await transform(parseJsonDocument(text));
    const out = await openOutput(streams.out, io.stdout, outputMode);
    try {
      // Pretty output goes out in pieces: never the whole text plus its encoded copy at once.
      if (streams.compact) await out.write(JSON.stringify(result) + '\n');
      else await writeJsonPretty(out, result);
    } catch (err) {
      await out.abort();
      throw err;
    }
    await out.commit();
    return;
  }
  const out = await openOutput(streams.out, io.stdout, outputMode);
  let totalBytes: number | undefined;
  if (streams.in !== undefined && streams.in !== '-') totalBytes = await stat(streams.in).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
  else if (io.stdin === process.stdin) {
    // `fieldseal … < big.ndjson`: stdin is the file itself, so its size is known too.
    try {
      const s = fstatSync(0);
      if (s.isFile()) totalBytes = s.size;
    } catch {
      // no usable stdin: no ETA
    }
  }
  const progress = progressReporter(io.stderr, totalBytes);
  let failed = 0;
  let lines = 0;
  const skipped = (lineNumber: number, message: string) => {
    failed++;
    progress.clear();
    io.stderr.write(`fieldseal: line ${lineNumber}: ${message}\n`);
  };
  try {
    if (workers > 1) {
      const groups = async function* () {
        for await (const group of readLineGroups(streams.in, io.stdin, maxBytes, progress.bytes)) {
          if (group.length > 0) lines = group[group.length - 1]!.lineNumber;
          yield group;
        }
      };
      try {
        await transformInWorkers(groups(), workers, job!, { maxBytes, stop: streams.onError !== 'skip' }, { write: (text) => out.write(text), records: (n) => progress.record(n), skipped }, transform);
      } catch (err) {
        // A read of stdin may still be waiting (a quiet pipe): end it, or it would keep the process alive.
        if (streams.in === undefined || streams.in === '-') (io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        throw err;
      }
    } else {
      for await (const { line, lineNumber } of readLines(streams.in, io.stdin, maxBytes, progress.bytes)) {
        lines = lineNumber;
        if (line !== undefined && line.trim() === '') {
          await out.write('\n');
          continue;
        }
        let result: string;
        try {
          result = await transformLine(line, transform, maxBytes);
        } catch (err) {
          if (streams.onError !== 'skip') {
            if (err instanceof Error) err.message = `line ${lineNumber}: ${err.message}`;
            throw err;
          }
          skipped(lineNumber, describeError(err).message);
          await out.write('\n');
          continue;
        }
        await out.write(result + '\n');
        progress.record();
      }
    }
  } catch (err) {
    progress.clear();
    await out.abort();
    throw err;
  }
  progress.done();
  await out.commit();
  if (failed > 0) throw new ExitError(EXIT_PARTIAL, `${failed} of ${lines} line(s) failed (named above); each one's output line is left empty, every other line was written`);
}
