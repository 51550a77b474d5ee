/**
 * Every error fieldseal throws is a {@link FieldsealError} with a stable `code`.
 *
 * Codes are public API: switch on `err.code`, not on messages. Messages never contain plaintext,
 * key bytes or wrapped-key bytes. Authentication failures share one deliberately vague message.
 *
 * Importable from `@fieldseal/core` and from the subpath `@fieldseal/core/errors`.
 * @module
 */

/** The closed set of error codes fieldseal throws. Renaming one is a breaking change. */
export type FieldsealErrorCode =
  | 'ERR_FIELDSEAL_INVALID_ARGUMENT'
  | 'ERR_FIELDSEAL_MALFORMED'
  | 'ERR_FIELDSEAL_UNSUPPORTED_VERSION'
  | 'ERR_FIELDSEAL_DECRYPTION_FAILED'
  | 'ERR_FIELDSEAL_CONTEXT_MISMATCH'
  | 'ERR_FIELDSEAL_INCOMPLETE'
  | 'ERR_FIELDSEAL_KEY_UNAVAILABLE'
  | 'ERR_FIELDSEAL_INVALID_SELECTOR'
  | 'ERR_FIELDSEAL_LIMIT_EXCEEDED'
  | 'ERR_FIELDSEAL_PROVIDER'
  | 'ERR_FIELDSEAL_UNSUPPORTED_QUERY'
  | 'ERR_FIELDSEAL_ABORTED'
  | 'ERR_FIELDSEAL_REWRAP_VERIFY';

/** Base class of every fieldseal error. */
export class FieldsealError extends Error {
  /** A unique, stable error code. */
  static readonly code: FieldsealErrorCode | (string & {}) = 'ERR_FIELDSEAL';
  /** A unique, stable error code. */
  readonly code: FieldsealErrorCode | (string & {}) = 'ERR_FIELDSEAL';

  /** @ignore */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An argument or option is of the wrong type or out of range (a programming error, not bad data).
 */
export class InvalidArgumentError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_INVALID_ARGUMENT';
  override readonly code = 'ERR_FIELDSEAL_INVALID_ARGUMENT';
}

/**
 * Input is not what fieldseal can process: not JSON data (functions, `undefined`, accessors,
 * cycles, non-finite numbers), a malformed field ciphertext or header, a wrong key file.
 */
export class MalformedError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_MALFORMED';
  override readonly code = 'ERR_FIELDSEAL_MALFORMED';
}

/**
 * A document holds a value JSON cannot hold (`undefined`, a `Date`, a `BigInt`, a `Map`, a class
 * instance, a function, a non-finite number, an accessor or a hole in an array). A
 * {@link MalformedError} (same `code`) that says where: {@link NonJsonValueError.pointer}. Convert
 * such values yourself before sealing (a `Date` to `toISOString()`, a `Map` to an object, and so on).
 */
export class NonJsonValueError extends MalformedError {
  /** Where the value is, as an RFC 6901 JSON Pointer (`/cards/0/expires`); `''` is the document itself. Member names longer than 64 characters are cut. */
  readonly pointer: string;
  /** What was found there: a type or class name such as `undefined`, `bigint`, `Date`, `Map`, never the value itself. */
  readonly found: string;
  /** @ignore */
  constructor(init: { what: string; pointer: string; found: string }) {
    super(`${init.what} holds ${init.found} at ${init.pointer === '' ? 'its root' : `"${init.pointer}"`}, which JSON cannot hold`);
    this.pointer = init.pointer;
    this.found = init.found;
  }
}

/** The document uses a format version or algorithm suite this build does not know. */
export class UnsupportedVersionError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_UNSUPPORTED_VERSION';
  override readonly code = 'ERR_FIELDSEAL_UNSUPPORTED_VERSION';
}

/**
 * Authentication failed: a field ciphertext, the header MAC or the key commitment did not verify.
 * The message is deliberately the same for every cause.
 */
