import { backend } from '#backend';
import { InvalidArgumentError, KeyUnavailableError, MalformedError, type KeyUnavailableReason } from '../errors.js';
import type { Keyring, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';
import { ByteWriter, zeroize } from '../lib/bytes.js';
import { contextEntries, encodeEntries } from '../lib/context.js';
import { DATA_KEY_LENGTH, LABEL_LOCAL_WRAP } from '../lib/format/constants.js';

/** The provider id LocalKeyring writes into wrapped keys. */
export const LOCAL_PROVIDER = 'local';

/** One key version in a local key file. */
export interface LocalKeyFileEntry {
  /** Version number, starting at 1. */
  readonly version: number;
  /** base64url of the 32-byte AES-256 key-encryption key. */
  readonly key: string;
  /** ISO 8601 creation time. */
  readonly createdAt: string;
}

/** The JSON shape of a local key file (`fieldseal keygen` writes one with mode 0600). */
export interface LocalKeyFile {
  readonly type: 'fieldseal-local-keyring';
  readonly formatVersion: 1;
  /** Keyring name; wrapped keys are labelled `<name>/v<version>`. */
  readonly name: string;
  /** Version that wraps new data keys; the others only unwrap. */
  readonly primary: number;
  readonly keys: readonly LocalKeyFileEntry[];
}

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

function keyIdOf(name: string, version: number): string {
  return `${name}/v${version}`;
}

/**
 * AES-256-GCM key wrap bound to the key id and the full encryption context:
 * AAD = "fieldseal/v1/local-wrap\0" ‖ u16 len ‖ key id ‖ canonical context.
 */
function wrapAad(keyId: string, canonicalContext: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(keyId);
  return new ByteWriter().bytes(LABEL_LOCAL_WRAP).u16(id.length).bytes(id).bytes(canonicalContext).finish();
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
  readonly #keys: Map<number, { key: Uint8Array; createdAt: string }>;

  private constructor(name: string, primary: number, keys: Map<number, { key: Uint8Array; createdAt: string }>) {
    this.name = name;
    this.primaryVersion = primary;
    this.#keys = keys;
    Object.freeze(this);
  }

  /**
   * Create a keyring with one fresh random key (version 1).
   * @param options `name` defaults to `main`.
   * @returns The new keyring; save it with {@link LocalKeyring.exportKeyFile}.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an invalid name.
   */
  static async generate(options: { name?: string } = {}): Promise<LocalKeyring> {
    const name = options.name ?? 'main';
    if (!NAME_PATTERN.test(name)) throw new InvalidArgumentError('a local keyring name is 1-64 characters of A-Z a-z 0-9 . _ -');
    return new LocalKeyring(name, 1, new Map([[1, { key: backend.randomBytes(DATA_KEY_LENGTH), createdAt: new Date().toISOString() }]]));
  }

  /**
   * Load a keyring from a key file's JSON text or parsed object.
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
    const keys = new Map<number, { key: Uint8Array; createdAt: string }>();
    for (const entry of f.keys as LocalKeyFileEntry[]) {
      if (entry === null || typeof entry !== 'object' || !Number.isSafeInteger(entry.version) || entry.version < 1) throw new MalformedError('the key file has an entry with an invalid version');
      if (keys.has(entry.version)) throw new MalformedError(`the key file has version ${entry.version} twice`);
      const key = typeof entry.key === 'string' ? backend.base64urlDecode(entry.key) : undefined;
      if (key === undefined || key.length !== DATA_KEY_LENGTH) throw new MalformedError(`key version ${entry.version} is not a base64url 32-byte key`);
      keys.set(entry.version, { key, createdAt: typeof entry.createdAt === 'string' ? entry.createdAt : '' });
    }
    if (typeof f.primary !== 'number' || !keys.has(f.primary)) throw new MalformedError('the key file names a primary version it does not contain');
    return new LocalKeyring(f.name, f.primary, keys);
  }

  /**
   * A new keyring with a fresh primary version added; older versions stay for decrypt only.
   * @returns The rotated keyring (this one is unchanged).
   */
  withNewPrimary(): LocalKeyring {
    const next = Math.max(...this.#keys.keys()) + 1;
    const keys = new Map(this.#keys);
    keys.set(next, { key: backend.randomBytes(DATA_KEY_LENGTH), createdAt: new Date().toISOString() });
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
      keys: [...this.#keys.entries()].sort((a, b) => a[0] - b[0]).map(([version, k]) => ({ version, key: backend.base64urlEncode(k.key), createdAt: k.createdAt })),
    };
  }

  /** The key ids this keyring can unwrap (`<name>/v<version>`), newest first. */
  get keyIds(): readonly string[] {
    return [...this.#keys.keys()].sort((a, b) => b - a).map((v) => keyIdOf(this.name, v));
  }

  /** Wrap (or generate and wrap) a data key under the primary version. */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    request?.signal?.throwIfAborted();
    const entries = contextEntries(request.context, 'context', 0xffff);
    const dataKey = request.dataKey === undefined ? backend.randomBytes(DATA_KEY_LENGTH) : request.dataKey;
    const keyId = keyIdOf(this.name, this.primaryVersion);
    const [ciphertext] = await backend.sealMany(this.#keys.get(this.primaryVersion)!.key, [{ aad: wrapAad(keyId, encodeEntries(entries)), plaintext: dataKey }]);
    const wrapped: WrappedKey = { provider: LOCAL_PROVIDER, keyId, ciphertext: ciphertext! };
    return { dataKey: request.dataKey === undefined ? dataKey : request.dataKey.slice(), wrapped: [wrapped] };
  }

  /** Unwrap with any version this keyring holds; never with a key it does not hold. */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const canonical = encodeEntries(contextEntries(request.context, 'context', 0xffff));
    const reasons: KeyUnavailableReason[] = [];
    for (const w of request.wrapped) {
      request.signal?.throwIfAborted();
      if (w.provider !== LOCAL_PROVIDER) continue;
      const m = /^(.*)\/v([1-9][0-9]{0,15})$/.exec(w.keyId);
      const entry = m && m[1] === this.name ? this.#keys.get(Number(m[2])) : undefined;
      if (entry === undefined) {
        reasons.push({ provider: LOCAL_PROVIDER, keyId: w.keyId, message: 'this keyring does not hold that key' });
        continue;
      }
      try {
        const [dataKey] = await backend.openMany(entry.key, [{ aad: wrapAad(w.keyId, canonical), blob: w.ciphertext }]);
        if (dataKey!.length === DATA_KEY_LENGTH) return dataKey!;
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
    return { provider: LOCAL_PROVIDER, name: this.name, primary: keyIdOf(this.name, this.primaryVersion), keyIds: this.keyIds };
  }
}
