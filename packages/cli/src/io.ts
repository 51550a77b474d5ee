import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { usage } from './exit-error.js';
import { prettyJsonChunks } from './lib/pretty-json.js';

/** Read all of a file or stdin as text. */
export async function readAll(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (path !== undefined && path !== '-') {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw usage(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Write text to a file or stdout. */
export async function writeAll(path: string | undefined, text: string, stdout: Writable = process.stdout): Promise<void> {
  if (path !== undefined && path !== '-') {
    await writeFile(path, text);
    return;
  }
  if (!stdout.write(text)) await once(stdout, 'drain');
}

/**
 * Write `JSON.stringify(value, null, 2)` and a newline to a file or stdout in pieces of about
 * 64 KiB, so the output never exists as one string plus its encoded copy (item: memory per input size).
 */
export async function writeJsonPretty(path: string | undefined, value: unknown, stdout: Writable = process.stdout): Promise<void> {
  const target: Writable = path !== undefined && path !== '-' ? createWriteStream(path) : stdout;
  let failure: Error | undefined;
  const onError = (err: Error) => (failure ??= err);
  target.on('error', onError);
  let pending = '';
  const flush = async () => {
    if (failure !== undefined) throw failure;
    if (pending === '') return;
    const piece = pending;
    pending = '';
    if (!target.write(piece)) await once(target, 'drain');
  };
  for (const chunk of prettyJsonChunks(value)) {
    pending += chunk;
    if (pending.length >= 1 << 16) await flush();
  }
  pending += '\n';
  await flush();
  if (target !== stdout) await new Promise<void>((resolve, reject) => target.end((err?: Error | null) => (err || failure ? reject(err ?? failure) : resolve())));
  target.off('error', onError);
  if (failure !== undefined) throw failure;
}

/** Iterate the lines of a file or stdin (NDJSON), with 1-based line numbers, skipping blank lines. */
export async function* readLines(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<{ line: string; lineNumber: number }> {
  const input = path !== undefined && path !== '-' ? createReadStream(path) : stdin;
  if (input !== stdin) {
    await new Promise<void>((resolve, reject) => {
      (input as ReturnType<typeof createReadStream>).once('open', () => resolve()).once('error', (err) => reject(usage(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
    });
  }
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of rl) {
    lineNumber++;
    if (line.trim() === '') continue;
    yield { line, lineNumber };
  }
}

/** A line writer over a file or stdout that respects back-pressure. */
export function lineWriter(path: string | undefined, stdout: Writable = process.stdout): { write(line: string): Promise<void>; close(): Promise<void> } {
  const out: Writable = path !== undefined && path !== '-' ? createWriteStream(path) : stdout;
  return {
    async write(line) {
      if (!out.write(line + '\n')) await once(out, 'drain');
    },
    async close() {
      if (out !== stdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
  };
}

/** Streams a command talks to; tests pass their own. */
export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** The process's own streams. */
export const processIo: CommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
