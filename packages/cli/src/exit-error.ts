/**
 * Exit codes of the `fieldseal` command. The table is public: scripts branch on it, so a code
 * never changes meaning. Documented in the README and in `fieldseal --help`.
 */
export const EXIT_OK = 0;
/** A cryptographic, authentication or data failure (tampering, wrong context, malformed input, a limit). */
export const EXIT_FAILURE = 1;
/** A usage error: bad flags, bad selector, a missing or unwritable file, an insecure key file. */
export const EXIT_USAGE = 2;
/** No configured key can open the document, or the key service refused for good (access denied, key disabled or missing). */
export const EXIT_KEY_UNAVAILABLE = 3;
/** A key service or database could not be reached or asked to retry (throttled, 5xx, timeout, connection refused): retry later. */
export const EXIT_RETRYABLE = 4;
/** A job ran to its end but some items failed: an NDJSON stream under `--on-error skip` (lines named on stderr), or `fieldseal rotate` (records left unchanged, named in its report). */
export const EXIT_PARTIAL = 5;
/** `fieldseal rotate` was interrupted after finishing its batch; rerun with `--resume`. */
export const EXIT_INTERRUPTED_CODE = 130;

/** The exit-code table, as printed by `--help` and the README. */
export const EXIT_CODE_TABLE: readonly (readonly [number, string])[] = [
  [EXIT_OK, 'success'],
  [EXIT_FAILURE, 'data or cryptographic failure (tampered, wrong context, malformed input, a size limit)'],
  [EXIT_USAGE, 'usage error (bad flag, missing or unwritable file, insecure key file)'],
  [EXIT_KEY_UNAVAILABLE, 'key unavailable: no configured key opens it, or the key service refused (denied, disabled, not found)'],
  [EXIT_RETRYABLE, 'key service or database unreachable or throttled: retrying later can succeed'],
  [EXIT_PARTIAL, 'partial failure: an NDJSON stream under --on-error skip had failed lines (named on stderr), or fieldseal rotate finished with failed records (left unchanged, listed in its report)'],
  [EXIT_INTERRUPTED_CODE, 'fieldseal rotate was interrupted; rerun with --resume'],
];

/** Thrown by commands; only `bin.ts` turns it into a process exit code. */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

/** Shorthand for a usage error. */
export function usage(message: string): ExitError {
  return new ExitError(EXIT_USAGE, message);
}
