#!/usr/bin/env node
// Rewrap (with verification) of ROWS rows in PostgreSQL, for the JSON-column store (PostgresStore +
// coreRotation) and the column layout (PostgresRowStore + rowRotation), each with WORKERS worker
// threads (0 = main thread only). Prints rows/s, CPU time per row of this process
// (process.cpuUsage covers every thread; PostgreSQL's own CPU is not included) and peak RSS.
//   DATABASE_URL=postgres://... node packages/rotation/scripts/postgres-bench.mjs ROWS WORKERS [json|rows]
// Needs `npx tsc -b packages/rotation` first. Creates and drops its own tables.
// With --no-crypto the job's transform only reverses the header string (same length, no key used):
// what the store, the engine and PostgreSQL cost per row on this machine, the floor of the store
// whatever the cryptography costs.
// With --floor the rows are sealed by the rewrap floor of benchmarks/lib/floor.mjs and the job's
// transform, in WORKERS worker threads, is that floor (the cryptography a verified rewrap requires,
// straight node:crypto, nothing else): the measured ceiling of each store on this machine.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineRowLayout, encrypt, LocalKeyring } from '@fieldseal/core';
import { PostgresRowStore, PostgresStore, rowRotation, runRotation } from '@fieldseal/rotation';
import { makeRewrapFloor } from '../../../benchmarks/lib/floor.mjs';

const rows = Number(process.argv[2] ?? 20_000);
const workers = Number(process.argv[3] ?? 0);
const kind = process.argv[4] ?? 'json';
const noCrypto = process.argv.includes('--no-crypto');
const floorOnly = process.argv.includes('--floor');
if (noCrypto && floorOnly) throw new Error('--no-crypto and --floor exclude each other');
const floorKeys = { kekFrom: randomBytes(32), kekTo: randomBytes(32) };
const floor = makeRewrapFloor(floorKeys);
/** The --floor job: the rewrap floor in `workers` threads, over the header and sealed members named. */
const floorJob = (header, fields) => ({
  mode: 'rewrap',
  workers: { count: Math.max(1, workers), module: new URL('../../../benchmarks/lib/floor-rotation-setup.mjs', import.meta.url).href, data: { kekFrom: floorKeys.kekFrom.toString('hex'), kekTo: floorKeys.kekTo.toString('hex'), header, fields } },
});
/** The --no-crypto job: every row rewritten, with its header reversed (same length); no key is used. */
const reverseHeader = (name) => ({
  mode: 'rewrap',
  transform: async (document) => ({ document: { ...document, [name]: [...document[name]].reverse().join('') }, changed: true }),
  keysOf: () => [],
});
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const Client = createRequire(import.meta.url)('pg/lib/client.js');
const admin = new Client({ connectionString: url });
await admin.connect();
const table = `bench_${kind}_${randomBytes(4).toString('hex')}`;
const dir = await mkdtemp(join(tmpdir(), 'fieldseal-pgb-'));
const setup = new URL('../test/fixtures/rotation-setup.mjs', import.meta.url).href;
try {
  const v1 = await LocalKeyring.generate({ name: 'main' });
  const v2 = v1.withNewPrimary();
  const keyFile = join(dir, 'keys.json');
  await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
  const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' });
  let store;
  let job;
  if (kind === 'json') {
    await admin.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, doc jsonb)`);
    const distinct = [];
    for (let i = 1; i <= 1000; i++) distinct.push(floorOnly ? floor.sealRecord(i) : JSON.stringify(await encrypt({ id: i, name: `customer ${i}`, email: `c${i}@example.com`, ssn: `078-05-${String(i).padStart(4, '0')}`, cards: ['4111111111111111'] }, { keyring: v1, paths: ['$.ssn', '$.email', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { rowId: String(i) } })));
    for (let start = 0; start < rows; start += 10_000) {
      const ids = Array.from({ length: Math.min(10_000, rows - start) }, (_, k) => start + k + 1);
      await admin.query(`INSERT INTO ${table} (id, doc) SELECT * FROM unnest($1::bigint[], $2::jsonb[])`, [ids, ids.map((id) => distinct[(id - 1) % 1000])]);
    }
    store = new PostgresStore({ connectionString: url, table, column: 'doc' });
    job = workers > 0 ? { mode: 'rewrap', workers: { count: workers, module: setup, data: { keyFile, context: 'rowId-from-id' } } } : (await import('@fieldseal/rotation')).coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: (_r, doc) => ({ rowId: String(doc.id) }) });
    job = noCrypto ? reverseHeader('_fieldseal') : floorOnly ? floorJob('_fieldseal', ['email', 'ssn', 'cards[0]']) : await job;
  } else {
    await admin.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, email text, ssn text, fieldseal text)`);
    for (let start = 0; start < rows; start += 10_000) {
      const ids = Array.from({ length: Math.min(10_000, rows - start) }, (_, k) => start + k + 1);
      await admin.query(`INSERT INTO ${table} (id, email, ssn) SELECT i, 'c' || i || '@example.com', '078-05-' || lpad((i % 10000)::text, 4, '0') FROM unnest($1::bigint[]) AS i`, [ids]);
    }
    if (floorOnly) {
      // The floor's sealed values and header, one distinct record per 1,000 rows, in place of fieldseal's.
      const sealed = Array.from({ length: 1000 }, (_, k) => JSON.parse(floor.sealRecord(k + 1)));
      await admin.query(`UPDATE ${table} t SET email = s.email, ssn = s.ssn, fieldseal = s.header FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS s(email, ssn, header, k) WHERE (t.id - 1) % 1000 = s.k - 1`, [sealed.map((d) => d.email), sealed.map((d) => d.ssn), sealed.map((d) => d._fieldseal)]);
    }
    // Seal under v1 first (not timed), then time the rewrap to v2.
    else await runRotation({ store: new PostgresRowStore({ connectionString: url, table, layout }), ...(await rowRotation({ mode: 'seal', layout, keyring: v1 })), mode: 'seal' });
    store = new PostgresRowStore({ connectionString: url, table, layout });
    job = workers > 0 ? { mode: 'rewrap', workers: { count: workers, module: setup, data: { keyFile, rows: { columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' } } } } : await rowRotation({ mode: 'rewrap', layout, keyring: v2, to: v2 });
    if (noCrypto) job = reverseHeader('fieldseal');
    if (floorOnly) job = floorJob('fieldseal', ['email', 'ssn']);
  }
  const load0 = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await runRotation({ store, ...job });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ kind, rows, workers: noCrypto ? 'none (--no-crypto)' : floorOnly ? `${Math.max(1, workers)} (--floor)` : workers, rotated: report.rotated, failed: report.failed, rowsPerSecond: Math.round((rows * 1000) / ms), cpuMicrosPerRow: +((cpu.user + cpu.system) / rows).toFixed(1), peakRssMiB: +((process.resourceUsage().maxRSS * 1024) / 2 ** 20).toFixed(1), loadavg1: +load0.toFixed(1) }));
} finally {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
