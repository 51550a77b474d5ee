import { isFieldsealError } from '@fieldseal/core';
import { EXIT_FAILURE, EXIT_KEY_UNAVAILABLE, EXIT_RETRYABLE, EXIT_USAGE, ExitError } from './exit-error.js';

const USAGE_CODES = new Set(['ERR_FIELDSEAL_INVALID_ARGUMENT', 'ERR_FIELDSEAL_INVALID_SELECTOR']);
const NETWORK: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: is the server running, and are the host and port right?',
  ECONNRESET: 'the connection was reset by the server',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EAI_AGAIN: 'the host name could not be resolved right now',
  ENOTFOUND: 'the host name does not resolve',
  EPIPE: 'the connection was closed by the server',
};
const FILE: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EEXIST: 'the file exists',
};

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  errors?: unknown;
}

/** The first errno-style error in `err`, its `cause` chain or an AggregateError (Node's dual-stack connect). */
function errnoOf(err: unknown, depth = 0): ErrnoLike | undefined {
  if (depth > 5 || err === null || typeof err !== 'object') return undefined;
  const e = err as ErrnoLike & { cause?: unknown };
  if (typeof e.code === 'string' && (NETWORK[e.code] !== undefined || FILE[e.code] !== undefined)) return e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) { const found = errnoOf(inner, depth + 1); if (found) return found; }
  return errnoOf(e.cause, depth + 1);
}

/**
 * A KeyUnavailableError (from a core without its own `retryable`) where some key service that was
 * asked failed in a retryable way: that service may hold the key, so a later retry can succeed.
 */
function someReasonRetryable(err: unknown): boolean {
  const reasons = (err as { reasons?: unknown }).reasons;
  return Array.isArray(reasons) && reasons.some((r) => (r as { cause?: { retryable?: unknown } } | null)?.cause?.retryable === true);
}

/**
 * Map any error to an exit code and a one-line message, the single source of the exit-code table
 * (bin.ts for the process, the NDJSON loop for each line). Messages never carry input text.
 */
export function describeError(err: unknown): { exitCode: number; message: string } {
  if (err instanceof ExitError) return { exitCode: err.exitCode, message: err.message };
  if (isFieldsealError(err)) {
    const e = err as Error & { code: string; retryable?: unknown; kind?: unknown };
    const message = `${e.message} (${e.code})`;
    // `retryable` is duck-typed: ProviderError has it, KeyUnavailableError gains it in a later core.
    if (e.retryable === true || (e.retryable === undefined && someReasonRetryable(err))) return { exitCode: EXIT_RETRYABLE, message: `${message}; retrying later can succeed` };
    if (e.code === 'ERR_FIELDSEAL_KEY_UNAVAILABLE') return { exitCode: EXIT_KEY_UNAVAILABLE, message };
    if (e.code === 'ERR_FIELDSEAL_PROVIDER') return { exitCode: e.kind === 'invalid-ciphertext' ? EXIT_FAILURE : EXIT_KEY_UNAVAILABLE, message };
    return { exitCode: USAGE_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILURE, message };
  }
  const errno = errnoOf(err);
  if (errno !== undefined) {
    const code = errno.code as string;
    if (NETWORK[code] !== undefined) {
      const where = typeof errno.address === 'string' ? ` to ${errno.address}${typeof errno.port === 'number' ? `:${errno.port}` : ''}` : '';
      return { exitCode: EXIT_RETRYABLE, message: `cannot connect${where}: ${NETWORK[code]} (${code})` };
    }
    const path = typeof errno.path === 'string' ? ` ${errno.path}` : '';
    return { exitCode: EXIT_USAGE, message: `cannot ${typeof errno.syscall === 'string' ? errno.syscall : 'access'}${path}: ${FILE[code]} (${code})` };
  }
  return { exitCode: EXIT_FAILURE, message: `internal error: ${err instanceof Error ? err.message : String(err)} (rerun with --debug for details)` };
}
