/**
 * The `fieldseal` command-line tool. Commands are plain async functions, usable from code and tests.
 * @module
 */
export { commands, helpText, parseCommandLine, type CommandSpec, type OptionSpec, type ParsedCommandLine } from './cli.js';
export { ExitError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_KEY_UNAVAILABLE, EXIT_RETRYABLE, EXIT_PARTIAL, EXIT_CODE_TABLE } from './exit-error.js';
export { describeError } from './describe-error.js';
export { keyringFromSpec, keyringFromSpecs, keyFilePolicy } from './keyring-spec.js';
export { parseContextFlags, loadContext } from './context-flags.js';
export { completionScript } from './completion.js';
export type { CommandIo } from './io.js';
export { WorkerThreadError } from './lib/thread-pool.js';
export { LineFailedError } from './ndjson-workers.js';
