// One command: `node examples/prisma/run.mjs` (set DATABASE_URL to use another server).
// Generates the Prisma client offline, then bundles example.ts with esbuild (Node 20 cannot load
// TypeScript), resolving the fieldseal packages to their sources: no build step needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from '../../packages/prisma/scripts/generate.mjs';

generate('examples/prisma/schema.prisma');
// Inside node_modules/.cache so the bundle resolves pg and @prisma/* from the workspace.
const cache = new URL('../../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'fieldseal-prisma-example-'));
try {
  const outfile = join(dir, 'example.mjs');
  await build({
    entryPoints: [new URL('./example.ts', import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['fieldseal-source', 'node'],
    external: ['pg', '@prisma/*'],
    logLevel: 'warning',
  });
  const { runPrismaExample } = await import(pathToFileURL(outfile).href);
  await runPrismaExample({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', log: (line) => console.log(line) });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
