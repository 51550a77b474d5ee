#!/usr/bin/env node
// What a document would cost if fieldseal did nothing but its mandatory cryptography (see
// lib/floor.mjs), for W1 (eight fields), W3 (eight fields, a fresh data key each) and for a
// one-field row (one 16-byte value, the ORM case); then the floor of one verified rewrap of a stored
// record (the rotation job's unit, in one thread; benchmarks/scaling.mjs runs it on two).
// Compares each floor with (a) in CPU time (best of 30 alternating batches).
//   node benchmarks/floor.mjs
import { blobRecord, customerPii, customerRecord } from './lib/data.mjs';
import { makeFloor, makeRewrapFloor } from './lib/floor.mjs';
import { baseline, baselineEnvelope } from './lib/subjects.mjs';

async function cpuPerOp(fn, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const record = customerRecord();
const tiny = blobRecord(16);
for (const [name, a, floor] of [
  ['W1', baseline({ shape: 'customer', record }), makeFloor(customerPii(record))],
  // W3: a fresh data key per record, wrapped by a local KEK; (a) does the same envelope work.
  ['W3', baselineEnvelope({ shape: 'customer', record }), makeFloor(customerPii(record), { freshDataKey: true })],
  ['one field (16 B)', baseline({ shape: 'blob', record: tiny }), makeFloor([tiny.data])],
]) {
  for (const op of ['encrypt', 'decrypt']) {
    const aTimes = [];
    const fTimes = [];
    for (let b = 0; b < 31; b++) {
      aTimes.push(await cpuPerOp(a[op], 300));
      fTimes.push(await cpuPerOp(floor[op], 300));
    }
    const bestA = Math.min(...aTimes.slice(1));
    const bestF = Math.min(...fTimes.slice(1));
    console.log(`${name} ${op}: best batch CPU per op: (a) ${bestA.toFixed(1)} µs, mandatory-crypto floor ${bestF.toFixed(1)} µs; floor ratio to (a) ${(bestA / bestF).toFixed(3)}`);
  }
}

const rewrapFloor = makeRewrapFloor();
const lines = Array.from({ length: 1000 }, (_, i) => rewrapFloor.sealRecord(i + 1));
let next = 0;
const times = [];
for (let b = 0; b < 31; b++) times.push(await cpuPerOp(() => rewrapFloor.rewrapLine(lines[next++ % lines.length]), 300));
const best = Math.min(...times.slice(1));
console.log(`verified rewrap of a stored record (3 values): best batch CPU per record ${best.toFixed(1)} µs, so at most ${Math.round(1e6 / best)} records/s per thread`);
