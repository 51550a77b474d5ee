import { createDecipheriv, createHash } from 'node:crypto';
import { FieldsealError, InvalidArgumentError } from '@fieldseal/core';

/** Why a value could not be imported from `@47ng/cloak`. */
export type CloakImportFailure =
  /** No key of the keychain has the value's fingerprint. */
  | 'unknown-key'
  /** Not a well-formed cloak string (truncated, bad base64, bad IV length). */
  | 'malformed'
  /** The GCM tag did not verify: tampered, or a key with a colliding fingerprint. */
  | 'authentication'
  /** Import mode: a non-NULL value that is not cloak ciphertext (plaintext is never passed through silently). */
  | 'not-cloak'
  /** Seal mode: a value that is cloak ciphertext (sealing it would lock the ciphertext, not the data). */
  | 'cloak-value';

/**
 * A value of a row could not be turned from `@47ng/cloak` ciphertext into plaintext (or was cloak
 * ciphertext where plaintext was expected). The row is left exactly as it was. The message names
 * the column and the fingerprint, never the value or a key.
 */
export class CloakImportError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_ROTATION_CLOAK';
  override readonly code = 'ERR_FIELDSEAL_ROTATION_CLOAK';
  /** Why; also the suffix of the rotation report's failure reason. */
  readonly kind: CloakImportFailure;
  /** @ignore */
  constructor(message: string, kind: CloakImportFailure) {
    super(message);
    this.kind = kind;
  }
}

const KEY = /^k1\.aesgcm256\.([A-Za-z0-9_-]{43}=?)$/;
// v1.aesgcm256.<fingerprint>.<iv>.<ciphertext ‖ tag>: what cloak's parseCloakedString accepts.
const MESSAGE = /^v1\.aesgcm256\.([0-9a-fA-F]{8})\.([A-Za-z0-9_+/=-]+)\.([A-Za-z0-9_+/=-]+)$/;
const PREFIX = /^v1\.aesgcm256\./;

/** True for a string shaped like cloak ciphertext (its prefix); {@link CloakKeychain.decrypt} decides the rest. */
export function looksLikeCloak(value: unknown): value is string {
  return typeof value === 'string' && PREFIX.test(value);
}

/** Cloak's own decoding: Node's base64 (either alphabet, padding optional), but only those characters. */
function base64Bytes(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_+/-]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function fingerprint(keyText: string): string {
  return createHash('sha256').update(keyText, 'utf8').digest('hex').slice(0, 8);
}

/**
 * The keys of an `@47ng/cloak` keychain (also what prisma-field-encryption uses), indexed by their
 * cloak fingerprint, for `--mode import-cloak`. A small decoder of cloak's format over node:crypto
 * AES-256-GCM: `v1.aesgcm256.<fingerprint>.<iv>.<ciphertext‖tag>`, no associated data. Key
 * material stays inside this object; nothing it throws or returns names a key.
 *
 * @example
 * ```ts
 * import { CloakKeychain } from '@fieldseal/rotation';
 * const cloak = CloakKeychain.fromEnv(process.env); // PRISMA_FIELD_ENCRYPTION_KEY, CLOAK_MASTER_KEY + CLOAK_KEYCHAIN, ...
 * const plaintext = cloak.decrypt(valueFromTheDatabase);
 * ```
 */
export class CloakKeychain {
  readonly #keys = new Map<string, Buffer>();

  /** @param keys Cloak keys (`k1.aesgcm256.<base64url>`). @throws {InvalidArgumentError} for a string that is not a cloak key (the message does not echo it). */
  constructor(keys: readonly string[]) {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('CloakKeychain takes an array of cloak keys');
    keys.forEach((text, i) => {
      const m = typeof text === 'string' ? KEY.exec(text.trim()) : null;
      if (m === null) throw new InvalidArgumentError(`cloak key #${i + 1} is not a k1.aesgcm256.<base64url> key`);
      const raw = Buffer.from(m[1]!, 'base64url');
      if (raw.length !== 32) throw new InvalidArgumentError(`cloak key #${i + 1} is not 32 bytes`);
      const body = m[1]!.replace(/=$/, '');
      // Cloak fingerprints the key string as written; the padded and unpadded spellings of one
      // key fingerprint differently, and either may have been used to encrypt.
      for (const spelling of [`k1.aesgcm256.${body}`, `k1.aesgcm256.${body}=`]) this.#keys.set(fingerprint(spelling), raw);
    });
  }

