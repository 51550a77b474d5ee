// Generates the Prisma clients that the tests, the example and the benchmark use, offline:
// `prisma generate` (prisma-client generator) does not need the schema engine, but asks for one;
// a stub executable stands in for it (see docs in README.md, "Running offline"). Skips the work
// when the schema and Prisma version are unchanged since the last run, and takes a lock so that
// concurrent builds do not write the same files.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const require = createRequire(import.meta.url);

/** Schemas to generate, relative to the repository root (output is set in each schema). */
export const SCHEMAS = ['packages/prisma/test/prisma/schema.prisma', 'examples/prisma/schema.prisma'];

function prismaCli() {
  return join(dirname(require.resolve('prisma/package.json')), 'build/index.js');
}

export function generate(schema) {
  const abs = resolve(root, schema);
  if (!existsSync(abs)) return false;
  const text = readFileSync(abs, 'utf8');
  const output = /output\s*=\s*"([^"]+)"/.exec(text)?.[1];
  if (output === undefined) throw new Error(`${schema}: the generator block needs an output`);
  const outDir = resolve(dirname(abs), output);
  const version = JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')).version;
  const stamp = createHash('sha256').update(version).update('\0').update(text).digest('hex');
  const stampFile = join(outDir, '.fieldseal-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return false;
  const stub = join(tmpdir(), 'fieldseal-prisma-schema-engine-stub.sh');
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);
  execFileSync(process.execPath, [prismaCli(), 'generate', '--schema', abs], {
    cwd: root,
    stdio: 'pipe',
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
  });
  writeFileSync(stampFile, stamp);
  return true;
}

function withLock(fn) {
  const lock = join(tmpdir(), `fieldseal-prisma-generate-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function generateAll() {
  return withLock(() => SCHEMAS.filter((s) => generate(s)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const done = generateAll();
  if (done.length > 0) console.log(`prisma generate: ${done.join(', ')}`);
}
