/**
 * The `fieldseal` command-line tool. Commands are plain async functions, usable from code and tests.
 * @module
 */
export { commands, helpText, parseCommandLine, type CommandSpec } from './cli.js';
export { ExitError, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './exit-error.js';
export { keyringFromSpec } from './keyring-spec.js';
export { parseContextFlags } from './context-flags.js';
export type { CommandIo } from './io.js';
