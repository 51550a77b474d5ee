#!/usr/bin/env node
// fieldseal benchmark suite. `npm run bench` from the repository root builds the packages, then runs
// this. Options:
//   --out FILE        also write the JSON results to FILE (a full run always writes results/latest.json,
//                     the input of chart.mjs; a run with --only or --quick writes results/partial.tmp.json)
//   --only W1,W2,...  workloads: W1 W2 W3 W4 W5 sweep sizes (default: all)
//   --time MS         time per task and operation (default 1500), split over --rounds rounds (default 3)
//   --quick           short timings, for a quick look (numbers are noisier)
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, runSuite } from './lib/suite.mjs';
import { textReport } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    only: { type: 'string' },
    time: { type: 'string' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});

const options = {};
if (values.only) options.workloads = values.only.split(',').map((s) => s.trim());
if (values.quick) Object.assign(options, { timeMs: 400, warmupMs: 100, rounds: 2, sweepTimeMs: 200, kmsTimeMs: 500, rotationRecords: 500 });
if (values.time) options.timeMs = Number(values.time);
if (values.rounds) options.rounds = Number(values.rounds);
for (const k of Object.keys(options)) if (typeof options[k] === 'number' && !(options[k] > 0)) throw new Error(`bad --${k}`);

const started = performance.now();
const result = await runSuite({ ...DEFAULT_OPTIONS, ...options }, (line) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}\n`));
const json = JSON.stringify(result, null, 2) + '\n';
await mkdir(path.join(here, 'results'), { recursive: true });
// Only a full run replaces latest.json: a partial one would leave chart.mjs without the sweep.
const partial = values.only !== undefined || values.quick;
await writeFile(path.join(here, 'results', partial ? 'partial.tmp.json' : 'latest.json'), json);
if (values.out) await writeFile(path.resolve(values.out), json);
process.stdout.write(textReport(result) + '\n');
