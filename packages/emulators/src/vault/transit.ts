/**
 * The in-memory transit engine behind the Vault emulator: named keys with versions, real
 * AES-256-GCM, per-context key derivation for derived keys, and Vault's own error messages.
 * @module
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A failure Vault reports with an HTTP status and an `errors[]` message. */
export class TransitRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'TransitRequestError';
  }
}

/** Key types the emulator implements: Vault's AEAD types (`aes256-gcm96` is Vault's default). */
export type TransitKeyType = 'aes256-gcm96' | 'aes128-gcm96' | 'chacha20-poly1305';

/** Cipher and key length of each type (all with a 96-bit nonce and a 128-bit tag, as in Vault). */
const CIPHERS: Readonly<Record<TransitKeyType, { readonly cipher: 'aes-256-gcm' | 'aes-128-gcm' | 'chacha20-poly1305'; readonly keyBytes: number }>> = {
  'aes256-gcm96': { cipher: 'aes-256-gcm', keyBytes: 32 },
  'aes128-gcm96': { cipher: 'aes-128-gcm', keyBytes: 16 },
  'chacha20-poly1305': { cipher: 'chacha20-poly1305', keyBytes: 32 },
};

/** How a transit key is created. */
export interface TransitKeyOptions {
  /** Key type. Default `aes256-gcm96`. */
  readonly type?: TransitKeyType;
  /** Derive a key per `context` (HKDF-SHA256), as Vault does for keys created with `derived=true`. Default false. */
  readonly derived?: boolean;
}

/** What `GET <mount>/keys/:name` reports about a key. */
export interface TransitKeyInfo {
  /** Key name. */
  readonly name: string;
  /** Key type. */
  readonly type: TransitKeyType;
  /** Whether a key is derived per `context`. */
  readonly derived: boolean;
  /** The version new ciphertexts use. */
  readonly latestVersion: number;
  /** Ciphertexts below this version are refused. */
  readonly minDecryptionVersion: number;
  /** Explicit `key_version`s below this are refused on encrypt (0: no limit). */
  readonly minEncryptionVersion: number;
  /** Whether `DELETE keys/:name` is allowed. */
  readonly deletionAllowed: boolean;
  /** Version -> creation time (Unix seconds). */
  readonly versions: Readonly<Record<string, number>>;
}

interface KeyVersion {
  readonly key: Buffer;
  readonly createdAt: number;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

// Vault's messages, verbatim, so error mapping written against the emulator holds against Vault.
const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";
const TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';
const AUTH_FAILED = 'cipher: message authentication failed';

/** One named transit key and its versions. */
export class TransitKey {
  readonly #versions = new Map<number, KeyVersion>();
  latestVersion = 0;
  minDecryptionVersion = 1;
  minEncryptionVersion = 0;
  deletionAllowed = false;

  constructor(
    readonly name: string,
    readonly type: TransitKeyType,
    readonly derived: boolean,
  ) {
    this.rotate();
  }

  /** Add a new version and make it the latest. */
  rotate(): void {
    this.latestVersion += 1;
    this.#versions.set(this.latestVersion, { key: randomBytes(CIPHERS[this.type].keyBytes), createdAt: Math.floor(Date.now() / 1000) });
  }

