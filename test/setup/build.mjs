// vitest globalSetup: build every package once (tsc -b is incremental), so tests that start child
// processes on dist/ (the CLI, CommonJS require, rotation crash tests) see current code, and no two
// test files race to write dist/.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup() {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-b'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/postbuild.mjs'], { cwd: root, stdio: 'inherit' });
}
