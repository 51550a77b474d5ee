#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { helpText, parseCommandLine } from './cli.js';
import { describeError } from './describe-error.js';
import { processIo } from './io.js';
import { keyFilePolicy } from './keyring-spec.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The only place that decides the exit code and prints errors: one line, no stack unless --debug. */
async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const parsed = parseCommandLine(argv);
    if ('version' in parsed) {
      process.stdout.write(`fieldseal ${version()}\n`);
      return 0;
    }
    if ('help' in parsed) {
      process.stdout.write(helpText(parsed.command));
      return 0;
    }
    keyFilePolicy.allowInsecure = parsed.values['allow-insecure-key-file'] === true;
    await parsed.spec.run(parsed.values, processIo, parsed.positionals);
    return 0;
  } catch (err) {
    const { exitCode, message } = describeError(err);
    process.stderr.write(`fieldseal: ${message}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
