#!/usr/bin/env node
// Reads the output folders of benchmarks/issue18-run.sh and prints, per run, the figures the issue 18
// table in docs/BENCHMARKS.md quotes (one column per run). Usage:
//   node benchmarks/issue18-summary.mjs benchmarks/results/issue18/run-1 benchmarks/results/issue18/run-2 ...
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dirs = process.argv.slice(2);
const read = (dir, name) => readFileSync(join(dir, `${name}.txt`), 'utf8');
/** The first JSON value in a command's output (after its `#` line). */
const json = (dir, name) => {
  const text = read(dir, name);
  return JSON.parse(text.slice(text.indexOf('{')));
};
const match = (text, re, what) => {
  const m = re.exec(text);
  if (m === null) throw new Error(`not found: ${what}`);
  return m;
};
/** rows.mjs: the CPU ratio of a subject line within a section. */
const rowsRatio = (text, section, subject) => {
  const part = text.slice(text.indexOf(section));
  return Number(match(part, new RegExp(`${subject.replace(/[()]/g, '\\$&')}\\s+[\\d.]+ µs CPU/op\\s+ratio ([\\d.]+)`), `${section} / ${subject}`)[1]);
};
/** run.mjs: the wall and CPU ratios to (a) of fieldseal's line for one workload and operation. */
const runRatios = (text, workload, op) => {
  const part = text.slice(text.indexOf(`\n${workload}:`));
  const m = match(part, new RegExp(`\\nfieldseal[^\\n]*?\\s${op}\\s[^\\n]*?([\\d.]+)x\\s+[\\d.]+\\s+([\\d.]+)x`), `${workload} ${op}`);
  return `${m[1]}x wall, ${m[2]}x CPU`;
};

const rows = [];
const add = (label, f) => rows.push([label, ...dirs.map((d) => {
  try {
    return String(f(d));
  } catch (err) {
    return `(${err.message})`;
  }
})]);

