#!/usr/bin/env node
// What a document would cost if fieldseal did nothing but its mandatory cryptography (see
// lib/floor.mjs), for W1 (eight fields), W3 (eight fields, a fresh data key each) and for a
// one-field row (one 16-byte value, the ORM case); then the floor of one verified rewrap of a stored
// record (the rotation job's unit, in one thread; benchmarks/scaling.mjs runs it on two).
// Compares each floor with (a) in CPU time (best of 30 alternating batches).
//   node benchmarks/floor.mjs
import { blobRecord, CUSTOMER_PATHS, customerPii, customerRecord } from './lib/data.mjs';
import { makeFloor, makeRewrapFloor } from './lib/floor.mjs';
import { baseline, baselineEnvelope, fieldseal } from './lib/subjects.mjs';
import { decodeHeader } from '../packages/core/dist/lib/format/header.js';
import { backend } from '../packages/core/dist/lib/backend/node.js';
import { resolveLimits } from '../packages/core/dist/lib/limits.js';

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

// Every reader must also decode and check the header the floor leaves out (FORMAT.md §4): what
// core's decoder costs for W1's header, the first piece of non-cryptographic work on top of the floor.
const w1 = await fieldseal({ shape: 'customer', record, paths: CUSTOMER_PATHS, cached: true });
const limits = resolveLimits(undefined);
const headerTimes = [];
for (let b = 0; b < 31; b++) headerTimes.push(await cpuPerOp(() => decodeHeader(backend, w1.sample._fieldseal, limits), 300));
console.log(`W1 header decode (${w1.sample._fieldseal.length} characters, core's decodeHeader): best batch CPU per op ${Math.min(...headerTimes.slice(1)).toFixed(1)} µs`);

const rewrapFloor = makeRewrapFloor();
const lines = Array.from({ length: 1000 }, (_, i) => rewrapFloor.sealRecord(i + 1));
let next = 0;
const times = [];
for (let b = 0; b < 31; b++) times.push(await cpuPerOp(() => rewrapFloor.rewrapLine(lines[next++ % lines.length]), 300));
const best = Math.min(...times.slice(1));
console.log(`verified rewrap of a stored record (3 values): best batch CPU per record ${best.toFixed(1)} µs, so at most ${Math.round(1e6 / best)} records/s per thread`);
