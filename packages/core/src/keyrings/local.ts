import { backend } from '#backend';
import { InvalidArgumentError, KeyUnavailableError, MalformedError, type KeyUnavailableReason } from '../errors.js';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';
import { zeroize } from '../lib/bytes.js';
import { MAX_KEYRING_CONTEXT_PAIRS, contextEntries, encodeEntries } from '../lib/context.js';
import { DATA_KEY_LENGTH } from '../lib/format/constants.js';
import { localUnwrap, localWrap } from '../lib/local-wrap.js';
import { registerSignalFree } from '../lib/keyring-call.js';

/** The provider id LocalKeyring writes into wrapped keys. */
export const LOCAL_PROVIDER = 'local';

/** One key version in a local key file. */
export interface LocalKeyFileEntry {
  /** Version number, starting at 1. */
  readonly version: number;
  /**
   * Random id of this key (base64url, 11-64 characters), unique per key: wrapped keys are labelled
   * `<name>/<id>/v<version>`. Key files written before key ids existed have none; their versions
   * keep the old label `<name>/v<version>`, which two key files can share (see the package README
   * on moving off it).
   */
  readonly id?: string;
  /** base64url of the 32-byte AES-256 key-encryption key. */
  readonly key: string;
  /** ISO 8601 creation time. */
  readonly createdAt: string;
}

/** The JSON shape of a local key file (`fieldseal keygen` writes one with mode 0600). */
export interface LocalKeyFile {
  readonly type: 'fieldseal-local-keyring';
  readonly formatVersion: 1;
  /** Keyring name; wrapped keys are labelled `<name>/<id>/v<version>` (`<name>/v<version>` for versions without an id). */
  readonly name: string;
  /** Version that wraps new data keys; the others only unwrap. */
  readonly primary: number;
  readonly keys: readonly LocalKeyFileEntry[];
}

interface KeyEntry {
  readonly key: Uint8Array;
  readonly createdAt: string;
  /** Undefined for a version from a key file written before key ids. */
  readonly id: string | undefined;
}

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const ID_PATTERN = /^[A-Za-z0-9_-]{11,64}$/;
/** `<name>/<id>/v<version>` or the id-less `<name>/v<version>`. */
const KEY_ID_PATTERN = /^([A-Za-z0-9._-]{1,64})(?:\/([A-Za-z0-9_-]{11,64}))?\/v([1-9][0-9]{0,15})$/;
/**
 * 64 random bits (11 characters; a header with one local KEK stays within 300 bytes): among a
 * thousand key files a shared id has odds of about 2^-45, and rotation still compares key material
 * where two keyrings share an id (`keyIdConflicts`).
 */
const ID_BYTES = 8;

function keyIdOf(name: string, version: number, id: string | undefined): string {
  return id === undefined ? `${name}/v${version}` : `${name}/${id}/v${version}`;
}

function newEntry(): KeyEntry {
  return { key: backend.randomBytes(DATA_KEY_LENGTH), createdAt: new Date().toISOString(), id: backend.base64urlEncode(backend.randomBytes(ID_BYTES)) };
}

/**
 * Key material of its own: on Node, a decoded base64 string of 32 bytes lands in the shared 8 KiB
 * Buffer pool, where every small Buffer's `.buffer` would expose it. Zero the decoded bytes after
 * copying them out.
 */
function ownKeyBytes(text: string): Uint8Array | undefined {
  const decoded = backend.base64urlDecode(text);
  if (decoded === undefined) return undefined;
  const key = new Uint8Array(decoded.length);
  key.set(decoded);
  zeroize(decoded);
  return key;
}

/**
 * A keyring of versioned AES-256 key-encryption keys held in a local key file: one primary
 * version wraps, older versions still unwrap. The embedded default: no cloud account needed.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { LocalKeyring } from '@fieldseal/core';
 * import { readFile } from 'node:fs/promises';
 * const keyring = LocalKeyring.fromKeyFile(await readFile('keys.json', 'utf8'));
 * ```
 */
export class LocalKeyring implements Keyring {
  /** Keyring name. */
  readonly name: string;
  /** Version that wraps new data keys. */
  readonly primaryVersion: number;
  readonly #keys: Map<number, KeyEntry>;

  private constructor(name: string, primary: number, keys: Map<number, KeyEntry>) {
    this.name = name;
    this.primaryVersion = primary;
    this.#keys = keys;
    Object.freeze(this);
  }

  /**
   * Create a keyring with one fresh random key (version 1) and a random key id.
   * @param options `name` defaults to `main`.
   * @returns The new keyring; save it with {@link LocalKeyring.exportKeyFile}.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an invalid name.
   */
  static async generate(options: { name?: string } = {}): Promise<LocalKeyring> {
    const name = options.name ?? 'main';
    if (!NAME_PATTERN.test(name)) throw new InvalidArgumentError('a local keyring name is 1-64 characters of A-Z a-z 0-9 . _ -');
    return new LocalKeyring(name, 1, new Map([[1, newEntry()]]));
  }