add('load (1 min) at start of run', (d) => match(read(d, 'rows'), /load ([\d.]+)/, 'load')[1]);
add('one-field decrypt vs (a), CPU', (d) => `${rowsRatio(read(d, 'rows'), 'one 16-byte field, decrypt', 'fieldseal decrypt')} (openRow ${rowsRatio(read(d, 'rows'), 'one 16-byte field, decrypt', 'openRow')})`);
add('one-field decrypt floor', (d) => rowsRatio(read(d, 'rows'), 'one 16-byte field, decrypt', 'floor one field'));
add('one-field encrypt vs (a), CPU', (d) => `${rowsRatio(read(d, 'rows'), 'one 16-byte field, encrypt', 'fieldseal encrypt')} (sealRow ${rowsRatio(read(d, 'rows'), 'one 16-byte field, encrypt', 'sealRow')})`);
add('one-field encrypt floor', (d) => rowsRatio(read(d, 'rows'), 'one 16-byte field, encrypt', 'floor one field'));
add('openRows / sealRows 1,000 rows vs (a)', (d) => `${rowsRatio(read(d, 'rows'), '1,000 rows x 2 columns, decrypt', 'openRows 1,000 rows')} / ${rowsRatio(read(d, 'rows'), '1,000 rows x 2 columns, encrypt', 'sealRows 1,000 rows')}`);
add('W1 decrypt vs (a) (rows.mjs, CPU)', (d) => rowsRatio(read(d, 'rows'), 'W1 decrypt', 'fieldseal W1 decrypt'));
add('W1 decrypt vs (a) (run.mjs)', (d) => runRatios(read(d, 'run'), 'W1', 'decrypt'));
add('W1 decrypt floor / with header decode', (d) => {
  const f = read(d, 'floor');
  const m = match(f, /W1 decrypt: best batch CPU per op: \(a\) ([\d.]+) µs, mandatory-crypto floor ([\d.]+) µs; floor ratio to \(a\) ([\d.]+)/, 'W1 decrypt floor');
  const h = /W1 header decode[^:]*: best batch CPU per op ([\d.]+) µs/.exec(f);
  return h === null ? m[3] : `${m[3]} / ${(Number(m[1]) / (Number(m[2]) + Number(h[1]))).toFixed(3)} (header ${h[1]} µs)`;
});
add('W1 encrypt vs (a) (run.mjs)', (d) => runRatios(read(d, 'run'), 'W1', 'encrypt'));
add('W2 encrypt vs (a) (run.mjs)', (d) => runRatios(read(d, 'run'), 'W2', 'encrypt'));
add('W2 decrypt vs (a) (run.mjs)', (d) => runRatios(read(d, 'run'), 'W2', 'decrypt'));
add('W2 encrypt: (a) against itself in run.mjs (the control)', (d) => match(read(d, 'run'), /W2 encrypt, \(a\) against itself \(the control\)\s+about 1x\s+([\d.]+)/, 'W2 control')[1] + 'x');
add('W2 encrypt, one process per subject (w2-processes.mjs): median (range); control', (d) => {
  const r = json(d, 'w2-processes');
  return `${r.fieldseal.median}x (${r.fieldseal.min}-${r.fieldseal.max}); control ${r.control.median}x`;
});
add('W2 encrypt floor, one process (w2-processes.mjs): median (range)', (d) => {
  const r = json(d, 'w2-processes');
  return r.floor === undefined ? 'not measured' : `${r.floor.median}x (${r.floor.min}-${r.floor.max})`;
});
add('W2 encrypt per document (medians): page faults, blocking waits, (a) / fieldseal', (d) => {
  const r = json(d, 'w2-processes');
  return r.perDoc === undefined ? 'not measured' : `${r.perDoc.aFaults} / ${r.perDoc.fieldsealFaults}; ${r.perDoc.aWaits} / ${r.perDoc.fieldsealWaits}`;
});
add('W3 decrypt vs (a) (run.mjs)', (d) => runRatios(read(d, 'run'), 'W3', 'decrypt'));
add('W3 decrypt floor', (d) => match(read(d, 'floor'), /W3 decrypt: .*floor ratio to \(a\) ([\d.]+)/, 'W3 floor')[1]);
add('rewrap floor, one thread (best batch)', (d) => match(read(d, 'floor'), /verified rewrap[^:]*: best batch CPU per record ([\d.]+) µs, so at most (\d+)/, 'rewrap floor').slice(1).join(' µs, ') + '/s');
add('two threads over one, floor work (median gain: rewrap, W1 enc, W1 dec)', (d) => Object.values(json(d, 'scaling').workloads).map((w) => w.gain).join(', '));
add('rewrap floor on two threads, records/s (median)', (d) => json(d, 'scaling').workloads.rewrap.twoThreadsPerSecond);
for (const [name, label] of [['rewrap-main', 'NDJSON rewrap+verify 100k, main thread'], ['rewrap-2', 'NDJSON rewrap+verify 100k, 2 workers']]) {
  add(`${label}: records/s, CPU µs/record, peak RSS`, (d) => {
    const r = json(d, name);
    return `${r.wallRecordsPerSecond}/s, ${r.cpuMicrosPerRecord} µs, ${r.peakRssMiB} MiB`;
  });
}
for (const [name, label] of [['pg-json', 'PostgreSQL JSON column, 2 workers'], ['pg-rows', 'PostgreSQL column layout, 2 workers'], ['pg-json-floor', 'PostgreSQL JSON column, rewrap floor in 2 workers'], ['pg-rows-floor', 'PostgreSQL column layout, rewrap floor in 2 workers'], ['pg-json-nocrypto', 'PostgreSQL JSON column, no crypto'], ['pg-rows-nocrypto', 'PostgreSQL column layout, no crypto']]) {
  add(`${label}: rows/s, CPU µs/row`, (d) => {
    const r = json(d, name);
    return `${r.rowsPerSecond}/s, ${r.cpuMicrosPerRow} µs`;
  });
}
for (const op of ['encrypt', 'decrypt']) {
  add(`CLI ${op} --workers 2 / 1: wall, steady; CPU µs/record 1 -> 2`, (d) => {
    const r = json(d, 'cli');
    return `${r[`${op} ratio (workers 2 / 1, wall)`]}x, ${r[`${op} ratio (workers 2 / 1, steady)`]}x; ${r.settings[`${op} --workers 1`].cpuMicrosPerRecord} -> ${r.settings[`${op} --workers 2`].cpuMicrosPerRecord}`;
  });
}

console.log(`| figure | ${dirs.map((d) => d.split('/').pop()).join(' | ')} |`);
console.log(`|---|${dirs.map(() => '--:').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