export class DecryptionFailedError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_DECRYPTION_FAILED';
  override readonly code = 'ERR_FIELDSEAL_DECRYPTION_FAILED';
  /** @ignore */
  constructor(message = 'decryption failed: the document was modified or does not match its keys and context', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The encryption context the caller expects does not match the document's: a pair differs, a
 * required-but-not-stored key was not supplied, or a key uses the reserved `fieldseal:` prefix.
 * Names the context key, never its value.
 */
export class ContextMismatchError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_CONTEXT_MISMATCH';
  override readonly code = 'ERR_FIELDSEAL_CONTEXT_MISMATCH';
  /** The context key concerned. */
  readonly key: string | undefined;
  /** @ignore */
  constructor(message: string, key?: string) {
    super(message);
    this.key = key;
  }
}

/**
 * The authenticated field list and the document disagree: an encrypted value was removed,
 * duplicated to an unlisted place, or replaced by plaintext (a downgrade).
 */
export class IncompleteError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_INCOMPLETE';
  override readonly code = 'ERR_FIELDSEAL_INCOMPLETE';
  /** The JSON Pointer concerned. */
  readonly pointer: string | undefined;
  /** @ignore */
  constructor(message: string, pointer?: string) {
    super(message);
    this.pointer = pointer;
  }
}

/** Why one keyring or one wrapped key could not produce the data key. */
export interface KeyUnavailableReason {
  /** Provider id, e.g. `local`, `aws-kms`. */
  provider: string;
  /** Key id (including its version) when known. */
  keyId?: string;
  /** A short human explanation; never contains key material. */
  message: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * No configured keyring could unwrap a data key. `reasons` has one entry per keyring or wrapped
 * key tried, so operators see every failure, not just the last.
 *
 * `retryable` tells a key service that was down, throttled, timed out or aborted (a later attempt
 * may open the document) from "no configured key can open this document" (wrong key, no key,
 * access denied, a wrapped key the service refused): only availability is distinguished, never
 * why a key service refused a wrapped key.
 */
export class KeyUnavailableError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_KEY_UNAVAILABLE';
  override readonly code = 'ERR_FIELDSEAL_KEY_UNAVAILABLE';
  /** One entry per keyring or wrapped key tried. */
  readonly reasons: readonly KeyUnavailableReason[];
  /**
   * True when at least one reason's `cause` is a retryable failure (a {@link ProviderError} with
   * `retryable`, or a nested retryable `KeyUnavailableError`): retrying later may succeed. False
   * when every key tried was definitely refused or absent.
   */
  readonly retryable: boolean;
  /** @ignore */
  constructor(message: string, reasons: readonly KeyUnavailableReason[] = []) {
    super(reasons.length ? `${message}: ${reasons.map((r) => `[${r.provider}${r.keyId ? ` ${r.keyId}` : ''}] ${r.message}`).join('; ')}` : message);
    this.reasons = Object.freeze([...reasons]);
    this.retryable = this.reasons.some((r) => isRetryable(r.cause));
  }
}

/** A JSONPath selector is not valid in fieldseal's subset, or selections conflict. */
export class InvalidSelectorError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_INVALID_SELECTOR';
  override readonly code = 'ERR_FIELDSEAL_INVALID_SELECTOR';
  /** The selector concerned. */
  readonly selector: string;
  /** @ignore */
  constructor(message: string, selector: string) {
    super(message);
    this.selector = selector;
  }
}

/** A configured or built-in limit was exceeded (depth, size, field count, wrapped keys, header). */
export class LimitExceededError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_LIMIT_EXCEEDED';
  override readonly code = 'ERR_FIELDSEAL_LIMIT_EXCEEDED';
  /** Which limit, e.g. `maxDepth`. */
  readonly limit: string;
  /** @ignore */
  constructor(message: string, limit: string) {
    super(message);
    this.limit = limit;
  }
}

/**
 * An ORM integration refused a query that it cannot run safely on encrypted columns: a filter
 * other than beacon equality, ordering or grouping by an encrypted column, a write it cannot bind
 * to its row. Nothing was sent to the database. Names the model, field and operation, never a value.
 */
