/** Exit codes of the `fieldseal` command, documented in its README. */
export const EXIT_OK = 0;
/** A cryptographic, authentication, key or data failure. */
export const EXIT_FAILURE = 1;
/** A usage error: bad flags, bad selector, a file that would be overwritten. */
export const EXIT_USAGE = 2;

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
