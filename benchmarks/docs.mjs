#!/usr/bin/env node
// Writes the result tables of docs/BENCHMARKS.md (between the results markers) from run files:
//   node benchmarks/docs.mjs benchmarks/results/run-1.json benchmarks/results/run-2.json
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownRuns } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const doc = path.join(here, '..', 'docs', 'BENCHMARKS.md');
const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: node benchmarks/docs.mjs RUN.json [RUN.json ...]');
const runs = [];
for (const f of files) runs.push(JSON.parse(await readFile(f, 'utf8')));
const env = runs[0].environment;
const header = [
  `Runs: ${runs.map((r, i) => `run ${i + 1} ${r.startedAt} (load average ${r.environment.loadavgAtStart.map((l) => l.toFixed(1)).join(' / ')})`).join('; ')}.`,
  `Machine: ${env.cpus} x ${env.cpuModel}, ${env.platform}, Node ${env.node} (OpenSSL ${env.openssl}). Shared with other jobs: see the load averages.`,
  '',
].join('\n');
const text = await readFile(doc, 'utf8');
const begin = '<!-- results:begin -->';
const end = '<!-- results:end -->';
const i = text.indexOf(begin);
const j = text.indexOf(end);
if (i < 0 || j < i) throw new Error(`${doc} has no ${begin} ... ${end} section`);
await writeFile(doc, `${text.slice(0, i + begin.length)}\n${header}\n${markdownRuns(runs)}\n${text.slice(j)}`);
process.stdout.write(`updated ${path.relative(process.cwd(), doc)} from ${files.length} run(s)\n`);