  /**
   * Load a keyring from a key file's JSON text or parsed object. Key files without key ids (written
   * before they existed) load as they are and keep their `<name>/v<version>` labels.
   * @param file The key file.
   * @returns The keyring.
   * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` when the file is not a valid local key file (the message never quotes key material).
   */
  static fromKeyFile(file: string | LocalKeyFile): LocalKeyring {
    let parsed: unknown = file;
    if (typeof file === 'string') {
      try {
        parsed = JSON.parse(file);
      } catch {
        throw new MalformedError('the key file is not valid JSON');
      }
    }
    const f = parsed as Partial<LocalKeyFile> | null;
    if (f === null || typeof f !== 'object' || f.type !== 'fieldseal-local-keyring' || f.formatVersion !== 1) throw new MalformedError('not a fieldseal local key file (type/formatVersion)');
    if (typeof f.name !== 'string' || !NAME_PATTERN.test(f.name)) throw new MalformedError('the key file has an invalid name');
    if (!Array.isArray(f.keys) || f.keys.length === 0 || f.keys.length > 1000) throw new MalformedError('the key file has no keys');
    const keys = new Map<number, KeyEntry>();
    const ids = new Set<string>();
    try {
      for (const entry of f.keys as LocalKeyFileEntry[]) {
        if (entry === null || typeof entry !== 'object' || !Number.isSafeInteger(entry.version) || entry.version < 1) throw new MalformedError('the key file has an entry with an invalid version');
        if (keys.has(entry.version)) throw new MalformedError(`the key file has version ${entry.version} twice`);
        if (entry.id !== undefined && (typeof entry.id !== 'string' || !ID_PATTERN.test(entry.id))) throw new MalformedError(`key version ${entry.version} has an invalid id (11-64 base64url characters)`);
        if (entry.id !== undefined && ids.has(entry.id)) throw new MalformedError(`the key file has the id of version ${entry.version} twice`);
        const key = typeof entry.key === 'string' ? ownKeyBytes(entry.key) : undefined;
        if (key === undefined || key.length !== DATA_KEY_LENGTH) {
          zeroize(key);
          throw new MalformedError(`key version ${entry.version} is not a base64url 32-byte key`);
        }
        if (entry.id !== undefined) ids.add(entry.id);
        keys.set(entry.version, { key, createdAt: typeof entry.createdAt === 'string' ? entry.createdAt : '', id: entry.id });
      }
      if (typeof f.primary !== 'number' || !keys.has(f.primary)) throw new MalformedError('the key file names a primary version it does not contain');
    } catch (err) {
      for (const k of keys.values()) zeroize(k.key);
      throw err;
    }
    return new LocalKeyring(f.name, f.primary, keys);
  }

  /**
   * Whether a local key id names one key only: `<name>/<id>/v<version>` does; the id-less
   * `<name>/v<version>` of key files written before key ids does not (two key files can share it).
   * @param keyId A wrapped key's key id.
   * @returns True for a key id that carries a key's unique id.
   */
  static isUniqueKeyId(keyId: string): boolean {
    const m = KEY_ID_PATTERN.exec(keyId);
    return m !== null && m[2] !== undefined;
  }

