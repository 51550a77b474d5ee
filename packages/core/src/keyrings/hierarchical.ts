import { backend } from '#backend';
import { InvalidArgumentError, KeyUnavailableError, type KeyUnavailableReason } from '../errors.js';
import type { EncryptionContext, Keyring, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';
import { ByteWriter, zeroize } from '../lib/bytes.js';
import { MAX_KEYRING_CONTEXT_PAIRS, contextEntries, encodeEntries } from '../lib/context.js';
import { DATA_KEY_LENGTH } from '../lib/format/constants.js';
import { emitKeyAccess, errorCodeOf, type KeyAccessAuditOptions } from './audit.js';
import { branchKeyContext, type BranchKeyRecord, type BranchKeyStore } from './branch-key-store.js';

/** The provider id of data keys wrapped by a branch key. */
export const HIERARCHY_PROVIDER = 'fieldseal-hierarchy';

const WRAP_LABEL = 'fieldseal/v1/hierarchy-wrap\0';
const KDF_LABEL = 'fieldseal/v1/hierarchy\0';
const SALT_LENGTH = 16;
const KEY_ID = /^(.+)\/v([1-9][0-9]{0,9})$/s;

/** Which branch key wraps a document's data key. */
export type BranchKeySelector = string | { readonly contextKey: string } | ((context: EncryptionContext) => string);

/** Options of {@link HierarchicalKeyring}. */
export interface HierarchicalKeyringOptions {
  /** Where the branch keys are kept. */
  readonly store: BranchKeyStore;
  /** The key-encryption keyring that wraps the branch keys (AWS, Azure, GCP, Vault, local…). */
  readonly kek: Keyring;
  /**
   * The branch key of a document: a fixed id, or `{ contextKey: 'tenant' }` to use the value of a
   * context key (one key per tenant: separated cryptographically, rotated and shredded alone), or a
   * function of the context. The same choice is made again at decrypt, so a document can only be
   * opened under the branch key its own context names.
   */
  readonly branchKeyId: BranchKeySelector;
  /** How long a loaded branch key is used before it is loaded (and its active version read) again. Default 5 minutes. */
  readonly cacheTtlMs?: number;
  /** Most branch-key versions kept in memory (least recently used evicted first). Default 1,000. */
  readonly maxCacheEntries?: number;
  /** Audit events for every wrap, unwrap and branch-key load. */
  readonly audit?: KeyAccessAuditOptions;
  /** Name used in audit events. Default `fieldseal-hierarchy`. */
  readonly name?: string;
}

/** Hits, misses and key-encryption-keyring calls of a {@link HierarchicalKeyring}. */
export interface HierarchicalKeyringStats {
  readonly hits: number;
  readonly misses: number;
  /** Calls to the key-encryption keyring (KMS calls when it is a KMS keyring). */
  readonly kekCalls: number;
  /** Branch-key versions currently cached. */
  readonly cached: number;
}

interface CachedVersion {
  readonly key: Uint8Array;
  readonly expiresAt: number;
}

function checkBranchKeyId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || !id.isWellFormed() || backend.utf8Encode(id).length > 255) throw new InvalidArgumentError('a branch key id is a non-empty, well-formed string of at most 255 UTF-8 bytes');
  return id;
}

/** `info` of the per-wrap key derivation and the AAD of the wrap (docs/FORMAT.md §10). */
function idAndVersion(label: string, id: string, version: number): ByteWriter {
  const idBytes = backend.utf8Encode(id);
  return new ByteWriter().bytes(backend.utf8Encode(label)).u16(idBytes.length).bytes(idBytes).u32(version);
}

/**
 * A keyring that wraps data keys locally with a branch key, and keeps the branch keys in a
 * {@link BranchKeyStore}, wrapped by a key-encryption keyring (a KMS). After a branch key is loaded
 * (one KMS call per branch-key version per `cacheTtlMs`), wrapping and unwrapping data keys make
 * no KMS call; rotating the KMS key rewraps the branch keys only ({@link rewrapBranchKeys}); and
 * destroying a tenant's branch key ({@link destroyBranchKey}) makes that tenant's documents
 * unrecoverable. Each wrap derives a fresh AES-256 key from the branch key and a random salt
 * (HKDF-SHA256), so no AES-GCM usage bound applies to the branch key. docs/FORMAT.md §10.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { HierarchicalKeyring, createBranchKey } from '@fieldseal/core';
 * await createBranchKey({ store, kek: kmsKeyring, branchKeyId: 'acme' });       // once per tenant
 * const keyring = new HierarchicalKeyring({ store, kek: kmsKeyring, branchKeyId: { contextKey: 'tenant' } });
 * const sealed = await encrypt(doc, { keyring, paths: ['$.ssn'], context: { tenant: 'acme' } });
 * ```
 */
