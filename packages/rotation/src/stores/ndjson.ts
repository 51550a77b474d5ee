import { open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '@fieldseal/core';
import { syncDirectory } from '../checkpoint.js';
import { StoreChangedError } from '../errors.js';
import type { CommitItem, CommitResult, Store, StoreOpenOptions, StoreRecord } from '../store.js';

/** Options of {@link NdjsonStore}. */
export interface NdjsonStoreOptions {
  /** The NDJSON file: one sealed JSON document per line. */
  readonly path: string;
  /** The temporary file the new version is written to. Default `<path>.fieldseal-rotate.tmp` (same directory, so the final rename is atomic). */
  readonly tempPath?: string;
  /** Bytes read at a time. Default 1 MiB. */
  readonly chunkSize?: number;
}

interface Position {
  /** Bytes of the input consumed. */
  readonly offset: number;
  /** Bytes of the temporary file written and synced. */
  readonly written: number;
  /** Lines consumed. */
  readonly line: number;
  /** Identity of the input file when the run started. */
  readonly input: Identity;
}

interface Identity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One input line: a record (non-blank) or a blank line kept as is. */
interface Line {
  readonly record: StoreRecord | undefined;
  readonly raw: Buffer;
  readonly newline: boolean;
}

const NEWLINE = 0x0a;

async function identityOf(path: string): Promise<Identity> {
  const s = await stat(path);
  return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * A {@link Store} over an NDJSON file (one sealed document per line), the embedded default.
 *
 * The file is never modified in place: the new version is streamed to a temporary file beside it
 * (same permissions), synced after every batch, and renamed over the original at the end, so a
 * crash leaves either the old file or the new one. The checkpoint records how far both files got;
 * a resumed run truncates the temporary file to that point and continues. Record ids are 1-based
 * line numbers. Blank lines and lines that fail are copied unchanged. Memory use is bounded by
 * one batch, whatever the file size.
 *
 * A lock file (`<path>.fieldseal-rotate.lock`, holding host and pid) keeps a second run off the
 * same file; a lock left by a crashed process on the same host is taken over.
 * The file must not be written by anyone else during the run: the store checks the file's
 * identity (inode, size, modification time) on resume and before the final rename, and stops with
 * `StoreChangedError` rather than lose a concurrent change. Sharding is not supported (the whole
 * file is rewritten by one process).
 *
 * @example
 * ```ts
 * import { NdjsonStore } from '@fieldseal/rotation';
 * const store = new NdjsonStore({ path: 'customers.ndjson' });
 * ```
 */
export class NdjsonStore implements Store {
  /** `ndjson:<absolute path>`. */
  readonly description: string;
  readonly #path: string;
  readonly #tempPath: string;
  readonly #chunkSize: number;
  /** `next` may run one batch ahead of `commit`: each batch keeps its own lines and end position. */
  readonly readAhead = true;
  #dryRun = true;
  #input: FileHandle | undefined;
  #output: FileHandle | undefined;
  #identity: Identity | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #eof = false;
  #readOffset = 0;
  #offset = 0;
  #written = 0;
  #line = 0;
  /** The lines of each batch read and not yet committed (at most two: one batch of read-ahead), with the input position after it. */
  #pending: { lines: Line[]; offset: number; line: number }[] = [];
  #finished = false;
  #locked = false;

  /** @param options The file and tuning. @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` without a path. */
  constructor(options: NdjsonStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') throw new InvalidArgumentError('NdjsonStore: options.path must be a file path');
    this.#path = resolve(options.path);
    this.#tempPath = resolve(options.tempPath ?? `${this.#path}.fieldseal-rotate.tmp`);
    if (dirname(this.#tempPath) !== dirname(this.#path)) throw new InvalidArgumentError('NdjsonStore: the temporary file must be in the same directory as the file (atomic rename)');
    this.#chunkSize = options.chunkSize ?? 1 << 20;
    this.description = `ndjson:${this.#path}`;
  }

  /** The temporary file's path. */
  get tempPath(): string {
    return this.#tempPath;
  }

  /** Open the input (and the temporary output, unless a dry run), from the start or a saved position. */
  async open(options: StoreOpenOptions): Promise<void> {
    if (options.shard !== undefined && options.shard.count > 1) throw new InvalidArgumentError('the NDJSON store cannot be sharded: one process rewrites the whole file');
    this.#dryRun = options.dryRun;
    // A store is opened again for the engine's retry pass: start from a clean cursor.
    this.#buffer = Buffer.alloc(0);
    this.#eof = false;
    this.#pending = [];
    this.#finished = false;
    this.#written = 0;
    const position = options.position !== undefined ? parsePosition(options.position) : undefined;
    if (!options.dryRun) await this.#lock();
    if (options.finished === true) {
      // Every batch was committed; only the swap may be missing.
      this.#finished = true;
      this.#identity = position?.input;
      return;
    }
    let current: Identity;
    try {
      current = await identityOf(this.#path);
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${basename(this.#path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (position !== undefined && !sameIdentity(position.input, current)) {
      throw new StoreChangedError(`${basename(this.#path)} changed since the interrupted run started; delete the checkpoint and ${basename(this.#tempPath)} and start again`);
    }
    this.#identity = current;
    this.#input = await open(this.#path, 'r');
    this.#readOffset = this.#offset = position?.offset ?? 0;
    this.#line = position?.line ?? 0;
    if (this.#dryRun) return;
    const mode = (await stat(this.#path)).mode & 0o777;
    if (position !== undefined) {
      try {
        this.#output = await open(this.#tempPath, 'r+');
      } catch (err) {
        throw new StoreChangedError(`the checkpoint refers to ${basename(this.#tempPath)}, which cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'}); delete the checkpoint and start again`);
      }
      // Bytes after the checkpoint belong to a batch that was never recorded as done: drop them.
      await this.#output.truncate(position.written);
      this.#written = position.written;
    } else {
      this.#output = await open(this.#tempPath, 'w', mode);
      await this.#output.chmod(mode);
      this.#written = 0;
    }
  }

  /** The fraction of the input consumed. */
  fraction(): number | undefined {
    const size = this.#identity?.size;
    return size ? Math.min(1, this.#offset / size) : undefined;
  }

  async #fill(): Promise<void> {
    const chunk = Buffer.allocUnsafe(this.#chunkSize);
    const { bytesRead } = await this.#input!.read(chunk, 0, chunk.length, this.#readOffset);
    if (bytesRead === 0) {
      this.#eof = true;
      return;
    }
    this.#readOffset += bytesRead;
    this.#buffer = this.#buffer.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([this.#buffer, chunk.subarray(0, bytesRead)]);
  }

  /** The next records (blank lines between them are kept aside for the output). */
  async next(limit: number): Promise<readonly StoreRecord[]> {
    if (this.#input === undefined) return [];
    if (this.#dryRun) this.#pending = [];
    const records: StoreRecord[] = [];
    const batch = { lines: [] as Line[], offset: this.#offset, line: this.#line };
    this.#pending.push(batch);
    for (;;) {
      let nl = this.#buffer.indexOf(NEWLINE);
      while (nl < 0 && !this.#eof) {
        await this.#fill();
        nl = this.#buffer.indexOf(NEWLINE);
      }
      if (nl < 0 && this.#buffer.length === 0) break;
      const end = nl < 0 ? this.#buffer.length : nl;
      // A full batch still takes the blank lines that follow it: left for the next call, blank
      // lines at the end of the file would land in a batch without records, which is never
      // committed, and the rewritten file would lose them.
      if (records.length >= limit && !isBlank(this.#buffer.subarray(0, end))) break;
      // Copy the line out so the read buffer is not pinned by a batch.
      const raw = Buffer.from(this.#buffer.subarray(0, end));
      this.#buffer = this.#buffer.subarray(nl < 0 ? end : end + 1);
      this.#offset += raw.length + (nl < 0 ? 0 : 1);
      this.#line++;
      const text = raw.toString('utf8');
      const record = text.trim() === '' ? undefined : { id: String(this.#line), text };
      batch.lines.push({ record, raw, newline: nl >= 0 });
      if (record) records.push(record);
    }
    batch.offset = this.#offset;
    batch.line = this.#line;
    return records;
  }

  /** Append the batch (replacements substituted) to the temporary file, sync it, and return the position. */
  async commit(items: readonly CommitItem[]): Promise<CommitResult> {
    if (this.#output === undefined) throw new InvalidArgumentError('NdjsonStore: commit without open (or in a dry run)');
    const replacements = new Map<StoreRecord, string>();
    for (const item of items) if (item.replacement !== undefined) replacements.set(item.record, item.replacement);
    const parts: Buffer[] = [];
    const batch = this.#pending.shift();
    if (batch === undefined) throw new InvalidArgumentError('NdjsonStore: commit without a batch read');
    for (const line of batch.lines) {
      const replacement = line.record !== undefined ? replacements.get(line.record) : undefined;
      parts.push(replacement !== undefined ? Buffer.from(replacement, 'utf8') : line.raw);
      if (line.newline) parts.push(Buffer.from('\n'));
    }
    await this.#writeAt(Buffer.concat(parts));
    await this.#output.datasync();
    const position: Position = { offset: batch.offset, written: this.#written, line: batch.line, input: this.#identity! };
    return { outcomes: items.map((i) => (i.replacement !== undefined ? 'written' : 'kept')), position: JSON.stringify(position) };
  }

  /** Append `data` to the temporary file at the written position. */
  async #writeAt(data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#output!.write(data, done, data.length - done, this.#written + done);
      done += bytesWritten;
    }
    this.#written += data.length;
  }

  /** Swap the new file in (atomic rename), after checking nobody else changed the original. Idempotent. */
  async complete(): Promise<void> {
    if (this.#dryRun && !this.#finished) return;
    if (this.#output !== undefined) {
      // A file of blank lines only has no record, so no batch was committed: copy its lines now.
      for (const batch of this.#pending.splice(0)) {
        const data = Buffer.concat(batch.lines.flatMap((line) => (line.newline ? [line.raw, Buffer.from('\n')] : [line.raw])));
        await this.#writeAt(data);
      }
      await this.#output.sync();
      await this.#output.close();
      this.#output = undefined;
    }
    if (!(await exists(this.#tempPath))) {
      if (this.#finished) return; // the swap already happened before the crash
      throw new StoreChangedError(`${basename(this.#tempPath)} vanished during the run; the original file was left unchanged`);
    }
    if (this.#identity !== undefined && !sameIdentity(await identityOf(this.#path), this.#identity)) {
      throw new StoreChangedError(`${basename(this.#path)} was modified during the rotation; it was left unchanged and the rotated copy kept as ${basename(this.#tempPath)}`);
    }
    await rename(this.#tempPath, this.#path);
    await syncDirectory(dirname(this.#path));
  }

  get #lockPath(): string {
    return `${this.#path}.fieldseal-rotate.lock`;
  }

  /**
   * One writer per file: two runs sharing the temporary file would interleave their output. A
   * lock left by a process that no longer exists (a crash) is taken over.
   */
  async #lock(): Promise<void> {
    const me = JSON.stringify({ pid: process.pid, host: hostname() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(this.#lockPath, me, { flag: 'wx', mode: 0o600 });
        this.#locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let holder: { pid?: unknown; host?: unknown } = {};
      try {
        holder = JSON.parse(await readFile(this.#lockPath, 'utf8')) as typeof holder;
      } catch {
        // unreadable or half-written: treat as stale
      }
      const alive = typeof holder.pid === 'number' && holder.host === hostname() && holder.pid !== process.pid && processExists(holder.pid);
      if (alive || (typeof holder.host === 'string' && holder.host !== hostname())) {
        throw new StoreChangedError(`another rotation of ${basename(this.#path)} is running (${String(holder.host)} pid ${String(holder.pid)}); if it is not, delete ${basename(this.#lockPath)}`);
      }
      await unlink(this.#lockPath).catch(() => undefined);
    }
    throw new StoreChangedError(`cannot take the lock ${basename(this.#lockPath)}`);
  }

  /** Close the files. A dry run or an unfinished run leaves the original untouched; the temporary file stays for resuming. */
  async close(): Promise<void> {
    await this.#input?.close();
    this.#input = undefined;
    await this.#output?.close();
    this.#output = undefined;
    if (this.#locked) {
      this.#locked = false;
      await unlink(this.#lockPath).catch(() => undefined);
    }
  }

  /** Delete the temporary file of an abandoned run (not needed after a completed one). */
  async discardTemp(): Promise<void> {
    try {
      await unlink(this.#tempPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Whether a line holds only whitespace (what `next` keeps as a blank line, not a record). */
function isBlank(raw: Buffer): boolean {
  for (const b of raw) {
    // Most lines start with "{": decided at the first byte, without decoding a long line.
    if (b < 0x80 && b !== 0x20 && (b < 0x09 || b > 0x0d)) return false;
  }
  return raw.toString('utf8').trim() === '';
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parsePosition(text: string): Position {
  let p: Partial<Position> | null;
  try {
    p = JSON.parse(text) as Partial<Position> | null;
  } catch {
    p = null;
  }
  const n = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (p === null || typeof p !== 'object' || !n(p.offset) || !n(p.written) || !n(p.line) || typeof p.input !== 'object' || p.input === null) {
    throw new InvalidArgumentError('NdjsonStore: the checkpoint position is not one this store wrote');
  }
  return p as Position;
}