  /**
   * A new keyring with a fresh primary version added; older versions stay for decrypt only.
   * Versions without a key id (from a key file written before key ids) get one; they still open
   * documents wrapped under their old `<name>/v<version>` label.
   * @returns The rotated keyring (this one is unchanged).
   */
  withNewPrimary(): LocalKeyring {
    const next = Math.max(...this.#keys.keys()) + 1;
    const keys = new Map<number, KeyEntry>();
    for (const [version, k] of this.#keys) keys.set(version, k.id === undefined ? { ...k, id: backend.base64urlEncode(backend.randomBytes(ID_BYTES)) } : k);
    keys.set(next, newEntry());
    return new LocalKeyring(this.name, next, keys);
  }

  /**
   * The key file, including key material: write it with mode 0600 and never log it.
   * @returns The key file object.
   */
  exportKeyFile(): LocalKeyFile {
    return {
      type: 'fieldseal-local-keyring',
      formatVersion: 1,
      name: this.name,
      primary: this.primaryVersion,
      keys: [...this.#keys.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([version, k]) => ({ version, ...(k.id !== undefined ? { id: k.id } : {}), key: backend.base64urlEncode(k.key), createdAt: k.createdAt })),
    };
  }

  /** The key ids this keyring wraps under (`<name>/<id>/v<version>`, or `<name>/v<version>` for versions without an id), newest first. */
  get keyIds(): readonly string[] {
    return [...this.#keys.entries()].sort((a, b) => b[0] - a[0]).map(([v, k]) => keyIdOf(this.name, v, k.id));
  }

  /** The version a wrapped key's id names, when this keyring holds it. */
  #lookup(keyId: string): KeyEntry | undefined {
    const m = KEY_ID_PATTERN.exec(keyId);
    if (m === null || m[1] !== this.name) return undefined;
    const entry = this.#keys.get(Number(m[3]));
    // An id-less label still opens with a version that was given an id later (documents written
    // before key ids); a label with an id opens only with the key of exactly that id.
    if (entry === undefined || (m[2] !== undefined && m[2] !== entry.id)) return undefined;
    return entry;
  }

  /**
   * The key ids both this keyring and `other` wrap under, but with different key material:
   * typically `main/v1` of two key files written before key ids, or an id copied by hand. Rotating
   * from one such keyring to the other cannot tell by key id which documents are already current.
   * @param other Another local keyring.
   * @returns The conflicting key ids (empty when there are none).
   */
  keyIdConflicts(other: LocalKeyring): string[] {
    const conflicts: string[] = [];
    if (other.name !== this.name) return conflicts;
    for (const [version, mine] of this.#keys) {
      const theirs = other.#keys.get(version);
      if (theirs === undefined || theirs.id !== mine.id) continue;
      if (!backend.timingSafeEqual(mine.key, theirs.key)) conflicts.push(keyIdOf(this.name, version, mine.id));
    }
    return conflicts;
  }

  /** Wrap (or generate and wrap) a data key under the primary version (local wrap version 2: a per-wrap key from the KEK and a random salt). */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    request?.signal?.throwIfAborted();
    const entries = contextEntries(request.context, 'context', MAX_KEYRING_CONTEXT_PAIRS);
    const dataKey = request.dataKey === undefined ? backend.randomBytes(DATA_KEY_LENGTH) : request.dataKey;
    const primary = this.#keys.get(this.primaryVersion)!;
    const keyId = keyIdOf(this.name, this.primaryVersion, primary.id);
    const ciphertext = await localWrap(backend, primary.key, keyId, encodeEntries(entries), dataKey);
    const wrapped: WrappedKey = { provider: LOCAL_PROVIDER, keyId, ciphertext };
    return { dataKey: request.dataKey === undefined ? dataKey : request.dataKey.slice(), wrapped: [wrapped] };
  }

  /** Unwrap with any version this keyring holds (wrap versions 1 and 2); never with a key it does not hold. */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const canonical = encodeEntries(contextEntries(request.context, 'context', MAX_KEYRING_CONTEXT_PAIRS));
    const reasons: KeyUnavailableReason[] = [];
    for (const w of request.wrapped) {
      request.signal?.throwIfAborted();
      if (w.provider !== LOCAL_PROVIDER) continue;
      const entry = this.#lookup(w.keyId);
      if (entry === undefined) {
        reasons.push({ provider: LOCAL_PROVIDER, keyId: w.keyId, message: 'this keyring does not hold that key' });
        continue;
      }
      try {
        const dataKey = await localUnwrap(backend, entry.key, w.keyId, canonical, w.ciphertext);
        if (dataKey.length === DATA_KEY_LENGTH) return dataKey;
        zeroize(dataKey);
        reasons.push({ provider: LOCAL_PROVIDER, keyId: w.keyId, message: 'the wrapped key has the wrong length' });
      } catch {
        reasons.push({ provider: LOCAL_PROVIDER, keyId: w.keyId, message: 'the wrapped key does not authenticate (wrong context or modified)' });
      }
    }
    if (reasons.length === 0) reasons.push({ provider: LOCAL_PROVIDER, message: `no wrapped key is from a local keyring (this one is "${this.name}")` });
    throw new KeyUnavailableError('the local keyring could not unwrap the data key', reasons);
  }

  /** Zero this keyring's key material in memory (best effort). The keyring is unusable afterwards. */
  destroy(): void {
    for (const k of this.#keys.values()) zeroize(k.key);
  }

  /** JSON form without key material, so an accidental `JSON.stringify(keyring)` leaks nothing. */
  toJSON(): { provider: string; name: string; primary: string; keyIds: readonly string[] } {
    return { provider: LOCAL_PROVIDER, name: this.name, primary: keyIdOf(this.name, this.primaryVersion, this.#keys.get(this.primaryVersion)!.id), keyIds: this.keyIds };
  }
}

// Its work is microseconds of CPU in this thread: core's keyring calls hand it no lazily made signal.
registerSignalFree(LocalKeyring.prototype);
