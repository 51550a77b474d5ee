import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { usage } from './exit-error.js';

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