  info(): TransitKeyInfo {
    const versions: Record<string, number> = {};
    for (const [v, k] of this.#versions) versions[String(v)] = k.createdAt;
    return {
      name: this.name,
      type: this.type,
      derived: this.derived,
      latestVersion: this.latestVersion,
      minDecryptionVersion: this.minDecryptionVersion,
      minEncryptionVersion: this.minEncryptionVersion,
      deletionAllowed: this.deletionAllowed,
      versions,
    };
  }

  /** Vault's `config` endpoint checks. */
  configure(update: { minDecryptionVersion?: number; minEncryptionVersion?: number; deletionAllowed?: boolean }): void {
    let minDecryption = this.minDecryptionVersion;
    let minEncryption = this.minEncryptionVersion;
    if (update.minDecryptionVersion !== undefined) {
      const v = update.minDecryptionVersion;
      if (v < 0) throw new TransitRequestError(400, 'min decryption version cannot be negative');
      if (v > this.latestVersion) {
        throw new TransitRequestError(400, `cannot set min decryption version of ${v}, latest key version is ${this.latestVersion}`);
      }
      minDecryption = v === 0 ? 1 : v;
    }
    if (update.minEncryptionVersion !== undefined) {
      const v = update.minEncryptionVersion;
      if (v < 0) throw new TransitRequestError(400, 'min encryption version cannot be negative');
      if (v > this.latestVersion) {
        throw new TransitRequestError(400, `cannot set min encryption version of ${v}, latest key version is ${this.latestVersion}`);
      }
      minEncryption = v;
    }
    if (minEncryption > 0 && minEncryption < minDecryption) {
      throw new TransitRequestError(400, 'min encryption version should not be less than min decryption version');
    }
    this.minDecryptionVersion = minDecryption;
    this.minEncryptionVersion = minEncryption;
    if (update.deletionAllowed !== undefined) this.deletionAllowed = update.deletionAllowed;
  }

  /** Encrypt under `version` (0 = latest), returning `vault:vN:<base64>`. */
  encrypt(plaintext: Buffer, context: Buffer | undefined, aad: Buffer | undefined, version = 0): { ciphertext: string; version: number } {
    const v = version === 0 ? this.latestVersion : version;
    if (version !== 0 && version < this.minEncryptionVersion) {
      throw new TransitRequestError(400, 'requested version for encryption is less than the minimum encryption key version');
    }
    if (v > this.latestVersion) throw new TransitRequestError(400, 'requested version for encryption is higher than the latest key version');
    if (v < 1) throw new TransitRequestError(400, 'invalid key version');
    const key = this.#keyFor(v, context);
    const nonce = randomBytes(NONCE_BYTES);
    // The three ciphers share GCM's interface (AAD, 16-byte tag); the cast picks that overload.
    const cipher = createCipheriv(CIPHERS[this.type].cipher as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    if (aad !== undefined) cipher.setAAD(aad);
    const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    key.fill(0);
    return { ciphertext: `vault:v${v}:${body.toString('base64')}`, version: v };
  }

  /** Decrypt a `vault:vN:` ciphertext, with Vault's checks in Vault's order. */
  decrypt(ciphertext: string, context: Buffer | undefined, aad: Buffer | undefined): { plaintext: Buffer; version: number } {
    if (!ciphertext.startsWith('vault:')) throw new TransitRequestError(400, 'invalid ciphertext: no prefix');
    const parts = ciphertext.split(':');
    if (parts.length !== 3) throw new TransitRequestError(400, 'invalid ciphertext: wrong number of fields');
    const versionText = parts[1]!;
    if (!/^v\d{1,9}$/.test(versionText)) throw new TransitRequestError(400, 'invalid ciphertext: version number could not be decoded');
    let v = Number(versionText.slice(1));
    if (v === 0) v = 1; // Vault's compatibility with its first ciphertexts
    if (v > this.latestVersion) throw new TransitRequestError(400, 'invalid ciphertext: version is too new');
    if (v < this.minDecryptionVersion) throw new TransitRequestError(400, TOO_OLD);
    const b64 = parts[2]!;
    if (!isBase64(b64)) throw new TransitRequestError(400, 'invalid ciphertext: could not decode base64');
    const raw = Buffer.from(b64, 'base64');
    const key = this.#keyFor(v, context);
    try {
      if (raw.length < NONCE_BYTES + TAG_BYTES) throw new TransitRequestError(400, AUTH_FAILED);
      const decipher = createDecipheriv(CIPHERS[this.type].cipher as 'aes-256-gcm', key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      if (aad !== undefined) decipher.setAAD(aad);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      return { plaintext, version: v };
    } catch (err) {
      if (err instanceof TransitRequestError) throw err;
      throw new TransitRequestError(400, AUTH_FAILED);
    } finally {
      key.fill(0);
    }
  }

  /** A copy of the key for `version`: the version's key, or for derived keys HKDF-SHA256(key, salt empty, info = context), as Vault does. */
  #keyFor(version: number, context: Buffer | undefined): Buffer {
    const entry = this.#versions.get(version);
    if (entry === undefined) throw new TransitRequestError(400, 'invalid key version');
    // Vault ignores `context` for keys that are not derived: the emulator does the same, so a
    // keyring that relies on context binding with a non-derived key is caught by its tests.
    if (!this.derived) return Buffer.from(entry.key);
    if (context === undefined || context.length === 0) throw new TransitRequestError(400, MISSING_CONTEXT);
    return Buffer.from(hkdfSync('sha256', entry.key, Buffer.alloc(0), context, CIPHERS[this.type].keyBytes));
  }
}

/** Strict standard base64 (Vault uses Go's StdEncoding, which rejects other alphabets). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** Decode an optional base64 request field, with Vault's message when it is not base64. */
export function decodeField(value: unknown, field: string): Buffer | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !isBase64(value)) throw new TransitRequestError(400, `failed to base64-decode ${field}`);
  return Buffer.from(value, 'base64');
}

/** Keys of one mount in one namespace. */
export class TransitMount {
  readonly keys = new Map<string, TransitKey>();

  create(name: string, options: TransitKeyOptions = {}): TransitKey {
    const existing = this.keys.get(name);
    if (existing !== undefined) return existing; // Vault: creating an existing key changes nothing
    const type = options.type ?? 'aes256-gcm96';
    if (!Object.hasOwn(CIPHERS, type)) throw new TransitRequestError(400, `unknown key type "${String(type)}"`);
    const key = new TransitKey(name, type, options.derived ?? false);
    this.keys.set(name, key);
    return key;
  }

  get(name: string): TransitKey {
    const key = this.keys.get(name);
    if (key === undefined) throw new TransitRequestError(400, 'encryption key not found');
    return key;
  }
}
