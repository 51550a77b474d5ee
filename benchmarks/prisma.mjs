// `node benchmarks/prisma.mjs [--rows 1000] [--rounds 5]`: findMany of N rows with two encrypted
// columns and create of N rows, each with and without @fieldseal/prisma, in the same run against
// the same PostgreSQL (DATABASE_URL). Reports medians over the rounds and their ratio.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generate } from '../packages/prisma/scripts/generate.mjs';
import { withTypeScriptModule } from '../examples/lib/run-typescript.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' }, json: { type: 'boolean' } } });
generate('examples/prisma/schema.prisma');
await withTypeScriptModule(new URL('./prisma/workload.ts', import.meta.url), { external: ['pg', '@prisma/*'] }, async ({ runPrismaBench }) => {
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
});
