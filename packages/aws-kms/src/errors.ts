/**
 * AWS SDK errors as fieldseal {@link ProviderError}s: which provider, which key, what kind, and
 * whether retrying can help.
 * @module
 */
import { ProviderError } from '@fieldseal/core/errors';
import type { ProviderErrorKind } from '@fieldseal/core/errors';

type Classification = readonly [kind: ProviderErrorKind, retryable: boolean];

/*
 * By `error.name`: modeled KMS exceptions are classes, but unmodeled codes (ThrottlingException,
 * InvalidSignatureException, …) arrive as a generic KMSServiceException whose `name` is the code,
 * so `instanceof` cannot tell them apart (see the shared wire-protocol notes §1).
 */
const BY_NAME: Readonly<Record<string, Classification>> = {
  // Too many requests: the SDK already retried; a later attempt can succeed.
  ThrottlingException: ['throttled', true],
  LimitExceededException: ['throttled', true],
  TooManyRequestsException: ['throttled', true],
  RequestLimitExceeded: ['throttled', true],
  // The service (or something it depends on) failed; transient by definition.
  KMSInternalException: ['unavailable', true],
  InternalFailure: ['unavailable', true],
  InternalError: ['unavailable', true],
  ServiceUnavailable: ['unavailable', true],
  ServiceUnavailableException: ['unavailable', true],
  DependencyTimeoutException: ['unavailable', true],
  KeyUnavailableException: ['unavailable', true],
  CustomKeyStoreInvalidStateException: ['unavailable', true],
  CloudHsmClusterNotActiveException: ['unavailable', true],
  XksProxyUriUnreachableException: ['unavailable', true],
  XksProxyInvalidResponseException: ['unavailable', true],
  TimeoutError: ['unavailable', true],
  RequestTimeout: ['unavailable', true],
  RequestTimeoutException: ['unavailable', true],
  AbortError: ['unavailable', true],
  // Who is calling, and may they: a retry sends the same credentials.
  AccessDeniedException: ['auth', false],
  UnrecognizedClientException: ['auth', false],
  InvalidSignatureException: ['auth', false],
  IncompleteSignatureException: ['auth', false],
  MissingAuthenticationTokenException: ['auth', false],
  InvalidClientTokenId: ['auth', false],
  ExpiredTokenException: ['auth', false],
  ExpiredToken: ['auth', false],
  SignatureDoesNotMatch: ['auth', false],
  CredentialsProviderError: ['auth', false],
  NotAuthorizedException: ['auth', false],
  InvalidGrantTokenException: ['auth', false],
  // The key.
  NotFoundException: ['not-found', false],
  DisabledException: ['disabled', false],
  KMSInvalidStateException: ['disabled', false],
  // The ciphertext: wrong context, wrong key, corrupted.
  InvalidCiphertextException: ['invalid-ciphertext', false],
  IncorrectKeyException: ['invalid-ciphertext', false],
  // The request itself.
  InvalidKeyUsageException: ['invalid-request', false],
  ValidationException: ['invalid-request', false],
  InvalidArnException: ['invalid-request', false],
  UnsupportedOperationException: ['invalid-request', false],
  SerializationException: ['invalid-request', false],
  UnknownOperationException: ['invalid-request', false],
  DryRunOperationException: ['invalid-request', false],
};

/* Node socket errors: the endpoint is down, unreachable or cut the connection. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Classify an error thrown by a KMS call: the fieldseal kind and whether retrying can help.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function classifyAwsError(err: unknown): { kind: ProviderErrorKind; retryable: boolean; name: string } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) return { kind: 'unavailable', retryable: true, name: code };
  if (code === 'ENOTFOUND') return { kind: 'unavailable', retryable: false, name: code };
  const known = BY_NAME[name];
  if (known) return { kind: known[0], retryable: known[1], name };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (status === 429) return { kind: 'throttled', retryable: true, name };
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) return { kind: 'unavailable', retryable: true, name };
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false, name };
  const message = typeof e.message === 'string' ? e.message : '';
  if (/socket hang up|network|connect/i.test(message) && status === undefined) return { kind: 'unavailable', retryable: true, name };
  return { kind: 'other', retryable: false, name };
}

/** Longest service message kept in a {@link ProviderError} message. */
const MAX_SERVICE_MESSAGE = 300;

/**
 * Turn an error from a KMS call into a {@link ProviderError}, keeping the SDK error as `cause`.
 * The message names the operation, the error code and KMS's own message (which names keys and
 * principals, never key material); no request data is included.
 *
 * @param err What the SDK threw.
 * @param provider Provider id (`aws-kms` or `aws-kms-rsa`).
 * @param operation The KMS operation, e.g. `Decrypt`.
 * @param keyId The key concerned, as configured or as recorded in the document.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function toProviderError(err: unknown, provider: string, operation: string, keyId: string | undefined): ProviderError {
  if (err instanceof ProviderError) return err;
  const { kind, retryable, name } = classifyAwsError(err);
  const raw = typeof (err as SdkErrorShape | null)?.message === 'string' ? ((err as SdkErrorShape).message as string) : '';
  const detail = raw.length > MAX_SERVICE_MESSAGE ? `${raw.slice(0, MAX_SERVICE_MESSAGE)}…` : raw;
  return new ProviderError({
    provider,
    ...(keyId !== undefined ? { keyId } : {}),
    kind,
    retryable,
    message: `KMS ${operation} failed: ${name}${detail && detail !== name ? ` (${detail})` : ''}`,
    cause: err,
  });
}