export class HierarchicalKeyring implements Keyring {
  readonly #store: BranchKeyStore;
  readonly #kek: Keyring;
  readonly #select: (context: EncryptionContext) => string;
  readonly #ttl: number;
  readonly #max: number;
  readonly #audit: KeyAccessAuditOptions | undefined;
  readonly #name: string;
  readonly #versions = new Map<string, CachedVersion>();
  readonly #active = new Map<string, { version: number; expiresAt: number }>();
  readonly #loading = new Map<string, Promise<{ key: Uint8Array; version: number; cached: boolean }>>();
  #hits = 0;
  #misses = 0;
  #kekCalls = 0;

  constructor(options: HierarchicalKeyringOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('HierarchicalKeyring options must be an object');
    const { store, kek, branchKeyId } = options;
    if (store === null || typeof store !== 'object' || typeof store.getActive !== 'function') throw new InvalidArgumentError('store must be a BranchKeyStore');
    if (kek === null || typeof kek !== 'object' || typeof kek.unwrap !== 'function') throw new InvalidArgumentError('kek must be a keyring');
    if (typeof branchKeyId === 'string') {
      const fixed = checkBranchKeyId(branchKeyId);
      this.#select = () => fixed;
    } else if (typeof branchKeyId === 'function') {
      this.#select = (ctx) => checkBranchKeyId(branchKeyId(ctx));
    } else if (branchKeyId !== null && typeof branchKeyId === 'object' && typeof branchKeyId.contextKey === 'string') {
      const key = branchKeyId.contextKey;
      this.#select = (ctx) => {
        if (!Object.prototype.hasOwnProperty.call(ctx, key)) throw new InvalidArgumentError(`the encryption context has no "${key}", which chooses the branch key`);
        return checkBranchKeyId(ctx[key]);
      };
    } else {
      throw new InvalidArgumentError('branchKeyId must be an id, { contextKey }, or a function of the context');
    }
    this.#ttl = options.cacheTtlMs ?? 5 * 60_000;
    this.#max = options.maxCacheEntries ?? 1000;
    if (!(this.#ttl >= 0) || !Number.isFinite(this.#ttl)) throw new InvalidArgumentError('cacheTtlMs must be a finite number >= 0');
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) throw new InvalidArgumentError('maxCacheEntries must be a positive integer');
    this.#store = store;
    this.#kek = kek;
    this.#audit = options.audit;
    this.#name = options.name ?? HIERARCHY_PROVIDER;
  }

  /** Hits, misses, key-encryption-keyring calls and cache size. */
  get stats(): HierarchicalKeyringStats {
    return { hits: this.#hits, misses: this.#misses, kekCalls: this.#kekCalls, cached: this.#versions.size };
  }

  /** Drop every cached branch key (zeroed), e.g. after another service shredded one. */
  clear(): void {
    for (const v of this.#versions.values()) zeroize(v.key);
    this.#versions.clear();
    this.#active.clear();
  }

  /** Drop one branch key's cached versions (zeroed). */
  evict(branchKeyId: string): void {
    for (const [k, v] of this.#versions) {
      if (k.startsWith(`${branchKeyId}\0`)) {
        zeroize(v.key);
        this.#versions.delete(k);
      }
    }
    this.#active.delete(branchKeyId);
  }

  #remember(id: string, version: number, key: Uint8Array): void {
    const slot = `${id}\0${version}`;
    const old = this.#versions.get(slot);
    if (old !== undefined && old.key !== key) zeroize(old.key);
    this.#versions.delete(slot);
    this.#versions.set(slot, { key, expiresAt: Date.now() + this.#ttl });
    while (this.#versions.size > this.#max) {
      const [oldest, entry] = this.#versions.entries().next().value as [string, CachedVersion];
      zeroize(entry.key);
      this.#versions.delete(oldest);
    }
  }

  /** A copy of a branch-key version (from the cache, or loaded once for concurrent callers). */
  async #branchKey(id: string, version: number | 'active', context: EncryptionContext): Promise<{ key: Uint8Array; version: number }> {
    const now = Date.now();
    const active = version === 'active' ? this.#active.get(id) : undefined;
    const wanted = version === 'active' ? (active !== undefined && active.expiresAt > now ? active.version : undefined) : version;
    if (wanted !== undefined) {
      const slot = `${id}\0${wanted}`;
      const hit = this.#versions.get(slot);
      if (hit !== undefined && hit.expiresAt > now) {
        this.#versions.delete(slot);
        this.#versions.set(slot, hit);
        this.#hits++;
        return { key: hit.key.slice(), version: wanted };
      }
    }
    this.#misses++;
    const flight = `${id}\0${version}`;
    let pending = this.#loading.get(flight);
    if (pending === undefined) {
      pending = this.#load(id, version, context).finally(() => this.#loading.delete(flight));
      this.#loading.set(flight, pending);
    }
    const loaded = await pending;
    return { key: loaded.key.slice(), version: loaded.version };
  }

