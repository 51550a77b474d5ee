#!/usr/bin/env node
// `fieldseal-emulators <aws|azure|gcp|vault> [--port N] [--tls]`: start one emulator on loopback for
// offline development and print the endpoint and the environment to use. Each emulator folder
// provides `cli.ts` exporting `main(argv)`.
const emulators: Record<string, string> = {
  aws: './aws/cli.js',
  azure: './azure/cli.js',
  gcp: './gcp/cli.js',
  vault: './vault/cli.js',
};

const [name, ...rest] = process.argv.slice(2);
const modulePath = name === undefined ? undefined : emulators[name];
if (modulePath === undefined) {
  process.stderr.write(`usage: fieldseal-emulators <${Object.keys(emulators).join('|')}> [--port N] [--tls]\n`);
  process.exitCode = 2;
} else {
  try {
    const mod = (await import(modulePath)) as { main(argv: string[]): Promise<void> };
    await mod.main(rest);
  } catch (err) {
    process.stderr.write(`fieldseal-emulators: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
