// One command: `node examples/beacon-postgres/run.mjs` (set DATABASE_URL to use another server).
// Node 20 cannot load TypeScript, so this bundles example.ts with esbuild (a root dev dependency),
// resolving @fieldseal/core to its sources: no build step needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

// Inside node_modules/.cache so the bundle resolves pg from the workspace's node_modules.
const cache = new URL('../../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'fieldseal-beacon-example-'));
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
    // Bundle the workspace's own sources; leave real dependencies (pg) to node_modules.
    external: ['pg'],
    logLevel: 'warning',
  });
  const { runBeaconExample } = await import(pathToFileURL(outfile).href);
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  let result;
  try {
    result = await runBeaconExample({ client, log: (line) => console.log(line) });
  } finally {
    await client.end();
  }
  const exact = result.lookups.every((l) => JSON.stringify(l.found) === JSON.stringify(l.expected));
  console.log(exact ? `every lookup returned exactly its matching rows (${result.lookups.length} lookups)` : 'MISMATCH: a lookup did not return exactly its matching rows');
  process.exitCode = exact ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
