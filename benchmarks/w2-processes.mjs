#!/usr/bin/env node
// W2 encrypt (one 1 MiB string field) with each subject timed in a process of its own: (a), then
// fieldseal, then (encrypt only) the W2 floor (lib/floor.mjs makeTextFloor: (a) plus what the format
// requires), then (a) again as the control, ROUNDS times in turn. In one process (run.mjs) the
// subjects share a heap and an allocator, and at megabyte sizes one subject's garbage and freed
// memory change what the next one pays; here each pays only for its own. Prints, per round, the
// time per document, the ratios to (a), and each subject's page faults and blocking waits per
// document, then their medians (JSON on the last line).
//   node benchmarks/w2-processes.mjs [ROUNDS=8] [--op encrypt|decrypt]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';


if (process.argv[2] === '--child') {
  const [, , , subject, op] = process.argv;
  const { baseline, fieldseal } = await import('./lib/subjects.mjs');
  const { blobRecord, BLOB_PATHS } = await import('./lib/data.mjs');
  const mib = { shape: 'blob', record: blobRecord(1024 * 1024) };
  const impl = subject === 'a' ? baseline(mib) : subject === 'floor' ? (await import('./lib/floor.mjs')).makeTextFloor(mib.record) : await fieldseal({ ...mib, paths: BLOB_PATHS, cached: true });
  const run = impl[op];
  for (let i = 0; i < 200; i++) await run();
  const n = 1500;
  const usage0 = process.resourceUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const usage = process.resourceUsage();
  // Page faults and voluntary context switches (a thread that blocks: here, mostly on the memory
  // allocator's lock while V8's background threads free buffers) explain much of W2's spread.
  const perDoc = (k) => (usage[k] - usage0[k]) / n;
  console.log(JSON.stringify({ wallMicros: (ms * 1000) / n, cpuMicros: (cpu.user + cpu.system) / n, faults: perDoc('minorPageFault') + perDoc('majorPageFault'), waits: perDoc('voluntaryContextSwitches') }));
} else {
  const rounds = Number(process.argv[2] ?? 8);
  const op = process.argv.includes('--op') ? process.argv[process.argv.indexOf('--op') + 1] : 'encrypt';
  if (!(rounds >= 1) || !['encrypt', 'decrypt'].includes(op)) throw new Error('usage: w2-processes.mjs [ROUNDS] [--op encrypt|decrypt]');
  const self = fileURLToPath(import.meta.url);
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const withFloor = op === 'encrypt';
  const ratios = { fieldseal: [], control: [], fieldsealCpu: [], controlCpu: [], ...(withFloor ? { floor: [] } : {}) };
  const perDoc = { aFaults: [], fieldsealFaults: [], aWaits: [], fieldsealWaits: [] };
  for (let r = 1; r <= rounds; r++) {
    const child = (s) => JSON.parse(execFileSync(process.execPath, [self, '--child', s, op], { encoding: 'utf8' }).trim().split('\n').pop());
    const a = child('a');
    const fs = child('fieldseal');
    const floor = withFloor ? child('floor') : undefined;
    const again = child('a');
    if (floor !== undefined) ratios.floor.push(a.wallMicros / floor.wallMicros);
    ratios.fieldseal.push(a.wallMicros / fs.wallMicros);
    ratios.control.push(a.wallMicros / again.wallMicros);
    ratios.fieldsealCpu.push(a.cpuMicros / fs.cpuMicros);
    ratios.controlCpu.push(a.cpuMicros / again.cpuMicros);
    perDoc.aFaults.push(a.faults, again.faults);
    perDoc.fieldsealFaults.push(fs.faults);
    perDoc.aWaits.push(a.waits, again.waits);
    perDoc.fieldsealWaits.push(fs.waits);
    const f = (x) => x.toFixed(0).padStart(5);
    console.log(`round ${r}: µs per document (a) ${f(a.wallMicros)}, fieldseal ${f(fs.wallMicros)}, (a) again ${f(again.wallMicros)}; fieldseal ${(a.wallMicros / fs.wallMicros).toFixed(2)}x of (a),${floor === undefined ? '' : ` floor ${f(floor.wallMicros)} µs (${(a.wallMicros / floor.wallMicros).toFixed(2)}x),`} control ${(a.wallMicros / again.wallMicros).toFixed(2)}x; page faults per document ${a.faults.toFixed(1)} / ${fs.faults.toFixed(1)} / ${again.faults.toFixed(1)}, blocking waits ${a.waits.toFixed(2)} / ${fs.waits.toFixed(2)} / ${again.waits.toFixed(2)}`);
  }
  const summary = Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, { median: +median(v).toFixed(2), min: +Math.min(...v).toFixed(2), max: +Math.max(...v).toFixed(2) }]));
  const perDocMedians = Object.fromEntries(Object.entries(perDoc).map(([k, v]) => [k, +median(v).toFixed(2)]));
  console.log(`W2 ${op}, one process per subject, ${rounds} rounds: fieldseal ${summary.fieldseal.median}x of (a) (median; ${summary.fieldseal.min}-${summary.fieldseal.max}), control ${summary.control.median}x (${summary.control.min}-${summary.control.max});${withFloor ? ` floor ${summary.floor.median}x (${summary.floor.min}-${summary.floor.max});` : ''} CPU ${summary.fieldsealCpu.median}x, control ${summary.controlCpu.median}x`);
  console.log(`per document (medians): page faults (a) ${perDocMedians.aFaults}, fieldseal ${perDocMedians.fieldsealFaults}; blocking waits (a) ${perDocMedians.aWaits}, fieldseal ${perDocMedians.fieldsealWaits}`);
  console.log(JSON.stringify({ workload: 'W2', op, rounds, ...summary, perDoc: perDocMedians }));
}
