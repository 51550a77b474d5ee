/**
 * gRPC failures of Cloud KMS calls as fieldseal {@link ProviderError}s: which provider, which key,
 * what kind of failure, and whether retrying can help.
 * @module
 */
import { ProviderError } from '@fieldseal/core/errors';
import type { ProviderErrorKind } from '@fieldseal/core/errors';

/** gRPC status codes (`google.rpc.Code`) by number, for messages. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/** The codes Google's client libraries and the Cloud KMS retry guidance treat as transient. */
export const RETRYABLE_CODES: readonly number[] = [4, 8, 13, 14];

type Classification = readonly [kind: ProviderErrorKind, retryable: boolean];

function classify(code: number, operation: string, details: string): Classification {
  switch (code) {
    case 3: // INVALID_ARGUMENT
      // The service checks the request checksums we send; a mismatch means the request was
      // corrupted on the way and sending it again can succeed.
      if (/crc32c|checksum/i.test(details)) return ['integrity', true];
      return operation === 'Decrypt' || operation === 'AsymmetricDecrypt' ? ['invalid-ciphertext', false] : ['invalid-request', false];
    case 4: // DEADLINE_EXCEEDED
    case 13: // INTERNAL
    case 14: // UNAVAILABLE
      return ['unavailable', true];
    case 8: // RESOURCE_EXHAUSTED: quota; a later attempt can succeed
      return ['throttled', true];
    case 5: // NOT_FOUND
      return ['not-found', false];
    case 7: // PERMISSION_DENIED
    case 16: // UNAUTHENTICATED
      return ['auth', false];
    case 9: // FAILED_PRECONDITION: version disabled/destroyed, key purpose or state
      return ['disabled', false];
    case 11: // OUT_OF_RANGE
    case 12: // UNIMPLEMENTED
      return ['invalid-request', false];
    case 10: // ABORTED
      return ['unavailable', true];
    case 15: // DATA_LOSS
      return ['integrity', false];
    default:
      return ['other', false];
  }
}

/** A gRPC error as google-gax surfaces it: an `Error` with a numeric `code` and `details`. */
interface GrpcLikeError {
  code?: unknown;
  details?: unknown;
  message?: unknown;
}

/*
 * When google-gax gives up retrying it reports DEADLINE_EXCEEDED with the last error in its
 * message ("Exceeded maximum number of retries retrying error Error: 14 UNAVAILABLE: …"); the
 * original status says more (throttled vs unavailable), so recover it.
 */
function lastRetriedCode(message: string): number | undefined {
  const m = /retrying error (?:Error: )?(\d{1,2}) [A-Z_]+/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * Map any failure of a Cloud KMS call to a {@link ProviderError}.
 * @param err - What the client threw.
 * @param provider - Provider id (`gcp-kms` or `gcp-kms-rsa`).
 * @param keyId - The CryptoKey or CryptoKeyVersion called.
 * @param operation - The RPC (`Encrypt`, `Decrypt`, `GetPublicKey`, `AsymmetricDecrypt`).
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function toProviderError(err: unknown, provider: string, keyId: string, operation: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as GrpcLikeError;
  const message = typeof e.message === 'string' ? e.message : '';
  const details = typeof e.details === 'string' ? e.details : message;
  if (typeof e.code === 'number' && Number.isInteger(e.code)) {
    const exhausted = e.code === 4 ? lastRetriedCode(message) : undefined;
    const code = exhausted ?? e.code;
    const [kind, retryable] = classify(code, operation, details);
    const status = STATUS_NAMES[code] ?? `status ${code}`;
    // Service details name resources and permissions, never key material or plaintext; cap them.
    const shown = exhausted === undefined ? details.slice(0, 300) : 'the client retried and gave up';
    return new ProviderError({ provider, keyId, kind, retryable, message: `${operation} failed: ${status}${shown ? ` (${shown})` : ''}`, cause: err });
  }
  // Not a gRPC status: credential discovery (ADC) or a local failure before the call was sent.
  const auth = /credential|authenticat|token/i.test(message);
  return new ProviderError({
    provider,
    keyId,
    kind: auth ? 'auth' : 'other',
    retryable: false,
    message: `${operation} failed: ${auth ? 'could not obtain Google credentials' : 'the client failed before a response'}`,
    cause: err,
  });
}

/**
 * A response failed an integrity check (CRC32C, a `verified*` flag, or a resource name that is not
 * the key asked for). Retryable: Google's guidance is to discard the response and send the request again.
 */
export function integrityError(provider: string, keyId: string, operation: string, what: string, retryable = true): ProviderError {
  return new ProviderError({ provider, keyId, kind: 'integrity', retryable, message: `${operation} response failed its integrity check: ${what}` });
}

/**
 * Check a data key returned by Decrypt or AsymmetricDecrypt: present, its CRC32C as sent by the
 * service, and 32 bytes. Returns a copy and zeroes the response buffer either way.
 */
export function verifiedDataKey(provider: string, keyId: string, operation: string, plaintext: Uint8Array | undefined, plaintextCrc32c: number | undefined, crc: (bytes: Uint8Array) => number): Uint8Array {
  try {
    if (plaintext === undefined) throw integrityError(provider, keyId, operation, 'no plaintext');
    if (plaintextCrc32c === undefined) throw integrityError(provider, keyId, operation, 'no plaintext_crc32c');
    if (plaintextCrc32c !== crc(plaintext)) throw integrityError(provider, keyId, operation, 'plaintext_crc32c does not match the plaintext');
    if (plaintext.length !== 32) throw new ProviderError({ provider, keyId, kind: 'invalid-ciphertext', retryable: false, message: `${operation}: the plaintext is not a 32-byte data key` });
    return Uint8Array.from(plaintext); // a copy: Buffer#slice would be a view of what is zeroed below
  } finally {
    plaintext?.fill(0);
  }
}
