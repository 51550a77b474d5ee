#!/usr/bin/env node
// The per-document cost in one run (issue 18 items 1 and 2): the hand-written node:crypto baseline
// (a) over one 16-byte field, fieldseal encrypt/decrypt of the same one-field document, sealRow and
// openRow of a one-column row, sealRows/openRows of 1,000 two-column rows against (a) over the same
// 2,000 values, W1 decrypt, and the mandatory-crypto floor of each (lib/floor.mjs).
//   npm run bench:rows            (or: node benchmarks/rows.mjs [batches])
// Every figure is CPU time per operation (process.cpuUsage, user + system) of the best of
// alternating batches: on a shared, loaded machine the fastest batch is the least disturbed, and
// CPU time does not count the time other processes hold the core. Ratios are (a) / subject, so
// higher is better and 1.0 is as fast as (a). A wall-clock ratio of the same batches is printed too.
import { CachingKeyring, LocalKeyring, decrypt, defineRowLayout, encrypt, openRow, openRows, sealRow, sealRows } from '@fieldseal/core';
import { CONTEXT, CUSTOMER_PATHS, blobRecord, customerPii, customerRecord } from './lib/data.mjs';
import { makeFloor } from './lib/floor.mjs';
import { baseline } from './lib/subjects.mjs';

const batches = Number(process.argv[2] ?? 21);

async function cost(fn, n) {
  const wall = process.hrtime.bigint();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return { cpu: (used.user + used.system) / n, wall: Number(process.hrtime.bigint() - wall) / 1000 / n };
}

/** Alternates batches of (a) and each subject; returns the best CPU and wall time per op of each. */
async function compare(subjects, perBatch) {
  const best = subjects.map(() => ({ cpu: Infinity, wall: Infinity }));
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < subjects.length; i++) {
      const t = await cost(subjects[i][1], perBatch);
      if (b === 0) continue; // warmup
      best[i].cpu = Math.min(best[i].cpu, t.cpu);
      best[i].wall = Math.min(best[i].wall, t.wall);
    }
  }
  return best;
}

function print(title, subjects, best) {
  console.log(`\n${title}`);
  const [a] = best;
  for (let i = 0; i < subjects.length; i++) {
    const r = best[i];
    console.log(`  ${subjects[i][0].padEnd(34)} ${r.cpu.toFixed(1).padStart(9)} µs CPU/op  ratio ${(a.cpu / r.cpu).toFixed(3)}  (wall ${r.wall.toFixed(1)} µs, ratio ${(a.wall / r.wall).toFixed(3)})`);
  }
}

const keyring = new CachingKeyring({ keyring: await LocalKeyring.generate({ name: 'bench' }) });

// One field: the same 16-byte value as a document and as a one-column row.
const tiny = blobRecord(16);
const a1 = baseline({ shape: 'blob', record: tiny });
const f1 = makeFloor([tiny.data]);
const tinyPaths = ['$.data'];
const sealedTiny = await encrypt(tiny, { keyring, paths: tinyPaths, context: CONTEXT });
const oneColumn = defineRowLayout({ columns: [{ name: 'data', codec: 'string' }], header: 'fieldseal', id: 'id', context: { table: 'customers' } });
const tinyRow = { id: tiny.id, data: tiny.data, fieldseal: null };
const sealedTinyRow = await sealRow(tinyRow, oneColumn, { keyring });

for (const op of ['encrypt', 'decrypt']) {
  const subjects = [
    ['(a) one field', a1[op]],
    ['floor one field', f1[op]],
    [`fieldseal ${op}`, op === 'encrypt' ? () => encrypt(tiny, { keyring, paths: tinyPaths, context: CONTEXT }) : () => decrypt(sealedTiny, { keyring, context: CONTEXT })],
    [op === 'encrypt' ? 'sealRow' : 'openRow', op === 'encrypt' ? () => sealRow(tinyRow, oneColumn, { keyring }) : () => openRow(sealedTinyRow, oneColumn, { keyring })],
  ];
  print(`one 16-byte field, ${op}`, subjects, await compare(subjects, 500));
}

// 1,000 rows, two sealed columns each, against (a) over the same 2,000 values.
const users = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', context: { table: 'users' } });
const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, email: `user${i}@example.com`, ssn: `${100 + (i % 900)}-42-${1000 + i}`, plan: 'pro', fieldseal: null }));
const sealedRows = await sealRows(rows, users, { keyring });
const aRows = rows.map((r) => baseline({ shape: 'blob', record: { id: r.id, data: r.email } }));
const aRows2 = rows.map((r) => baseline({ shape: 'blob', record: { id: r.id, data: r.ssn } }));
const aAll = (op) => async () => {
  for (let i = 0; i < aRows.length; i++) {
    await aRows[i][op]();
    await aRows2[i][op]();
  }
};
for (const op of ['encrypt', 'decrypt']) {
  const subjects = [
    ['(a) 2,000 fields', aAll(op)],
    [op === 'encrypt' ? 'sealRows 1,000 rows' : 'openRows 1,000 rows', op === 'encrypt' ? () => sealRows(rows, users, { keyring }) : () => openRows(sealedRows, users, { keyring })],
  ];
  print(`1,000 rows x 2 columns, ${op} (per call of 1,000 rows)`, subjects, await compare(subjects, 2));
}

// W1 decrypt (eight fields) beside its floor.
const customer = customerRecord();
const aW1 = baseline({ shape: 'customer', record: customer });
const fW1 = makeFloor(customerPii(customer));
const sealedW1 = await encrypt(customer, { keyring, paths: CUSTOMER_PATHS, context: CONTEXT });
const w1 = [
  ['(a) W1', aW1.decrypt],
  ['floor W1', fW1.decrypt],
  ['fieldseal W1 decrypt', () => decrypt(sealedW1, { keyring, context: CONTEXT })],
];
print('W1 decrypt', w1, await compare(w1, 300));
