// `node benchmarks/prisma.mjs [--rows 1000] [--rounds 5]`: findMany of N rows with two encrypted
// columns and create of N rows, each with and without @fieldseal/prisma, in the same run against
// the same PostgreSQL (DATABASE_URL). Reports medians over the rounds and their ratio.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from '../packages/prisma/scripts/generate.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' }, json: { type: 'boolean' } } });
generate('examples/prisma/schema.prisma');
const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'fieldseal-prisma-bench-'));
try {
  const outfile = join(dir, 'workload.mjs');
  await build({
    entryPoints: [new URL('./prisma/workload.ts', import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['fieldseal-source', 'node'],
    external: ['pg', '@prisma/*'],
    logLevel: 'warning',
  });
  const { runPrismaBench } = await import(pathToFileURL(outfile).href);
  const r = await runPrismaBench({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', rows: Number(values.rows), rounds: Number(values.rounds) });
  if (values.json) console.log(JSON.stringify(r));
  else {
    const line = (name, plain, sealed) => `| ${name} | ${plain.toFixed(1)} | ${sealed.toFixed(1)} | ${(plain / sealed).toFixed(2)}x | ${((sealed - plain) / r.rows * 1000).toFixed(1)} µs |`;
    console.log(`Node ${process.version}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${r.rows} rows, median of ${r.rounds} rounds`);
    console.log('| workload | without extension (ms) | with @fieldseal/prisma (ms) | throughput ratio | added per row |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(line(`create x ${r.rows} (sequential)`, r.createPlainMs, r.createSealedMs));
    console.log(line(`findMany of ${r.rows} rows`, r.findManyPlainMs, r.findManySealedMs));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
