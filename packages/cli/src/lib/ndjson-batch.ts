// One batch of NDJSON lines turned into output text, the work a `--workers` thread does; the
// messages between the main thread and the workers are these plain objects.
import type { JsonObject } from '@fieldseal/core';
import { describeError } from '../describe-error.js';
import { lineTooLong } from '../io.js';
import { parseJsonDocument } from '../json-input.js';

/** What `fieldseal encrypt|decrypt|rewrap` does to one document. */
export type DocumentTransform = (doc: JsonObject) => Promise<unknown>;

/**
 * Consecutive input lines, joined by newlines: one string crosses to a worker far cheaper than an
 * array of short ones. A line over `--max-input-bytes` (never read whole) is empty in `text` and
 * listed in `tooLong`.
 */
export interface LineBatch {
  /** The 1-based number of the first line. */
  readonly first: number;
  readonly text: string;
  /** Indexes of the lines over the limit, ascending. */
  readonly tooLong: readonly number[];
}

/** Why one line failed: what the in-process path would print for it, never the line's text. */
export interface LineFailure {
  /** Index in the batch. */
  readonly index: number;
  readonly exitCode: number;
  /** `describeError` of the error: its message and `ERR_FIELDSEAL_*` code. */
  readonly message: string;
  readonly code?: string;
}

/** The output of a batch, one line per input line (blank for a blank or skipped line). */
export interface BatchResult {
  readonly text: string;
  /** Documents transformed (neither blank nor failed). */
  readonly records: number;
  /** In line order. Under `--on-error stop` at most one, and `text` ends before its line. */
  readonly failures: LineFailure[];
}

/** One NDJSON line's output (without its newline); throws what the transform throws. */
export async function transformLine(line: string | undefined, transform: DocumentTransform, maxBytes: number): Promise<string> {
  if (line === undefined) throw lineTooLong(maxBytes);
  return JSON.stringify(await transform(parseJsonDocument(line)));
}

/** Transform a batch in line order; with `stop`, up to its first failed line. */
export async function transformBatch(batch: LineBatch, transform: DocumentTransform, maxBytes: number, stop: boolean): Promise<BatchResult> {
  let text = '';
  let records = 0;
  const failures: LineFailure[] = [];
  const lines = batch.text.split('\n');
  let tooLong = 0;
  for (let index = 0; index < lines.length; index++) {
    const over = batch.tooLong[tooLong] === index;
    if (over) tooLong++;
    const line = over ? undefined : lines[index]!;
    if (line !== undefined && line.trim() === '') {
      text += '\n';
      continue;
    }
    try {
      text += (await transformLine(line, transform, maxBytes)) + '\n';
      records++;
    } catch (err) {
      const { exitCode, message } = describeError(err);
      const code = (err as { code?: unknown } | null)?.code;
      failures.push({ index, exitCode, message, ...(typeof code === 'string' ? { code } : {}) });
      if (stop) break;
      text += '\n';
    }
  }
  return { text, records, failures };
}
