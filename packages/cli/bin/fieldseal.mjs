#!/usr/bin/env node
// Committed launcher (npm links bins at install time, before `dist/` is built): load the compiled CLI.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('fieldseal: the CLI is not built yet; run `npm run build` first\n');
  process.exit(2);
}
await import(entry.href);
