import { createReadStream, unlinkSync } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { LimitExceededError } from '@fieldseal/core';
import { usage } from './exit-error.js';
import { prettyJsonChunks } from './lib/pretty-json.js';

/** Default `--max-input-bytes`: far above any sane single document, far below V8's string ceiling. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;
/** V8 cannot hold a string longer than about 512 MiB, so no limit above this can work. */
export const MAX_INPUT_BYTES_CEILING = 512 * 1024 * 1024 - 64;

function tooLarge(what: string, size: number | undefined, max: number): LimitExceededError {
  return new LimitExceededError(`${what}${size !== undefined ? ` is ${size} bytes,` : ' is'} over the limit of ${max} bytes; raise it with --max-input-bytes N (at most ${MAX_INPUT_BYTES_CEILING}), or split the input into NDJSON lines`, 'maxInputBytes');
}

/** Read all of a file or stdin as text, refusing more than `maxBytes` before reading it all. */
export async function readAll(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin, maxBytes = DEFAULT_MAX_INPUT_BYTES): Promise<string> {
  const fromFile = path !== undefined && path !== '-';
  if (fromFile) {
    let size: number;
    try {
      const s = await stat(path);
      if (s.isDirectory()) throw usage(`cannot read ${path}: it is a directory`);
      size = s.size;
    } catch (err) {
      if (err instanceof Error && 'exitCode' in err) throw err;
      throw usage(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (size > maxBytes) throw tooLarge(`the input ${path}`, size, maxBytes);
  }
  const input = fromFile ? createReadStream(path) : stdin;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of input) {
      const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
      total += b.length;
      if (total > maxBytes) throw tooLarge(fromFile ? `the input ${path}` : 'the input on stdin', undefined, maxBytes);
      chunks.push(b);
    }
  } finally {
    if (fromFile) (input as ReturnType<typeof createReadStream>).destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One line of an NDJSON input: its text (undefined when over the limit) and 1-based number. */
export interface InputLine {
  readonly line: string | undefined;
  readonly lineNumber: number;
}

/**
 * Write `JSON.stringify(value, null, 2)` and a newline to `out` in pieces of about 64 KiB, so the
 * output never exists as one string plus its encoded copy (memory per input size, issue 18).
 */
export async function writeJsonPretty(out: { write(text: string): Promise<void> }, value: unknown): Promise<void> {
  let pending = '';
  for (const chunk of prettyJsonChunks(value)) {
    pending += chunk;
    if (pending.length >= 1 << 16) {
      await out.write(pending);
      pending = '';
    }
  }
  await out.write(pending + '\n');
}

/**
 * Iterate the lines of a file or stdin (NDJSON) with 1-based line numbers, blank lines included so
 * numbers never shift. A line longer than `maxLineBytes` is skipped over (never buffered whole) and
 * yielded with `line: undefined`. `onBytes` reports progress in input bytes.
 */
export async function* readLines(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin, maxLineBytes = DEFAULT_MAX_INPUT_BYTES, onBytes?: (n: number) => void): AsyncGenerator<InputLine> {
  for await (const group of readLineGroups(path, stdin, maxLineBytes, onBytes)) yield* group;
}

/**
 * {@link readLines}, one array per input chunk: the lines that chunk completed (possibly none).
 * A consumer that batches lines can send each group on at once, so a slow pipe (`tail -f`) never
 * leaves a line waiting for a batch to fill.
 */
export async function* readLineGroups(path: string | undefined, stdin: NodeJS.ReadableStream = process.stdin, maxLineBytes = DEFAULT_MAX_INPUT_BYTES, onBytes?: (n: number) => void): AsyncGenerator<InputLine[]> {
  const input = path !== undefined && path !== '-' ? createReadStream(path) : stdin;
  if (input !== stdin) {
    await new Promise<void>((resolve, reject) => {
      (input as ReturnType<typeof createReadStream>).once('open', () => resolve()).once('error', (err) => reject(usage(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
    });
  }
  let parts: Buffer[] = [];
  let partBytes = 0;
  let overLimit = false;
  let lineNumber = 0;
  const finish = (): InputLine => {
    lineNumber++;
    let text: string | undefined;
    if (!overLimit) {
      text = Buffer.concat(parts, partBytes).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
    }
    parts = [];
    partBytes = 0;
    overLimit = false;
    return { line: text, lineNumber };
  };
  try {
    for await (const c of input) {
      const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
      onBytes?.(chunk.length);
      const group: InputLine[] = [];
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        const end = nl < 0 ? chunk.length : nl;
        if (!overLimit && end > start) {
          if (partBytes + (end - start) > maxLineBytes) {
            overLimit = true;
            parts = [];
            partBytes = 0;
          } else {
            parts.push(chunk.subarray(start, end));
            partBytes += end - start;
          }
        }
        if (nl < 0) break;
        group.push(finish());
        start = nl + 1;
      }
      yield group;
    }
    if (partBytes > 0 || overLimit) yield [finish()];
  } finally {
    if (input !== stdin) (input as ReturnType<typeof createReadStream>).destroy();
  }
}

/** The error for a line over the limit (the NDJSON loop reports it with the line number). */
export function lineTooLong(maxLineBytes: number): LimitExceededError {
  return tooLarge('the line', undefined, maxLineBytes);
}

/**
 * Fail before any work (and any key-service call) when `--out` cannot be written: a missing
 * directory, a directory given as the file.
 */
export async function checkOutputPath(path: string | undefined): Promise<void> {
  if (path === undefined || path === '-') return;
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw usage(`cannot write ${path}: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof Error && 'exitCode' in err) throw err;
    throw usage(`cannot write ${path}: the directory ${dir} does not exist (create it first, e.g. mkdir -p ${dir})`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw usage(`cannot write ${path}: it is a directory; --out names a file`);
  } catch (err) {
    if (err instanceof Error && 'exitCode' in err) throw err;
  }
}

/** Where output goes: `write` as often as needed, then `commit` (success) or `abort` (failure). */
export interface Output {
  write(text: string): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Output to stdout, or to a file written atomically: a temporary file next to it, renamed over it
 * only on `commit`, so a failure leaves no file or the complete previous one. A replaced file keeps
 * its mode; a new one gets `mode` (0600 for plaintext output).
 */
export async function openOutput(path: string | undefined, stdout: Writable = process.stdout, mode = 0o666): Promise<Output> {
  if (path === undefined || path === '-') {
    return {
      async write(text) {
        if (!stdout.write(text)) await once(stdout, 'drain');
      },
      async commit() {},
      async abort() {},
    };
  }
  await checkOutputPath(path);
  let keepMode: number | undefined;
  try {
    keepMode = (await stat(path)).mode & 0o777;
  } catch {
    keepMode = undefined;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Ctrl-C or SIGTERM mid-stream: remove the temporary file, leave the target as it was, exit 130.
  // Hooked before the file exists, so a signal can never leave it behind.
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    process.stderr.write(`fieldseal: interrupted (${signal}); ${path} was not changed\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unhook = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx', keepMode ?? mode);
  } catch (err) {
    unhook();
    throw usage(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (keepMode !== undefined) await handle.chmod(keepMode);
  let pending: string[] = [];
  let pendingLength = 0;
  let closed = false;
  const flush = async () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    pendingLength = 0;
    await handle.write(text);
  };
  const discard = async () => {
    unhook();
    if (closed) return;
    closed = true;
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  };
  return {
    async write(text) {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= 1 << 16) await flush();
    },
    async commit() {
      try {
        await flush();
        await handle.sync();
        await handle.close();
        closed = true;
        await rename(tmp, path);
        unhook();
      } catch (err) {
        await discard();
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    },
    abort: discard,
  };
}

/** Write text to a file (atomically) or stdout. */
export async function writeAll(path: string | undefined, text: string, stdout: Writable = process.stdout, mode = 0o666): Promise<void> {
  const out = await openOutput(path, stdout, mode);
  try {
    await out.write(text);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await out.commit();
}

/** Streams a command talks to; tests pass their own. */
export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** The process's own streams. */
export const processIo: CommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
