import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { InvalidArgumentError, MalformedError, type BranchKeyRecord, type BranchKeyStore, type WrappedKey } from '@fieldseal/core';
import { checkRecord, sameWrapped, wrappedToJson } from './serialize.js';

const FILE_TYPE = 'fieldseal-branch-key-store';
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

interface StoreFile {
  type: typeof FILE_TYPE;
  formatVersion: 1;
  records: unknown[];
}

/**
 * The embedded branch-key store: one JSON file (mode 0600) holding wrapped branch keys only. Every
 * read goes to the file, so several processes on one machine see the same keys; every write takes
 * an exclusive lock file, re-reads, checks its compare-and-swap condition and replaces the file
 * atomically (write to a temporary file, fsync, rename). Use PostgreSQL for several machines.
 *
 * Importable from `@fieldseal/keystore`.
 *
 * @example
 * ```ts
 * import { FileBranchKeyStore } from '@fieldseal/keystore';
 * const store = new FileBranchKeyStore('branch-keys.json');
 * ```
 */
export class FileBranchKeyStore implements BranchKeyStore {
  /** The store file's path. */
  readonly path: string;

  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('FileBranchKeyStore needs a file path');
    this.path = path;
  }

  async #read(): Promise<BranchKeyRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: Partial<StoreFile>;
    try {
      parsed = JSON.parse(text) as Partial<StoreFile>;
    } catch {
      throw new MalformedError(`the branch key store ${this.path} is not valid JSON`);
    }
    if (parsed?.type !== FILE_TYPE || parsed.formatVersion !== 1 || !Array.isArray(parsed.records)) throw new MalformedError(`${this.path} is not a fieldseal branch key store`);
    return parsed.records.map((r) => checkRecord(r, this.path));
  }

  async #write(records: readonly BranchKeyRecord[]): Promise<void> {
    const body: StoreFile = { type: FILE_TYPE, formatVersion: 1, records: records.map((r) => ({ ...r, wrapped: wrappedToJson(r.wrapped) })) };
    const temp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(body, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
  }

  /** Run `change` under the lock; it returns the new records, or undefined to leave the file as it is. */
  async #update<T>(change: (records: BranchKeyRecord[]) => { records?: BranchKeyRecord[]; result: T }): Promise<T> {
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx', 0o600)).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A writer that died holding the lock must not block the store for ever.
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        if (Date.now() > deadline) throw new InvalidArgumentError(`the branch key store ${this.path} is locked by another writer (${lock})`);
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      }
    }
    try {
      const { records, result } = change(await this.#read());
      if (records !== undefined) await this.#write(records);
      return result;
    } finally {
      await rm(lock, { force: true });
    }
  }

  async getActive(branchKeyId: string): Promise<BranchKeyRecord | undefined> {
    return (await this.#read()).find((r) => r.branchKeyId === branchKeyId && r.state === 'active');
  }

  async getVersion(branchKeyId: string, version: number): Promise<BranchKeyRecord | undefined> {
    return (await this.#read()).find((r) => r.branchKeyId === branchKeyId && r.version === version);
  }

  putVersion(record: BranchKeyRecord, expectedActive: number | undefined): Promise<boolean> {
    return this.#update((records) => {
      const active = records.find((r) => r.branchKeyId === record.branchKeyId && r.state === 'active');
      if (active?.version !== expectedActive || records.some((r) => r.branchKeyId === record.branchKeyId && r.version === record.version)) return { result: false };
      return { records: [...records.map((r) => (r === active ? { ...r, state: 'retired' as const } : r)), record], result: true };
    });
  }

  replaceWrapped(branchKeyId: string, version: number, previous: readonly WrappedKey[], next: readonly WrappedKey[]): Promise<boolean> {
    return this.#update((records) => {
      const i = records.findIndex((r) => r.branchKeyId === branchKeyId && r.version === version);
      if (i < 0 || !sameWrapped(records[i]!.wrapped, previous)) return { result: false };
      const out = [...records];
      out[i] = { ...out[i]!, wrapped: next };
      return { records: out, result: true };
    });
  }

  async list(): Promise<BranchKeyRecord[]> {
    return (await this.#read()).sort((a, b) => (a.branchKeyId < b.branchKeyId ? -1 : a.branchKeyId > b.branchKeyId ? 1 : a.version - b.version));
  }

  destroy(branchKeyId: string): Promise<number> {
    return this.#update((records) => {
      const kept = records.filter((r) => r.branchKeyId !== branchKeyId);
      const n = records.length - kept.length;
      return n === 0 ? { result: 0 } : { records: kept, result: n };
    });
  }
}