export class UnsupportedQueryError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_UNSUPPORTED_QUERY';
  override readonly code = 'ERR_FIELDSEAL_UNSUPPORTED_QUERY';
  /** The model (table) concerned. */
  readonly model: string | undefined;
  /** The encrypted field concerned, when there is one. */
  readonly field: string | undefined;
  /** The operation, e.g. `findMany`, `orderBy`, `updateMany`. */
  readonly operation: string | undefined;
  /** @ignore */
  constructor(message: string, details: { model?: string; field?: string; operation?: string } = {}) {
    super(message);
    this.model = details.model;
    this.field = details.field;
    this.operation = details.operation;
  }
}

/** What kind of provider failure happened. */
export type ProviderErrorKind =
  | 'auth' // credentials rejected, access denied
  | 'not-found' // key or resource does not exist
  | 'disabled' // key disabled, version destroyed, below the minimum decryption version
  | 'invalid-ciphertext' // the service could not decrypt (wrong context/AAD, corrupted, wrong key)
  | 'integrity' // a transport integrity check failed (e.g. CRC32C)
  | 'throttled'
  | 'unavailable' // 5xx, connection refused/reset, timeouts, deadline exceeded
  | 'aborted' // the caller's AbortSignal fired before the call completed
  | 'invalid-request'
  | 'other';

/**
 * A key provider (KMS, Key Vault, Vault) failed. Says which provider, which key, what kind of
 * failure and whether retrying can help; the SDK error is kept as `cause`.
 */
export class ProviderError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_PROVIDER';
  override readonly code = 'ERR_FIELDSEAL_PROVIDER';
  /** Provider id, e.g. `aws-kms`. */
  readonly provider: string;
  /** The key concerned. */
  readonly keyId: string | undefined;
  /** The failure class. */
  readonly kind: ProviderErrorKind;
  /** Whether the same call may succeed if retried later. */
  readonly retryable: boolean;
  /** @ignore */
  constructor(init: { provider: string; keyId?: string; kind: ProviderErrorKind; retryable: boolean; message: string; cause?: unknown }) {
    super(`${init.provider}${init.keyId ? ` (${init.keyId})` : ''}: ${init.message}`, { cause: init.cause });
    this.provider = init.provider;
    this.keyId = init.keyId;
    this.kind = init.kind;
    this.retryable = init.retryable;
  }
}

/** Any error fieldseal throws, as a union that narrows on `code`. */
export type AnyFieldsealError =
  | InvalidArgumentError
  | MalformedError
  | UnsupportedVersionError
  | DecryptionFailedError
  | ContextMismatchError
  | IncompleteError
  | KeyUnavailableError
  | InvalidSelectorError
  | LimitExceededError
  | ProviderError
  | UnsupportedQueryError
  | AbortedError;

/** True when `err` is a fieldseal error (works across duplicate package copies by checking `code`). */
export function isFieldsealError(err: unknown): err is AnyFieldsealError {
  return err instanceof FieldsealError || (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_FIELDSEAL_'));
}

/**
 * Whether retrying the failed operation later can help: true for a {@link ProviderError} or a
 * {@link KeyUnavailableError} whose `retryable` is true (a key service throttled, unavailable, too
 * slow or aborted), false for everything else, authentication failures and "no key can open this
 * document" included.
 */
export function isRetryable(err: unknown): boolean {
  return (err instanceof ProviderError || err instanceof KeyUnavailableError) && err.retryable === true;
}

/**
 * The caller's `AbortSignal` fired before the operation finished. Nothing was written or returned;
 * the signal's reason is kept as `cause`. (A keyring call that runs past its deadline,
 * `keyringTimeoutMs`, is a {@link ProviderError} with `kind: 'unavailable'` and `retryable: true`
 * instead: the key service did not answer, and trying again later may help.)
 */
export class AbortedError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_ABORTED';
  override readonly code = 'ERR_FIELDSEAL_ABORTED';
}

/**
 * `rewrap` with `verify: true` produced a document that does not open as `decrypt` with the target
 * keyrings would open it (a target keyring that unwraps to a different data key or not at all, a
 * field that does not authenticate, an incomplete document). Nothing was returned; what the check
 * failed with is the `cause`.
 */
export class RewrapVerificationError extends FieldsealError {
  static override readonly code = 'ERR_FIELDSEAL_REWRAP_VERIFY';
  override readonly code = 'ERR_FIELDSEAL_REWRAP_VERIFY';
}
