import type { JsonObject } from '@fieldseal/core';
import { lineWriter, readAll, readLines, writeJsonPretty, type CommandIo } from './io.js';
import { parseJsonDocument } from './json-input.js';

/** Where documents come from and go to: a file or stdin/stdout; one JSON document or NDJSON. */
export interface DocumentStreams {
  readonly in?: string;
  readonly out?: string;
  readonly ndjson?: boolean;
}

/**
 * Apply `transform` to one JSON document, or to every line of an NDJSON stream (stopping at the
 * first failure, whose message then names the line). Input text is never echoed in errors.
 */
export async function transformDocuments(streams: DocumentStreams, io: CommandIo, transform: (doc: JsonObject) => Promise<unknown>): Promise<void> {
  if (!streams.ndjson) {
    const result = await transform(parseJsonDocument(await readAll(streams.in, io.stdin)));
    await writeJsonPretty(streams.out, result, io.stdout);
    return;
  }
  const out = lineWriter(streams.out, io.stdout);
  try {
    for await (const { line, lineNumber } of readLines(streams.in, io.stdin)) {
      try {
        await out.write(JSON.stringify(await transform(parseJsonDocument(line))));
      } catch (err) {
        if (err instanceof Error) err.message = `line ${lineNumber}: ${err.message}`;
        throw err;
      }
    }
  } finally {
    await out.close();
  }
}
