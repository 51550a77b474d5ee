/**
 * The beacon root key: generated once, wrapped by a keyring, stored in a small key document.
 * @module
 */
import { ContextMismatchError, DecryptionFailedError, InvalidArgumentError, KeyUnavailableError } from '../errors.js';
import type { EncryptionContext, Keyring } from '../types.js';
import { contextEntries, entriesToRecord } from '../lib/context.js';
import { assertKeyring, unwrapChecked, wrapChecked } from '../lib/keyring-call.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { backend, CHECK_LENGTH, deriveKeyCheck, ROOT_KEY_LENGTH } from '../lib/beacon/derive.js';
import { BEACON_CONTEXT_PREFIX, DOCUMENT_TYPE, DOCUMENT_VERSION, keyringContext, parseKeyDocument, PUBLIC_KEY_WRAP_PROVIDERS, serializeWrapped, type BeaconKeyDocument } from '../lib/beacon/key-document.js';
import { dropRootKey, getRootKey, KEY_ID_PATTERN, setRootKey } from '../lib/beacon/state.js';

export type { BeaconKeyDocument, BeaconKeyDocumentWrappedKey } from '../lib/beacon/key-document.js';

/** Options of {@link BeaconKey.generate}. */
export interface GenerateBeaconKeyOptions {
  /** The keyring that wraps the root key (local, KMS, multi: any {@link Keyring}). */
  readonly keyring: Keyring;
  /**
   * The beacon key id: 1 to 32 characters of `A-Z a-z 0-9 _ -`. It prefixes every beacon, so keep it
   * short (`b1`, `2026`). Default: 6 random characters.
   */
  readonly id?: string;
  /** Encryption context to wrap the root key under; stored in the document. Keys starting with `fieldseal:` or `fieldseal.` are reserved. */
  readonly context?: EncryptionContext;
}

/** What {@link BeaconKey.generate} returns. */
export interface GenerateBeaconKeyResult {
  /** The usable key. */
  readonly key: BeaconKey;
  /** The document to store; {@link BeaconKey.load} turns it back into the key. */
  readonly document: BeaconKeyDocument;
}

/** Options of {@link BeaconKey.load}. */
export interface LoadBeaconKeyOptions {
  /** A keyring holding one of the KEKs the root key was wrapped under. */
  readonly keyring: Keyring;
  /** Context pairs the document must carry (each is checked against the stored context). */
  readonly context?: EncryptionContext;
  /** When set, the document's key id must equal it (guards against loading the wrong file). */
  readonly id?: string;
  /**
   * The expected key check value (the `check` of the document {@link BeaconKey.generate} returned),
   * kept in the application's configuration, not next to the document. When set, a document with
   * any other root key is refused, whoever could write it.
   *
   * Required for a root key wrapped with a public key (provider `rsa`, `aws-kms-rsa`,
   * `gcp-kms-rsa`): anyone holding the public key can wrap a root key of their own choosing and
   * compute its check, so without a pin such wrapped keys are not used at all. Pin it too for Azure
   * Key Vault RSA keys (which wrap the same way but cannot be recognised from the document) and
   * wherever the principals allowed to wrap under the KEK (`kms:Encrypt`, `wrapkey`, Vault
   * `encrypt`) should not choose beacon keys. See docs/BEACONS.md.
   */
  readonly check?: string;
}

/** Options of {@link BeaconKey.toDocument}. */
export interface BeaconKeyToDocumentOptions {
  /** The keyring to wrap the root key under (for example the new KEK after a KEK rotation). */
  readonly keyring: Keyring;
  /** Encryption context to wrap it under; stored in the document. */
  readonly context?: EncryptionContext;
}

/**
 * A beacon root key held in memory: a 256-bit secret from which one HMAC key per beacon field is
 * derived with HKDF-SHA256. It never leaves the process in the clear; {@link BeaconKey.toDocument}
 * and {@link BeaconKey.generate} give the wrapped form to store.
 *
 * Loading a key costs one keyring unwrap (one KMS call with a cloud keyring); every beacon after that
 * is a local HMAC. Rotating the beacon key means generating a new key with a new `id` and
 * dual-writing beacons under both during the transition (see {@link BeaconIndex}).
 *
 * @example
 * ```ts
 * import { BeaconKey, LocalKeyring } from '@fieldseal/core';
 * const keyring = await LocalKeyring.generate({ name: 'main' });
 * const { key, document } = await BeaconKey.generate({ keyring, id: 'b1' });
 * await saveSomewhere(JSON.stringify(document));        // file, table row
 * const again = await BeaconKey.load(document, { keyring });
 * ```
 */
