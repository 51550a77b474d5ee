// One command: `node examples/drizzle/run.mjs` (an in-memory PGlite, no server needed), or
// `DATABASE_URL=postgres://… node examples/drizzle/run.mjs` for a PostgreSQL server.
// Node 20 cannot load TypeScript, so this bundles example.ts with esbuild (a root dev dependency),
// resolving the @fieldseal packages to their sources: no build step needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Inside node_modules/.cache so the bundle resolves drizzle-orm, pg and PGlite from the workspace.
const cache = new URL('../../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'fieldseal-drizzle-example-'));
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
    // Bundle the workspace's own sources; leave real dependencies to node_modules.
    external: ['pg', 'drizzle-orm', '@electric-sql/pglite'],
    logLevel: 'warning',
  });
  const { runDrizzleExample } = await import(pathToFileURL(outfile).href);
  await runDrizzleExample({ databaseUrl: process.env.DATABASE_URL, log: (line) => console.log(line) });
  console.log('done');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
