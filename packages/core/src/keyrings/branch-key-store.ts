import type { WrappedKey } from '../types.js';

/**
 * One version of a branch key as a key store keeps it: the 32-byte branch key itself never leaves
 * the key-encryption keyring except wrapped.
 */
export interface BranchKeyRecord {
  /** The branch key's id (a tenant id, say): 1–255 UTF-8 bytes. */
  readonly branchKeyId: string;
  /** Version, from 1; one version per id is `active` and wraps new data keys. */
  readonly version: number;
  readonly state: 'active' | 'retired';
  /** ISO 8601 creation time. */
  readonly createdAt: string;
  /** The branch key wrapped by the key-encryption keyring under {@link branchKeyContext}. */
  readonly wrapped: readonly WrappedKey[];
}

/**
 * Where branch keys live. Implementations: {@link MemoryBranchKeyStore} (tests, one process),
 * and in `@fieldseal/keystore` a JSON file (the embedded default) and PostgreSQL.
 * Every write is a compare-and-swap, so concurrent rotations by several processes cannot both win.
 */
export interface BranchKeyStore {
  /** The active version of a branch key, or `undefined` when there is none (never created, or destroyed). */
  getActive(branchKeyId: string): Promise<BranchKeyRecord | undefined>;
  /** One version of a branch key, or `undefined`. */
  getVersion(branchKeyId: string, version: number): Promise<BranchKeyRecord | undefined>;
  /**
   * Store a new active version. `expectedActive` is the version that must be active now
   * (`undefined`: the id must not exist yet); it becomes `retired` in the same atomic step.
   * Returns false, changing nothing, when that expectation does not hold.
   */
  putVersion(record: BranchKeyRecord, expectedActive: number | undefined): Promise<boolean>;
  /** Replace one version's wrapped keys (KEK rotation) if they are still `previous`; false otherwise. */
  replaceWrapped(branchKeyId: string, version: number, previous: readonly WrappedKey[], next: readonly WrappedKey[]): Promise<boolean>;
  /** Every version of every branch key (wrapped, never in the clear), ordered by id then version. */
  list(): Promise<BranchKeyRecord[]>;
  /** Delete every version of a branch key (crypto-shredding); returns how many versions were deleted. */
  destroy(branchKeyId: string): Promise<number>;
}

/**
 * The keyring context under which a branch key is wrapped by its key-encryption keyring. The
 * `fieldseal.` prefix is reserved: no document's context can name these keys, so a wrapped branch
 * key can never be replayed as a document's data key or the other way round.
 */
export function branchKeyContext(branchKeyId: string, version: number): Record<string, string> {
  return { 'fieldseal.purpose': 'branch-key', 'fieldseal.branch-key-id': branchKeyId, 'fieldseal.branch-key-version': String(version) };
}

function sameWrapped(a: readonly WrappedKey[], b: readonly WrappedKey[]): boolean {
  return a.length === b.length && a.every((w, i) => w.provider === b[i]!.provider && w.keyId === b[i]!.keyId && w.ciphertext.length === b[i]!.ciphertext.length && w.ciphertext.every((x, j) => x === b[i]!.ciphertext[j]));
}

/**
 * A branch key store in memory: for tests and single-process use (its keys die with the process).
 *
 * Importable from `@fieldseal/core`.
 */
export class MemoryBranchKeyStore implements BranchKeyStore {
  readonly #records = new Map<string, BranchKeyRecord[]>();

  async getActive(branchKeyId: string): Promise<BranchKeyRecord | undefined> {
    return this.#records.get(branchKeyId)?.find((r) => r.state === 'active');
  }
  async getVersion(branchKeyId: string, version: number): Promise<BranchKeyRecord | undefined> {
    return this.#records.get(branchKeyId)?.find((r) => r.version === version);
  }
  async putVersion(record: BranchKeyRecord, expectedActive: number | undefined): Promise<boolean> {
    const versions = this.#records.get(record.branchKeyId) ?? [];
    const active = versions.find((r) => r.state === 'active');
    if (active?.version !== expectedActive || versions.some((r) => r.version === record.version)) return false;
    const next = versions.map((r) => (r === active ? { ...r, state: 'retired' as const } : r));
    next.push(record);
    this.#records.set(record.branchKeyId, next);
    return true;
  }
  async replaceWrapped(branchKeyId: string, version: number, previous: readonly WrappedKey[], next: readonly WrappedKey[]): Promise<boolean> {
    const versions = this.#records.get(branchKeyId);
    const i = versions?.findIndex((r) => r.version === version) ?? -1;
    if (versions === undefined || i < 0 || !sameWrapped(versions[i]!.wrapped, previous)) return false;
    versions[i] = { ...versions[i]!, wrapped: next };
    return true;
  }
  async list(): Promise<BranchKeyRecord[]> {
    return [...this.#records.keys()].sort().flatMap((id) => [...this.#records.get(id)!].sort((a, b) => a.version - b.version));
  }
  async destroy(branchKeyId: string): Promise<number> {
    const n = this.#records.get(branchKeyId)?.length ?? 0;
    this.#records.delete(branchKeyId);
    return n;
  }
}