  async #load(id: string, version: number | 'active', context: EncryptionContext): Promise<{ key: Uint8Array; version: number; cached: boolean }> {
    const startedAt = performance.now();
    const keyId = version === 'active' ? id : `${id}/v${version}`;
    try {
      const record = version === 'active' ? await this.#store.getActive(id) : await this.#store.getVersion(id, version);
      if (record === undefined) throw new KeyUnavailableError(`branch key "${keyId}" is not in the key store (never created, or destroyed)`, [{ provider: HIERARCHY_PROVIDER, keyId, message: 'no such branch key' }]);
      this.#kekCalls++;
      const key = await this.#kek.unwrap({ wrapped: record.wrapped, context: branchKeyContext(id, record.version) });
      if (!(key instanceof Uint8Array) || key.length !== DATA_KEY_LENGTH) throw new KeyUnavailableError('the key-encryption keyring returned a branch key of the wrong length');
      const own = key.slice();
      zeroize(key);
      this.#remember(id, record.version, own);
      if (version === 'active') this.#active.set(id, { version: record.version, expiresAt: Date.now() + this.#ttl });
      emitKeyAccess(this.#audit, { operation: 'branch-key-load', keyring: this.#name, keyIds: [`${id}/v${record.version}`], outcome: 'success', cached: false }, context, startedAt);
      return { key: own, version: record.version, cached: false };
    } catch (err) {
      const code = errorCodeOf(err);
      emitKeyAccess(this.#audit, { operation: 'branch-key-load', keyring: this.#name, keyIds: [keyId], outcome: 'failure', ...(code ? { errorCode: code } : {}) }, context, startedAt);
      throw err;
    }
  }

  /** Wrap (or generate and wrap) a data key under the active version of the context's branch key. */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const startedAt = performance.now();
    let keyId = '';
    try {
      const id = this.#select(request.context);
      const canonical = encodeEntries(contextEntries(request.context, 'context', MAX_KEYRING_CONTEXT_PAIRS));
      const { key, version } = await this.#branchKey(id, 'active', request.context);
      keyId = `${id}/v${version}`;
      const dataKey = request.dataKey === undefined ? backend.randomBytes(DATA_KEY_LENGTH) : request.dataKey.slice();
      const salt = backend.randomBytes(SALT_LENGTH);
      let wrapKey: Uint8Array | undefined;
      try {
        wrapKey = await backend.hkdfSha256(key, salt, idAndVersion(KDF_LABEL, id, version).finish(), DATA_KEY_LENGTH);
        const [sealed] = await backend.sealMany(wrapKey, [{ aad: idAndVersion(WRAP_LABEL, id, version).bytes(canonical).finish(), plaintext: dataKey }]);
        const ciphertext = new Uint8Array(SALT_LENGTH + sealed!.length);
        ciphertext.set(salt);
        ciphertext.set(sealed!, SALT_LENGTH);
        emitKeyAccess(this.#audit, { operation: 'wrap', keyring: this.#name, keyIds: [keyId], outcome: 'success' }, request.context, startedAt);
        return { dataKey, wrapped: [{ provider: HIERARCHY_PROVIDER, keyId, ciphertext }] };
      } finally {
        zeroize(key, wrapKey);
      }
    } catch (err) {
      const code = errorCodeOf(err);
      emitKeyAccess(this.#audit, { operation: 'wrap', keyring: this.#name, keyIds: keyId ? [keyId] : [], outcome: 'failure', ...(code ? { errorCode: code } : {}) }, request.context, startedAt);
      throw err;
    }
  }

  /** Unwrap a data key wrapped under a version of the branch key the context names; never under another. */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const startedAt = performance.now();
    const reasons: KeyUnavailableReason[] = [];
    const tried: string[] = [];
    let expected: string;
    try {
      expected = this.#select(request.context);
    } catch (err) {
      emitKeyAccess(this.#audit, { operation: 'unwrap', keyring: this.#name, keyIds: [], outcome: 'failure', errorCode: errorCodeOf(err) ?? 'ERR_FIELDSEAL' }, request.context, startedAt);
      throw err;
    }
    const canonical = encodeEntries(contextEntries(request.context, 'context', MAX_KEYRING_CONTEXT_PAIRS));
    for (const w of request.wrapped) {
      if (w.provider !== HIERARCHY_PROVIDER) continue;
      const m = KEY_ID.exec(w.keyId);
      if (m === null || m[1] !== expected) {
        reasons.push({ provider: HIERARCHY_PROVIDER, keyId: w.keyId, message: 'not a version of the branch key this context names' });
        continue;
      }
      // One try per document and branch key: a hostile header listing it many times costs one load.
      if (tried.includes(w.keyId)) continue;
      tried.push(w.keyId);
      const version = Number(m[2]);
      if (w.ciphertext.length !== SALT_LENGTH + 12 + DATA_KEY_LENGTH + 16) {
        reasons.push({ provider: HIERARCHY_PROVIDER, keyId: w.keyId, message: 'the wrapped key has the wrong length' });
        continue;
      }
      let key: Uint8Array | undefined;
      let wrapKey: Uint8Array | undefined;
      try {
        key = (await this.#branchKey(expected, version, request.context)).key;
        wrapKey = await backend.hkdfSha256(key, w.ciphertext.subarray(0, SALT_LENGTH), idAndVersion(KDF_LABEL, expected, version).finish(), DATA_KEY_LENGTH);
        const [dataKey] = await backend.openMany(wrapKey, [{ aad: idAndVersion(WRAP_LABEL, expected, version).bytes(canonical).finish(), blob: w.ciphertext.subarray(SALT_LENGTH) }]);
        emitKeyAccess(this.#audit, { operation: 'unwrap', keyring: this.#name, keyIds: [w.keyId], outcome: 'success' }, request.context, startedAt);
        return dataKey!;
      } catch (err) {
        reasons.push({ provider: HIERARCHY_PROVIDER, keyId: w.keyId, message: err instanceof KeyUnavailableError ? 'the branch key could not be loaded' : 'the wrapped key does not authenticate (wrong context or modified)', cause: err });
      } finally {
        zeroize(key, wrapKey);
      }
    }
    if (reasons.length === 0) reasons.push({ provider: HIERARCHY_PROVIDER, message: 'no wrapped key is from a hierarchical keyring' });
    const error = new KeyUnavailableError('the hierarchical keyring could not unwrap the data key', reasons);
    emitKeyAccess(this.#audit, { operation: 'unwrap', keyring: this.#name, keyIds: tried, outcome: 'failure', errorCode: error.code }, request.context, startedAt);
    throw error;
  }

  /** JSON form without key material. */
  toJSON(): { provider: string; stats: HierarchicalKeyringStats } {
    return { provider: HIERARCHY_PROVIDER, stats: this.stats };
  }
}

/** What the branch-key administration functions take. */
export interface BranchKeyAdminOptions {
  readonly store: BranchKeyStore;
  /** The key-encryption keyring that wraps branch keys. */
  readonly kek: Keyring;
  readonly branchKeyId: string;
  readonly audit?: KeyAccessAuditOptions;
}

async function newVersion(options: BranchKeyAdminOptions, version: number): Promise<BranchKeyRecord> {
  const { dataKey, wrapped } = await options.kek.wrap({ context: branchKeyContext(options.branchKeyId, version) });
  zeroize(dataKey);
  if (!Array.isArray(wrapped) || wrapped.length === 0) throw new InvalidArgumentError('the key-encryption keyring returned no wrapped key');
  return { branchKeyId: options.branchKeyId, version, state: 'active', createdAt: new Date().toISOString(), wrapped: wrapped.map((w) => ({ provider: w.provider, keyId: w.keyId, ciphertext: w.ciphertext.slice() })) };
}

async function audited<T>(options: BranchKeyAdminOptions, operation: 'branch-key-create' | 'branch-key-rotate' | 'branch-key-destroy', run: () => Promise<T>, keyIdOf: (result: T) => string): Promise<T> {
  const startedAt = performance.now();
  try {
    const result = await run();
    emitKeyAccess(options.audit, { operation, keyring: HIERARCHY_PROVIDER, keyIds: [keyIdOf(result)], outcome: 'success' }, undefined, startedAt);
    return result;
  } catch (err) {
    const code = errorCodeOf(err);
    emitKeyAccess(options.audit, { operation, keyring: HIERARCHY_PROVIDER, keyIds: [options.branchKeyId], outcome: 'failure', ...(code ? { errorCode: code } : {}) }, undefined, startedAt);
    throw err;
  }
}

/**
 * Creates a branch key (version 1): the key-encryption keyring generates and wraps it; the store
 * keeps only the wrapped form.
 *
 * Importable from `@fieldseal/core`.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the id exists already.
 */
export function createBranchKey(options: BranchKeyAdminOptions): Promise<BranchKeyRecord> {
  return audited(options, 'branch-key-create', async () => {
    checkBranchKeyId(options.branchKeyId);
    const record = await newVersion(options, 1);
    if (!(await options.store.putVersion(record, undefined))) throw new InvalidArgumentError(`branch key "${options.branchKeyId}" exists already (rotate it instead)`);
    return record;
  }, (r) => `${r.branchKeyId}/v${r.version}`);
}

/**
 * Rotates one branch key: a new active version wraps new data keys; the old versions stay
 * (retired) so existing documents still open. Concurrent rotations: one wins, the others fail.
 *
 * Importable from `@fieldseal/core`.
 * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when the branch key does not exist.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when another rotation won the race.
 */
export function rotateBranchKey(options: BranchKeyAdminOptions): Promise<BranchKeyRecord> {
  return audited(options, 'branch-key-rotate', async () => {
    const active = await options.store.getActive(checkBranchKeyId(options.branchKeyId));
    if (active === undefined) throw new KeyUnavailableError(`branch key "${options.branchKeyId}" does not exist`);
    const record = await newVersion(options, active.version + 1);
    if (!(await options.store.putVersion(record, active.version))) throw new InvalidArgumentError(`branch key "${options.branchKeyId}" was rotated concurrently; retry`);
    return record;
  }, (r) => `${r.branchKeyId}/v${r.version}`);
}

/**
 * Crypto-shredding: deletes every version of a branch key from the store, so every data key it
 * wrapped (every document of that tenant, in backups too) can no longer be unwrapped once the
 * processes that cached it have evicted it (their `cacheTtlMs`, or `clear()`). Irreversible.
 *
 * Importable from `@fieldseal/core`.
 */
export function destroyBranchKey(options: Pick<BranchKeyAdminOptions, 'store' | 'branchKeyId' | 'audit'>): Promise<number> {
  return audited(options as BranchKeyAdminOptions, 'branch-key-destroy', () => options.store.destroy(checkBranchKeyId(options.branchKeyId)), () => options.branchKeyId);
}

/** What {@link rewrapBranchKeys} reports. */
export interface RewrapBranchKeysResult {
  /** Branch-key versions now wrapped under the new key-encryption keyring. */
  readonly rewrapped: number;
  /** Versions that changed concurrently and were left for a rerun. */
  readonly conflicts: number;
}

/**
 * Rotates the key-encryption key in O(branch keys): unwraps each stored branch-key version with
 * `from` and wraps the same key under `to` (compare-and-swap per version). No document is touched.
 *
 * Importable from `@fieldseal/core`.
 */
export async function rewrapBranchKeys(options: { readonly store: BranchKeyStore; readonly from: Keyring; readonly to: Keyring; readonly audit?: KeyAccessAuditOptions }): Promise<RewrapBranchKeysResult> {
  let rewrapped = 0;
  let conflicts = 0;
  for (const record of await options.store.list()) {
    const startedAt = performance.now();
    const context = branchKeyContext(record.branchKeyId, record.version);
    const key = await options.from.unwrap({ wrapped: record.wrapped, context });
    try {
      const { dataKey, wrapped } = await options.to.wrap({ dataKey: key, context });
      zeroize(dataKey);
      // Verify before replacing: the new wrap must give back the same branch key.
      const check = await options.to.unwrap({ wrapped, context });
      const same = check.length === key.length && backend.timingSafeEqual(check, key);
      zeroize(check);
      if (!same) throw new KeyUnavailableError(`the new key-encryption keyring did not give back branch key "${record.branchKeyId}/v${record.version}"`);
      const next: WrappedKey[] = wrapped.map((w) => ({ provider: w.provider, keyId: w.keyId, ciphertext: w.ciphertext.slice() }));
      if (await options.store.replaceWrapped(record.branchKeyId, record.version, record.wrapped, next)) rewrapped++;
      else conflicts++;
      emitKeyAccess(options.audit, { operation: 'branch-key-rewrap', keyring: HIERARCHY_PROVIDER, keyIds: [`${record.branchKeyId}/v${record.version}`], outcome: 'success' }, undefined, startedAt);
    } finally {
      zeroize(key);
    }
  }
  return { rewrapped, conflicts };
}