export class BeaconKey {
  /** The beacon key id; every beacon computed with this key starts with `id:`. */
  readonly id: string;

  private constructor(id: string, rootKey: Uint8Array) {
    this.id = id;
    setRootKey(this, rootKey);
    Object.freeze(this);
  }

  /**
   * Generate a fresh root key from the CSPRNG, wrap it with `keyring` and return the key and the
   * document to store. Keep `document.check` in the application's configuration too and pass it to
   * {@link BeaconKey.load} as `check`: that pins this root key (required when `keyring` wraps with a
   * public key, which anyone could have used to wrap another one).
   *
   * @param options The keyring, an optional id and context.
   * @returns The key and its document.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a bad id, context or keyring.
   * @throws {@link ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` for a reserved context key.
   * @throws {@link ProviderError} `ERR_FIELDSEAL_PROVIDER` when the keyring's service fails.
   */
  static async generate(options: GenerateBeaconKeyOptions): Promise<GenerateBeaconKeyResult> {
    /* Precondition: options is an object with a keyring. */
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    assertKeyring(options.keyring, 'options.keyring');
    const id = options.id ?? randomId();
    assertKeyId(id);
    const root = backend.randomBytes(ROOT_KEY_LENGTH);
    const key = new BeaconKey(id, root);
    try {
      const document = await key.toDocument({ keyring: options.keyring, ...(options.context === undefined ? {} : { context: options.context }) });
      return Object.freeze({ key, document });
    } catch (err) {
      key.destroy();
      throw err;
    }
  }

  /**
   * Unwrap a key document with `keyring` (one unwrap call) and check the key, the id and the context
   * against the document's key check value.
   *
   * @param document The stored document, as an object or JSON text.
   * @param options The keyring and the pairs to expect.
   * @returns The key.
   * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when the document is not a valid key document.
   * @throws {@link UnsupportedVersionError} `ERR_FIELDSEAL_UNSUPPORTED_VERSION` for an unknown document version.
   * @throws {@link ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` when an expected pair differs.
   * @throws {@link KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no KEK of the keyring unwraps it.
   * @throws {@link DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` when the unwrapped key fails the key check (wrong key, or an edited id or context), or the check is not the pinned one.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed pin, or when only a public-key-wrapped copy could open the document and no `check` is pinned.
   */
  static async load(document: BeaconKeyDocument | string, options: LoadBeaconKeyOptions): Promise<BeaconKey> {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    assertKeyring(options.keyring, 'options.keyring');
    const { doc, wrapped, check } = parseKeyDocument(document);
    if (options.id !== undefined && options.id !== doc.id) throw new InvalidArgumentError(`beacon key document has id "${doc.id}", expected "${String(options.id).slice(0, 32)}"`);
    for (const e of contextEntries(options.context, 'options.context', DEFAULT_LIMITS.maxContextPairs)) {
      if (doc.context[e.key] !== e.value) throw new ContextMismatchError(`beacon key document: context key "${e.key}" does not have the expected value`, e.key);
    }
    const pin = options.check === undefined ? undefined : pinnedCheck(options.check);
    if (pin !== undefined && !backend.timingSafeEqual(pin, check)) throw new DecryptionFailedError('beacon key document: the key check is not the pinned one');
    // Without a pin, a root key wrapped with a public key could have been chosen by anyone.
    const usable = pin !== undefined ? wrapped : wrapped.filter((w) => !PUBLIC_KEY_WRAP_PROVIDERS.has(w.provider));
    if (usable.length === 0) throw publicKeyOnly();
    let root: Uint8Array;
    try {
      root = await unwrapChecked(options.keyring, usable, keyringContext(doc.context, doc.id), `beacon key ${doc.id}`);
    } catch (err) {
      if (usable.length < wrapped.length && err instanceof KeyUnavailableError) throw publicKeyOnly(err);
      throw err;
    }
    const actual = await deriveKeyCheck(root, doc.id, doc.context);
    const ok = backend.timingSafeEqual(actual, check);
    actual.fill(0);
    if (!ok) {
      root.fill(0);
      throw new DecryptionFailedError();
    }
    // Keep a private copy: the keyring contract gives us ownership, but a faulty keyring might not.
    const own = root.slice();
    root.fill(0);
    return new BeaconKey(doc.id, own);
  }

