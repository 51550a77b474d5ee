#!/usr/bin/env node
// Writes the throughput-vs-field-size chart from a results file:
//   node benchmarks/chart.mjs [results.json] [out.svg]
// Defaults: benchmarks/results/latest.json -> docs/benchmarks-throughput.svg
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSweepSvg } from './lib/chart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? path.join(here, 'results', 'latest.json');
const output = process.argv[3] ?? path.join(here, '..', 'docs', 'benchmarks-throughput.svg');
const result = JSON.parse(await readFile(input, 'utf8'));
await writeFile(output, renderSweepSvg(result));
process.stdout.write(`wrote ${path.relative(process.cwd(), output)} from ${path.relative(process.cwd(), input)}\n`);
