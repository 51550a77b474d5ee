import { ExitError } from './exit-error.js';
import type { InputLine } from './io.js';
import { keyFilePolicy } from './keyring-spec.js';
import { transformBatch, type BatchResult, type DocumentTransform, type LineBatch, type LineFailure } from './lib/ndjson-batch.js';
import type { NdjsonWorkerData } from './lib/ndjson-worker.js';
import { compiledUrl, ThreadPool } from './lib/thread-pool.js';

/** How a command's transform is rebuilt in a worker: a module whose default export builds it from `data` (plain, cloneable). */
export interface WorkerJob {
  readonly module: string;
  readonly data: unknown;
}

/** A failed line under `--on-error stop`, from a worker: the code and exit code of the original error. */
export class LineFailedError extends ExitError {
  /** The original error's code (`ERR_FIELDSEAL_*`), when it had one. */
  readonly code: string | undefined;
  constructor(lineNumber: number, failure: LineFailure) {
    super(failure.exitCode, `line ${lineNumber}: ${failure.message}`);
    this.name = 'LineFailedError';
    this.code = failure.code;
  }
}

/** Where results go, in input order. */
export interface LineSink {
  write(text: string): Promise<void>;
  records(count: number): void;
  /** A failed line under `--on-error skip` (its empty output line is in the text). */
  skipped(lineNumber: number, message: string): void;
}

/** Lines per batch at most: a 64 KiB input chunk of tiny documents is split. */
const MAX_BATCH_LINES = 1024;
/** Batches in flight per worker: one being transformed, one queued behind it, so no worker idles. */
const IN_FLIGHT_PER_WORKER = 2;
/** Input bytes in flight at most (beyond a single line over it, sent alone), whatever the line sizes. */
const MAX_IN_FLIGHT_BYTES = 16 << 20;

/**
 * Transform NDJSON lines in `count` threads: this one and `count - 1` workers. The main thread
 * reads, hands each input chunk's lines to the least busy worker as one batch, transforms a batch
 * itself (with `inline`, the same transform the workers build) whenever every worker already has
 * its queue full, and writes each result as soon as it and every earlier one are in, strictly in
 * input order, so output line N is input line N and a slow pipe sees its lines without waiting for
 * more input. Working on the main thread too saves an isolate: with a thread per core for the
 * workers alone, three isolates' garbage collection and compilation shared two cores and cost
 * 20–35% more CPU per line than one thread (docs/BENCHMARKS.md). At most IN_FLIGHT_PER_WORKER batches per
 * worker and MAX_IN_FLIGHT_BYTES of input are out at once (reading waits), which bounds memory.
 * Under `stop`, the first failed line by line order ends the run with a {@link LineFailedError},
 * even while the input is stalled; the workers are terminated on every exit path.
 */
export async function transformInWorkers(groups: AsyncIterable<InputLine[]>, count: number, job: WorkerJob, options: { maxBytes: number; stop: boolean }, sink: LineSink, inline: DocumentTransform): Promise<void> {
  const threads = Math.max(1, count - 1);
  let pool: ThreadPool<LineBatch, BatchResult> | undefined;
  const inFlight: { written: Promise<void>; bytes: number }[] = [];
  let inFlightBytes = 0;
  // Each batch's output is chained after the one before it: writes happen in input order.
  let chain: Promise<void> = Promise.resolve();
  let failWith!: (err: unknown) => void;
  const failure = new Promise<never>((_resolve, reject) => (failWith = reject));
  failure.catch(() => undefined);

  const write = async (first: number, r: BatchResult) => {
    // Under skip, each failure is reported before the text that holds its empty line.
    if (!options.stop) for (const f of r.failures) sink.skipped(first + f.index, f.message);
    if (r.text !== '') await sink.write(r.text);
    sink.records(r.records);
    const failure = r.failures[0];
    if (options.stop && failure !== undefined) throw new LineFailedError(first + failure.index, failure);
  };

  const oldestDone = async () => {
    const { written, bytes } = inFlight.shift()!;
    await Promise.race([written, failure]);
    inFlightBytes -= bytes;
  };

  const dispatch = async (lines: string[], tooLong: number[], first: number, bytes: number) => {
    // Started with the first batch, not before: an empty input starts no thread.
    pool ??= new ThreadPool<LineBatch, BatchResult>({
      count: threads,
      entry: new URL(compiledUrl(new URL(`./lib/ndjson-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href)),
      workerData: { module: job.module, data: job.data, maxBytes: options.maxBytes, stop: options.stop, allowInsecureKeyFile: keyFilePolicy.allowInsecure } satisfies NdjsonWorkerData,
    });
    while (inFlight.length > 0 && (inFlight.length >= count * IN_FLIGHT_PER_WORKER || inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES)) await oldestDone();
    const batch = { first, text: lines.join('\n'), tooLong };
    let result: Promise<BatchResult>;
    if (pool.saturated(IN_FLIGHT_PER_WORKER)) {
      // Every worker has a batch queued behind the one it is on: this thread takes this one now.
      result = transformBatch(batch, inline, options.maxBytes, options.stop);
      await result.catch(() => undefined);
      // Let the workers' answers in (they wait as messages behind this batch), so the next batch
      // goes to a worker that has room rather than to this thread again while the worker idles.
      await new Promise((resolve) => setImmediate(resolve));
    } else {
      result = pool.run(batch);
    }
    // Awaited through the chain; this keeps a rejection behind an earlier failure from being unhandled.
    result.catch(() => undefined);
    // Only the line number is kept, not the batch text: it would otherwise live until written.
    const written = chain.then(async () => write(first, await result));
    written.catch(failWith);
    chain = written;
    inFlight.push({ written, bytes });
    inFlightBytes += bytes;
  };

  const reader = groups[Symbol.asyncIterator]();
  try {
    for (;;) {
      // A failure ends the run at once, also while the input is stalled (a quiet pipe).
      const read = reader.next();
      // When the failure wins, this read may still fail later (stdin is then destroyed): not unhandled.
      read.catch(() => undefined);
      const next = await Promise.race([read, failure]);
      if (next.done === true) break;
      let lines: string[] = [];
      let tooLong: number[] = [];
      let first = 0;
      let bytes = 0;
      for (const { line, lineNumber } of next.value) {
        if (lines.length === 0) first = lineNumber;
        if (line === undefined) tooLong.push(lines.length);
        lines.push(line ?? '');
        bytes += line?.length ?? 0;
        if (lines.length >= MAX_BATCH_LINES) {
          await dispatch(lines, tooLong, first, bytes);
          lines = [];
          tooLong = [];
          bytes = 0;
        }
      }
      if (lines.length > 0) await dispatch(lines, tooLong, first, bytes);
    }
    await Promise.race([chain, failure]);
  } finally {
    // Ends a stalled read too (a file stream is closed; stdin is left to the process).
    void reader.return?.(undefined)?.catch(() => undefined);
    await pool?.close();
  }
}