  /**
   * Use a root key the application manages itself (for example one read from a secrets manager, or
   * a test vector). The bytes are copied; zero your copy. Prefer {@link BeaconKey.generate} and
   * {@link BeaconKey.load}, which never expose the key.
   *
   * @param rootKey 32 random bytes.
   * @param options The key id.
   * @returns The key.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a wrong length or id.
   */
  static import(rootKey: Uint8Array, options: { readonly id: string }): BeaconKey {
    if (!(rootKey instanceof Uint8Array) || rootKey.length !== ROOT_KEY_LENGTH) throw new InvalidArgumentError(`a beacon root key is ${ROOT_KEY_LENGTH} bytes`);
    assertKeyId(options?.id);
    return new BeaconKey(options.id, rootKey.slice());
  }

  /**
   * Wrap this root key with `keyring` into a new key document (same id, same beacons). Use it to
   * move the root key to a new KEK (KEK rotation) without recomputing any beacon.
   *
   * @param options The keyring and optional context.
   * @returns The document to store.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key was destroyed or the keyring misbehaves.
   * @throws {@link ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` for a reserved context key.
   */
  async toDocument(options: BeaconKeyToDocumentOptions): Promise<BeaconKeyDocument> {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    assertKeyring(options.keyring, 'options.keyring');
    const root = getRootKey(this);
    if (root === undefined) throw new InvalidArgumentError(`beacon key "${this.id}" was destroyed`);
    const entries = contextEntries(options.context, 'options.context', DEFAULT_LIMITS.maxContextPairs);
    for (const e of entries) if (e.key.startsWith(BEACON_CONTEXT_PREFIX)) throw new ContextMismatchError(`options.context: keys starting with "${BEACON_CONTEXT_PREFIX}" are reserved for beacon keys`, e.key);
    const stored = entriesToRecord(entries);
    // The keyring gets a copy, so a keyring that keeps or clears what it is given cannot touch ours.
    const given = root.slice();
    let result: Awaited<ReturnType<typeof wrapChecked>>;
    try {
      result = await wrapChecked(options.keyring, keyringContext(stored, this.id), DEFAULT_LIMITS, given);
    } finally {
      given.fill(0);
    }
    result.dataKey.fill(0);
    const wrapped = result.wrapped;
    const check = await deriveKeyCheck(root, this.id, stored);
    const document: BeaconKeyDocument = Object.freeze({
      type: DOCUMENT_TYPE,
      version: DOCUMENT_VERSION,
      id: this.id,
      created: new Date().toISOString(),
      context: stored,
      check: backend.base64urlEncode(check),
      wrapped: Object.freeze(serializeWrapped(wrapped)),
    });
    check.fill(0);
    return document;
  }

  /** Zero the root key in memory; the key (and any {@link BeaconIndex} using it) can no longer compute beacons. */
  destroy(): void {
    dropRootKey(this);
  }

  /** Only the id: the key itself never appears in logs or JSON. */
  toJSON(): { id: string } {
    return { id: this.id };
  }
}

function pinnedCheck(value: unknown): Uint8Array {
  const bytes = typeof value === 'string' ? backend.base64urlDecode(value) : undefined;
  if (bytes === undefined || bytes.length !== CHECK_LENGTH) throw new InvalidArgumentError(`options.check must be the ${CHECK_LENGTH}-byte key check of a beacon key document, in base64url`);
  return bytes;
}

function publicKeyOnly(cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    'beacon key document: only a copy wrapped with a public key (RSA) could open it, and anyone holding the public key can make such a copy: pin the expected key check (options.check) or wrap the root key with a symmetric keyring',
    cause === undefined ? undefined : { cause },
  );
}

function assertKeyId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) throw new InvalidArgumentError('a beacon key id is 1 to 32 characters of A-Z a-z 0-9 _ -');
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = backend.randomBytes(6);
  let out = '';
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}
