// Azure SDK errors -> core ProviderError with a kind and a retryable flag.
import { InvalidArgumentError, ProviderError } from '@fieldseal/core';
import type { ProviderErrorKind } from '@fieldseal/core';
import { AZURE_KEYVAULT_PROVIDER_ID } from './key-id.js';

/**
 * No `TokenCredential` was given where one is needed. `@azure/identity` is not a dependency of this
 * package: install it and pass e.g. `new DefaultAzureCredential()`.
 */
export class AzureCredentialRequiredError extends InvalidArgumentError {
  /** @ignore */
  constructor(message = 'azure-keyvault: a TokenCredential is needed to call Key Vault. Install @azure/identity and pass { credential: new DefaultAzureCredential() } (or any TokenCredential).') {
    super(message);
  }
}

/** What we read from an SDK error: `RestError` and Node system errors share these members. */
interface ErrorFacts {
  name?: unknown;
  message?: unknown;
  statusCode?: unknown;
  code?: unknown;
  details?: { error?: { code?: unknown; innerError?: { code?: unknown } } };
}

/** Transport failures a retry can cure (connection refused/reset, DNS hiccups, timeouts). */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR']);
/** TLS failures: retrying will not help; the client needs the right CA. */
const TLS_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_GET_ISSUER_CERT)/;

function classify(e: ErrorFacts, operation: string): { kind: ProviderErrorKind; retryable: boolean } {
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const code = typeof e.code === 'string' ? e.code : '';
  const inner = typeof e.details?.error?.innerError?.code === 'string' ? e.details.error.innerError.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  if (status !== undefined) {
    if (status === 401) return { kind: 'auth', retryable: false };
    if (status === 403) {
      if (/disabled|expired|notyetvalid/i.test(inner)) return { kind: 'disabled', retryable: false };
      return { kind: 'auth', retryable: false };
    }
    if (status === 404) return { kind: 'not-found', retryable: false };
    if (status === 408) return { kind: 'unavailable', retryable: true };
    if (status === 429) return { kind: 'throttled', retryable: true };
    if (status >= 500) return { kind: 'unavailable', retryable: true };
    // Key Vault answers a ciphertext it cannot decrypt with 400 BadParameter.
    if (status === 400 && operation === 'unwrapKey') return { kind: 'invalid-ciphertext', retryable: false };
    if (status === 409) return { kind: 'disabled', retryable: false };
    return { kind: 'invalid-request', retryable: false };
  }
  if (name === 'AbortError' || /TimeoutError/.test(name)) return { kind: 'unavailable', retryable: true };
  if (name === 'CredentialUnavailableError' || name === 'AuthenticationRequiredError' || name === 'AuthenticationError') return { kind: 'auth', retryable: false };
  // The SDK refuses a 401 challenge naming a resource the vault's host is not part of (no token is sent).
  if (typeof e.message === 'string' && /challenge resource|challenge contains invalid scope/.test(e.message)) return { kind: 'auth', retryable: false };
  if (TLS_CODES.test(code)) return { kind: 'unavailable', retryable: false };
  if (TRANSIENT_CODES.has(code)) return { kind: 'unavailable', retryable: true };
  return { kind: 'other', retryable: false };
}

/** Keep messages free of anything but the service's words; cap their length. */
function describe(e: ErrorFacts): string {
  const status = typeof e.statusCode === 'number' ? `HTTP ${e.statusCode}` : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message.slice(0, 300) : 'unknown error';
  return [status, code].filter(Boolean).join(' ') + (status || code ? ': ' : '') + message;
}

/**
 * Map an error from `@azure/keyvault-keys` (a `RestError`, a transport or abort error, a
 * credential error) to a core `ProviderError`.
 *
 * Kinds: 401 and 403 are `auth` (403 with `KeyDisabled`/`KeyExpired` is `disabled`), as are credential
 * failures and a bearer challenge for a resource the vault does not belong to; 404 `not-found`,
 * 429 `throttled` (retryable), 408/5xx, timeouts and connection failures `unavailable` (retryable),
 * 400 on unwrap `invalid-ciphertext`, other 4xx `invalid-request`, TLS trust failures `unavailable`
 * (not retryable: the client needs the CA).
 *
 * @param err - What the SDK threw.
 * @param keyId - The key concerned.
 * @param operation - `wrapKey`, `unwrapKey` or `getKey`, named in the message.
 * @returns A ProviderError with the SDK error as `cause`.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function toProviderError(err: unknown, keyId: string, operation: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const facts: ErrorFacts = typeof err === 'object' && err !== null ? (err as ErrorFacts) : { message: String(err) };
  const { kind, retryable } = classify(facts, operation);
  return new ProviderError({ provider: AZURE_KEYVAULT_PROVIDER_ID, keyId, kind, retryable, message: `${operation} failed: ${describe(facts)}`, cause: err });
}
