/**
 * Shared public types: JSON values, encryption context, the {@link Keyring} contract.
 * @module
 */

/** A JSON value as `JSON.parse` produces it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * An encryption context: string keys to string values, bound to every field and to the header.
 * Keys starting with `fieldseal:` are reserved.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/** One data key wrapped by one key-encryption key. */
export interface WrappedKey {
  /** Provider id (`local`, `rsa`, `aws-kms`, `azure-keyvault`, `gcp-kms`, `vault-transit`, …); at most 255 UTF-8 bytes. */
  readonly provider: string;
  /** The KEK that wrapped it, including its version where the provider has versions; at most 65,535 UTF-8 bytes. */
  readonly keyId: string;
  /** The provider's ciphertext of the data key; at most 65,535 bytes. */
  readonly ciphertext: Uint8Array;
}

/** What {@link Keyring.wrap} receives. */
export interface WrapRequest {
  /**
   * A data key produced by another keyring (multi-keyring). When absent, the keyring generates a
   * fresh 32-byte key (locally from the CSPRNG, or in the KMS). The keyring must not modify or keep it.
   */
  readonly dataKey?: Uint8Array;
  /**
   * The keyring context: the full encryption context (stored and required-but-not-stored pairs)
   * and, for documents of suite 2, the key group's name as `fieldseal.group` (docs/FORMAT.md §5.1).
   * Bind all of it to the wrapped key (a KMS encryption context or AAD).
   */
  readonly context: EncryptionContext;
  /** Fires when the caller gives up or the call's deadline passes: stop work and reject. */
  readonly signal?: AbortSignal;
  /**
   * How many plaintext bytes the document's fields under this key hold, when known. Keyrings may
   * ignore it; a caching keyring uses it to bound how much data one data key protects.
   */
  readonly plaintextBytes?: number;
}

/** What {@link Keyring.wrap} returns. */
export interface WrapResult {
  /**
   * The 32-byte data key. The caller takes ownership and zeroes it after use, so a keyring that
   * keeps a key (a cache) must return a copy.
   */
  readonly dataKey: Uint8Array;
  /** At least one wrapped copy of `dataKey`. */
  readonly wrapped: readonly WrappedKey[];
}

/** What {@link Keyring.unwrap} receives. */
export interface UnwrapRequest {
  /** Every wrapped key of one key group, as stored; the keyring picks the ones it is configured for. */
  readonly wrapped: readonly WrappedKey[];
  /**
   * The keyring context: the full encryption context (stored and required-but-not-stored pairs)
   * and, for documents of suite 2, the key group's name as `fieldseal.group` (docs/FORMAT.md §5.1).
   * Bind all of it to the wrapped key (a KMS encryption context or AAD).
   */
  readonly context: EncryptionContext;
  /** Fires when the caller gives up or the call's deadline passes: stop work and reject. */
  readonly signal?: AbortSignal;
}

/**
 * A keyring produces, wraps and unwraps data keys (DEKs) with key-encryption keys (KEKs).
 *
 * Contract, checked by core around every call: `wrap` returns a 32-byte data key and at least one
 * wrapped key; `unwrap` returns a 32-byte key, which core then checks against the group's key
 * commitment. A keyring only ever uses the KEKs it was configured with: a key id written in a
 * document is never followed to an arbitrary key (strict keyrings). When nothing it holds fits,
 * `unwrap` throws {@link KeyUnavailableError} with one reason per wrapped key tried.
 *
 * Core copies everything `wrap` returns and zeroes the data key buffer it was handed, refuses an
 * all-zero data key and any wrapped key whose bytes contain the data key, and gives `unwrap` at most
 * one wrapped key per provider and key id of a group (the first), which bounds the key-service calls
 * a forged header can cause. Every call runs under a deadline (`keyringTimeoutMs`, default 30 s) and
 * the caller's `AbortSignal`: the request's `signal` fires on either, and the keyring should then
 * stop its work and reject (core has already answered the caller with a typed error).
 */
export interface Keyring {
  /** Produce (or receive) the data key for one key group and wrap it under every KEK of this keyring. */
  wrap(request: WrapRequest): Promise<WrapResult>;
  /** Unwrap one of the wrapped keys with a KEK this keyring is configured with. */
  unwrap(request: UnwrapRequest): Promise<Uint8Array>;
}

/** Size and shape limits that protect against resource-exhaustion inputs. */
export interface Limits {
  /** Deepest nesting of objects and arrays in a document. Default 128. */
  readonly maxDepth: number;
  /** Largest serialized value of one field, in bytes. Default 16 MiB. */
  readonly maxFieldBytes: number;
  /** Most encrypted fields in one document. Default 100,000. */
  readonly maxFields: number;
  /** Most wrapped keys in one key group. Default 16. */
  readonly maxWrappedKeys: number;
  /** Most key groups in one document. Default 16. */
  readonly maxGroups: number;
  /** Largest encoded header, in bytes (before base64url). Default 1 MiB. */
  readonly maxHeaderBytes: number;
  /** Most encryption-context pairs. Default 64. */
  readonly maxContextPairs: number;
}

/**
 * Optional keyring capability: re-wrap a group's wrapped keys inside the key service (AWS KMS
 * `ReEncrypt`, Vault transit `rewrap`), so the new wrapped keys are produced by the service from the
 * old ones. {@link rewrap} uses it when the target keyring offers it; it still unwraps the data key
 * once, because the header MAC that authenticates the wrapped keys is keyed from the data key.
 */
export interface ServiceRewrapCapable {
  /**
   * Return wrapped keys under this keyring's KEKs for the same data key, produced in the service
   * from `request.wrapped`, or `undefined` when none of them can be re-wrapped server-side (then the
   * caller falls back to unwrap + wrap).
   */
  rewrapInService(request: UnwrapRequest): Promise<readonly WrappedKey[] | undefined>;
}
