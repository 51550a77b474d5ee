import { fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { JsonObject } from '@fieldseal/core';
import { describeError } from './describe-error.js';
import { EXIT_PARTIAL, ExitError, usage } from './exit-error.js';
import { DEFAULT_MAX_INPUT_BYTES, MAX_INPUT_BYTES_CEILING, lineTooLong, openOutput, readAll, readLines, type CommandIo } from './io.js';
import { parseJsonDocument } from './json-input.js';
import { progressReporter } from './progress.js';

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
}

/** Check the stream flags before any key is loaded, so a usage error costs no key-service call. */
export function checkStreams(streams: DocumentStreams): void {
  if (streams.onError !== undefined && streams.onError !== 'skip' && streams.onError !== 'stop') throw usage('--on-error must be skip or stop');
  if (streams.onError !== undefined && !streams.ndjson) throw usage('--on-error applies to --ndjson streams only');
  if (streams.compact && streams.pretty) throw usage('--compact and --pretty exclude each other');
  if (streams.ndjson && (streams.compact || streams.pretty)) throw usage('--compact and --pretty apply to single documents; NDJSON is always one document per line');
  const max = streams.maxInputBytes;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1 || max > MAX_INPUT_BYTES_CEILING)) throw usage(`--max-input-bytes must be an integer from 1 to ${MAX_INPUT_BYTES_CEILING}`);
}

/**
 * Apply `transform` to one JSON document, or to every line of an NDJSON stream. Files are written
 * atomically: after a failure the output file is absent or the complete previous one. NDJSON blank
 * lines are kept, so output line N is input line N; under `--on-error skip` a failed line's output
 * is an empty line, its error goes to stderr with its number, and the exit code is EXIT_PARTIAL.
 * Input text is never echoed in errors. `outputMode` is the mode of a new output file.
 */
export async function transformDocuments(streams: DocumentStreams, io: CommandIo, transform: (doc: JsonObject) => Promise<unknown>, outputMode = 0o666): Promise<void> {
  checkStreams(streams);
  const maxBytes = streams.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (!streams.ndjson) {
    const text = await readAll(streams.in, io.stdin, maxBytes);
    const result = await transform(parseJsonDocument(text));
    const out = await openOutput(streams.out, io.stdout, outputMode);
    try {
      await out.write((streams.compact ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + '\n');
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
  try {
    for await (const { line, lineNumber } of readLines(streams.in, io.stdin, maxBytes, progress.bytes)) {
      lines = lineNumber;
      if (line !== undefined && line.trim() === '') {
        await out.write('\n');
        continue;
      }
      let result: string;
      try {
        if (line === undefined) throw lineTooLong(maxBytes);
        result = JSON.stringify(await transform(parseJsonDocument(line)));
      } catch (err) {
        if (streams.onError !== 'skip') {
          if (err instanceof Error) err.message = `line ${lineNumber}: ${err.message}`;
          throw err;
        }
        failed++;
        progress.clear();
        io.stderr.write(`fieldseal: line ${lineNumber}: ${describeError(err).message}\n`);
        await out.write('\n');
        continue;
      }
      await out.write(result + '\n');
      progress.record();
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
