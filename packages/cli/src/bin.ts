#!/usr/bin/env node
import { isFieldsealError } from '@fieldseal/core';
import { helpText, parseCommandLine } from './cli.js';
import { EXIT_FAILURE, EXIT_USAGE, ExitError } from './exit-error.js';
import { processIo } from './io.js';

const USAGE_CODES = new Set(['ERR_FIELDSEAL_INVALID_ARGUMENT', 'ERR_FIELDSEAL_INVALID_SELECTOR']);

/** The only place that decides the exit code and prints errors: one line, no stack unless --debug. */
async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const parsed = parseCommandLine(argv);
    if ('help' in parsed) {
      process.stdout.write(helpText());
      return 0;
    }
    await parsed.spec.run(parsed.values, processIo, parsed.positionals);
    return 0;
  } catch (err) {
    let code = EXIT_FAILURE;
    let message: string;
    if (err instanceof ExitError) {
      code = err.exitCode;
      message = err.message;
    } else if (isFieldsealError(err)) {
      code = USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_FAILURE;
      message = `${err.message} (${err.code})`;
    } else {
      message = `internal error: ${err instanceof Error ? err.message : String(err)} (rerun with --debug for details)`;
    }
    process.stderr.write(`fieldseal: ${message}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return code;
  }
}

process.exitCode = await main(process.argv.slice(2));