  /**
   * The keychain from the environment variables cloak and prisma-field-encryption read:
   * `PRISMA_FIELD_ENCRYPTION_KEY`, `PRISMA_FIELD_DECRYPTION_KEYS` (comma-separated),
   * `CLOAK_MASTER_KEY` with `CLOAK_KEYCHAIN` (the encrypted keychain cloak's `exportKeychain`
   * writes), and `CLOAK_KEYS` (comma-separated, an extra of this importer).
   *
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when no key is given, a key is malformed, or the keychain does not open.
   */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): CloakKeychain {
    const keys: string[] = [];
    const list = (name: string) => (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    keys.push(...list('PRISMA_FIELD_ENCRYPTION_KEY'), ...list('PRISMA_FIELD_DECRYPTION_KEYS'), ...list('CLOAK_KEYS'));
    const master = env.CLOAK_MASTER_KEY?.trim();
    const chain = env.CLOAK_KEYCHAIN?.trim();
    if ((master === undefined || master === '') !== (chain === undefined || chain === '')) throw new InvalidArgumentError('CLOAK_MASTER_KEY and CLOAK_KEYCHAIN go together');
    if (master) {
      keys.push(master);
      let entries: unknown;
      try {
        entries = JSON.parse(new CloakKeychain([master]).decrypt(chain!));
      } catch {
        throw new InvalidArgumentError('CLOAK_KEYCHAIN does not open with CLOAK_MASTER_KEY');
      }
      if (!Array.isArray(entries)) throw new InvalidArgumentError('CLOAK_KEYCHAIN does not hold a list of keys');
      for (const e of entries) {
        if (e === null || typeof e !== 'object' || typeof (e as { key?: unknown }).key !== 'string') throw new InvalidArgumentError('CLOAK_KEYCHAIN holds an entry without a key');
        keys.push((e as { key: string }).key);
      }
    }
    if (keys.length === 0) throw new InvalidArgumentError('no cloak key given: set PRISMA_FIELD_ENCRYPTION_KEY (and PRISMA_FIELD_DECRYPTION_KEYS), or CLOAK_MASTER_KEY and CLOAK_KEYCHAIN');
    return new CloakKeychain(keys);
  }

  /** Fingerprints this keychain can decrypt (public: cloak writes them in every ciphertext). */
  get fingerprints(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Decrypts one cloak string to its UTF-8 plaintext.
   * @throws {CloakImportError} `ERR_FIELDSEAL_ROTATION_CLOAK` with `kind` `malformed`, `unknown-key` or `authentication`.
   */
  decrypt(value: string): string {
    const m = typeof value === 'string' ? MESSAGE.exec(value) : null;
    if (m === null) throw new CloakImportError('not a well-formed cloak ciphertext', 'malformed');
    const fp = m[1]!.toLowerCase();
    const key = this.#keys.get(fp);
    if (key === undefined) throw new CloakImportError(`no cloak key with fingerprint ${fp} was given`, 'unknown-key');
    const iv = base64Bytes(m[2]!);
    const body = base64Bytes(m[3]!);
    if (iv === undefined || body === undefined || iv.length !== 12 || body.length < 16) throw new CloakImportError('not a well-formed cloak ciphertext', 'malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      decipher.setAuthTag(body.subarray(body.length - 16));
      const out = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
      return new TextDecoder('utf-8', { fatal: true }).decode(out);
    } catch {
      throw new CloakImportError(`cloak ciphertext under key ${fp} failed authentication`, 'authentication');
    }
  }
}
