import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from './errors.js';
import type { RotationCounts } from './report.js';

/** What the engine saves after every committed batch. Contains ids and counts, never document data. */
export interface Checkpoint {
  /** Format marker. */
  readonly format: 'fieldseal-rotation-checkpoint/1';
  /** {@link Store.description} of the store being rotated. */
  readonly store: string;
  /** The job label (`rewrap`, `reencrypt`, ...). */
  readonly mode: string;
  /** `i/n` or null. */
  readonly shard: string | null;
  /** The store's position after the last durable batch. */
  readonly position: string;
  /** True once every batch was committed; only the store's `complete` step may remain. */
  readonly finished: boolean;
  /** Counts so far, carried over to the final report of a resumed run. */
  readonly counts: RotationCounts;
  /** Records that failed and are not rotated yet (at most `MAX_RETRY_RECORDS`): a resumed run retries them. */
  readonly failures?: readonly { readonly id: string; readonly reason: string }[];
  /** Failures beyond `MAX_RETRY_RECORDS`, not listed and so not retried on resume. */
  readonly failuresUnlisted?: number;
  /**
   * Present once a resumed run's retry pass has started: the records it still retries. `finished`
   * then refers to that pass, and `retryPosition` is its position (absent: from the start).
   */
  readonly retrying?: readonly { readonly id: string; readonly reason: string }[];
  /** The store's position in the retry pass. */
  readonly retryPosition?: string;
  /** ISO time of the save. */
  readonly updatedAt: string;
}

/** Where the engine keeps its {@link Checkpoint}. */
export interface CheckpointStore {
  /** A path or name, for messages. */
  readonly location: string;
  /** The saved checkpoint, or `undefined` when there is none. */
  load(): Promise<Checkpoint | undefined>;
  /** Replace the checkpoint durably (atomic: a crash leaves the old or the new one). */
  save(checkpoint: Checkpoint): Promise<void>;
  /** Remove the checkpoint after a finished run. */
  clear(): Promise<void>;
}

/**
 * Writes `text` to `path` atomically and durably: a temporary file beside it, fsync, rename over
 * the target, fsync of the directory. A crash at any point leaves the old content or the new one.
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

/** fsync a directory so a rename in it survives a power loss (a no-op where unsupported). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
}

/**
 * A {@link CheckpointStore} in a JSON file (mode 0600), replaced atomically on every save.
 *
 * @example
 * ```ts
 * import { FileCheckpointStore } from '@fieldseal/rotation';
 * const checkpoint = new FileCheckpointStore('/var/lib/rotation/customers.checkpoint.json');
 * ```
 */
export class FileCheckpointStore implements CheckpointStore {
  /** The checkpoint file. */
  readonly location: string;

  /** @param path The checkpoint file; its directory must exist and be writable. */
  constructor(path: string) {
    this.location = path;
  }

  /** @returns The saved checkpoint, or `undefined`. @throws {CheckpointError} when it cannot be read. */
  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.location, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointError(`cannot read the checkpoint ${this.location} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, this.location);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CheckpointError(`the checkpoint ${this.location} is not valid JSON`, this.location);
    }
    const c = value as Partial<Checkpoint> | null;
    if (c === null || typeof c !== 'object' || c.format !== 'fieldseal-rotation-checkpoint/1' || typeof c.store !== 'string' || typeof c.position !== 'string' || typeof c.mode !== 'string' || typeof c.counts !== 'object' || c.counts === null) {
      throw new CheckpointError(`the checkpoint ${this.location} is not a fieldseal rotation checkpoint`, this.location);
    }
    const idList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((f: { id?: unknown; reason?: unknown } | null) => f !== null && typeof f === 'object' && typeof f.id === 'string' && typeof f.reason === 'string'));
    if (!idList(c.failures) || !idList(c.retrying) || (c.failuresUnlisted !== undefined && !Number.isSafeInteger(c.failuresUnlisted)) || (c.retryPosition !== undefined && typeof c.retryPosition !== 'string')) {
      throw new CheckpointError(`the checkpoint ${this.location} has a malformed list of failed records`, this.location);
    }
    return c as Checkpoint;
  }

  /** @param checkpoint The checkpoint to save. */
  async save(checkpoint: Checkpoint): Promise<void> {
    await writeFileAtomic(this.location, JSON.stringify(checkpoint, null, 2) + '\n');
  }

  /** Remove the file (no error if it is already gone). */
  async clear(): Promise<void> {
    try {
      await unlink(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await syncDirectory(dirname(this.location));
  }
}
