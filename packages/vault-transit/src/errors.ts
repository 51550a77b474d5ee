/**
 * Vault responses and transport failures -> core's typed {@link ProviderError}.
 * @module
 */
import { InvalidArgumentError, ProviderError, type ProviderErrorKind } from '@fieldseal/core';

/** The provider id of every wrapped key and error this package produces. */
export const VAULT_TRANSIT_PROVIDER = 'vault-transit';

/**
 * What a failed Vault call left behind, kept as the `cause` of a {@link ProviderError}.
 *
 * It holds only the HTTP status and Vault's `errors[]`, or the transport error code: never the
 * request (whose body carries the base64 data key on `encrypt`), so logging an error with its
 * causes cannot leak key material. The original client error is deliberately not kept.
 */
export class VaultTransitRequestError extends Error {
  /** HTTP status of Vault's answer; `undefined` when no answer arrived. */
  readonly statusCode: number | undefined;
  /** Vault's `errors[]` (each shortened to 200 characters). */
  readonly errors: readonly string[];
  /** Transport error code (`ECONNREFUSED`, `ECONNRESET`, `ECONNABORTED`, a TLS code, …), when no answer arrived. */
  readonly code: string | undefined;

  /** @ignore */
  constructor(message: string, init: { statusCode?: number; errors?: readonly string[]; code?: string }) {
    super(message);
    this.name = 'VaultTransitRequestError';
    this.statusCode = init.statusCode;
    this.errors = Object.freeze([...(init.errors ?? [])]);
    this.code = init.code;
  }
}

// Transport failures where the same request may well succeed later.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED', // axios: timeout
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

// Node/OpenSSL certificate verification codes: a configuration problem, never fixed by retrying.
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL/;

const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s).replace(/[\u0000-\u001f\u007f]/g, ' ');

/** Classify an HTTP status plus Vault's messages. */
function classify(status: number, messages: readonly string[]): { kind: ProviderErrorKind; retryable: boolean; hint?: string } {
  const text = messages.join('\n');
  if (status === 400) {
    if (/disallowed by policy \(too old\)/.test(text)) {
      return { kind: 'disabled', retryable: false, hint: 'the key version is below the key\'s min_decryption_version' };
    }
    if (/message authentication failed|invalid ciphertext|unable to decrypt|could not decode/i.test(text)) {
      return { kind: 'invalid-ciphertext', retryable: false, hint: 'wrong encryption context, wrong key, or a modified wrapped key' };
    }
    if (/encryption key not found|key not found|no existing key/i.test(text)) return { kind: 'not-found', retryable: false };
    if (/missing 'context'/.test(text)) {
      return { kind: 'invalid-request', retryable: false, hint: 'the key is derived but no context was sent' };
    }
    return { kind: 'invalid-request', retryable: false };
  }
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false, hint: 'the token is missing, expired, revoked, or its policy does not allow this path' };
  if (status === 404) return { kind: 'not-found', retryable: false, hint: 'no transit mount or key at this path (check mount and namespace)' };
  if (status === 429) return { kind: 'throttled', retryable: true };
  // 412: Vault Enterprise consistency (a standby has not caught up); 472/473: DR/performance standby.
  if (status === 412 || status === 472 || status === 473 || status >= 500) {
    return { kind: 'unavailable', retryable: true, ...(status === 503 ? { hint: 'Vault is sealed, in standby or overloaded' } : {}) };
  }
  if (status >= 400 && status < 500) return { kind: 'invalid-request', retryable: false };
  return { kind: 'other', retryable: false };
}

function errorsOf(body: unknown): string[] {
  const errors = body !== null && typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string').slice(0, 3).map(short) : [];
}

/**
 * Map anything a Vault client threw to a {@link ProviderError}: API errors by HTTP status and
 * Vault's `errors[]`, transport failures by their `code`. The result's `cause` is a sanitized
 * {@link VaultTransitRequestError}.
 *
 * @param err What the client threw (node-vault: an error with `response.statusCode` and
 *   `response.body.errors`, or a raw AxiosError with `code`).
 * @param keyId The key concerned (`[namespace/]mount/name`, with `:vN` when known).
 * @param operation The transit operation, for the message (`encrypt`, `decrypt`, …).
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function toProviderError(err: unknown, keyId: string, operation: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as { response?: { statusCode?: unknown; body?: unknown }; code?: unknown; message?: unknown };
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  if (status !== undefined) {
    const errors = errorsOf(e.response?.body);
    const { kind, retryable, hint } = classify(status, errors);
    const detail = errors.length > 0 ? errors.join('; ') : 'no error message';
    const message = `${operation} failed: HTTP ${status}: ${detail}${hint ? ` (${hint})` : ''}`;
    return new ProviderError({
      provider: VAULT_TRANSIT_PROVIDER,
      keyId,
      kind,
      retryable,
      message,
      cause: new VaultTransitRequestError(`HTTP ${status}: ${detail}`, { statusCode: status, errors }),
    });
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) {
    const transient = TRANSIENT_CODES.has(code);
    const tls = !transient && TLS_CODE.test(code);
    const what = transient ? 'Vault unreachable' : tls ? 'TLS verification of Vault failed' : 'request to Vault failed';
    return new ProviderError({
      provider: VAULT_TRANSIT_PROVIDER,
      keyId,
      kind: transient ? 'unavailable' : code === 'ERR_INVALID_URL' ? 'invalid-request' : 'other',
      retryable: transient,
      message: `${operation} failed: ${what} (${code})`,
      cause: new VaultTransitRequestError(`${what} (${code})`, { code }),
    });
  }
  // Not from the transport or Vault (a bug in a wrapper client, a schema check): keep only the message.
  const text = typeof e.message === 'string' ? short(e.message) : 'unknown error';
  return new ProviderError({
    provider: VAULT_TRANSIT_PROVIDER,
    keyId,
    kind: 'other',
    retryable: false,
    message: `${operation} failed: ${text}`,
    cause: new VaultTransitRequestError(text, {}),
  });
}

/**
 * The transit key is not derived, but the keyring binds the encryption context as a derived-key
 * `context`, which Vault silently ignores on such a key: the Vault-side context binding would
 * disappear. Raised by `verifyKey` (on by default). The message says how to create a derived key.
 */
export class VaultKeyNotDerivedError extends InvalidArgumentError {
  /** The key's path, `[<namespace>/]<mount>/<name>`. */
  readonly keyPath: string;
  /** @ignore */
  constructor(keyPath: string, mount: string, keyName: string, namespace: string) {
    const ns = namespace === '' ? '' : `VAULT_NAMESPACE=${namespace} `;
    super(
      `${keyPath}: the transit key is not derived, so Vault would ignore the encryption context. ` +
        `Create a derived key with \`${ns}vault write ${mount}/keys/${keyName} derived=true\` (an existing key cannot be made derived: use a new name and rewrap), ` +
        'or keep this key with contextBinding "associated-data"; verifyKey: false skips this check.',
    );
    this.keyPath = keyPath;
  }
}
