#!/usr/bin/env node
// Quick A/B and profiling loop for optimisation work (not the benchmark report):
//   node benchmarks/profile.mjs [W1|W2|W3|tiny] [encrypt|decrypt|both] [batches]
// alternates batches of (a) and fieldseal and prints the median CPU-time ratio of fieldseal to (a).
// Run under `node --cpu-prof --cpu-prof-dir=/tmp/prof benchmarks/profile.mjs ...` to see where the time goes.
import { BLOB_PATHS, CUSTOMER_PATHS, blobRecord, customerRecord } from './lib/data.mjs';
import { baseline, baselineEnvelope, fieldseal } from './lib/subjects.mjs';

const [workload = 'W1', which = 'both', batchesArg = '15'] = process.argv.slice(2);
const batches = Number(batchesArg);
const customer = { shape: 'customer', record: customerRecord() };
const setups = {
  W1: async () => [baseline(customer), await fieldseal({ ...customer, paths: CUSTOMER_PATHS, cached: true }), 300],
  W3: async () => [baselineEnvelope(customer), await fieldseal({ ...customer, paths: CUSTOMER_PATHS, cached: false }), 300],
  W2: async () => {
    const mib = { shape: 'blob', record: blobRecord(1024 * 1024) };
    return [baseline(mib), await fieldseal({ ...mib, paths: BLOB_PATHS, cached: true }), 4];
  },
  tiny: async () => {
    const tiny = { shape: 'blob', record: blobRecord(16) };
    return [baseline(tiny), await fieldseal({ ...tiny, paths: BLOB_PATHS, cached: true }), 500];
  },
};
const [a, fs, perBatch] = await setups[workload]();

async function cpuPerOp(fn, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const op of which === 'both' ? ['encrypt', 'decrypt'] : [which]) {
  const ratios = [];
  const aTimes = [];
  const fTimes = [];
  for (let b = 0; b < batches; b++) {
    const ta = await cpuPerOp(a[op], perBatch);
    const tf = await cpuPerOp(fs[op], perBatch);
    if (b === 0) continue; // warmup
    aTimes.push(ta);
    fTimes.push(tf);
    ratios.push(ta / tf);
  }
  // The fastest batch of each is the least disturbed by other processes: its ratio is the steadiest figure.
  const best = Math.min(...aTimes) / Math.min(...fTimes);
  console.log(`${workload} ${op}: (a) ${median(aTimes).toFixed(1)} µs, fieldseal ${median(fTimes).toFixed(1)} µs CPU per op (median); ratio ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}); best batches ${Math.min(...aTimes).toFixed(1)} / ${Math.min(...fTimes).toFixed(1)} µs = ${best.toFixed(3)}`);
}
