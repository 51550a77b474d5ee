#!/usr/bin/env node
// Rewraps an NDJSON file of RECORDS sealed records (rewrap + verify every record) in this process
// with WORKERS worker threads (0 = the main thread only) and prints wall-clock, CPU time per record
// (process.cpuUsage covers every thread) and peak RSS. Run it once per setting, on the same machine
// load, to compare. Usage (after `npx tsc -b packages/rotation`):
//   node packages/rotation/scripts/rewrap-bench.mjs RECORDS WORKERS [--keep DIR]
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { LocalKeyring, encrypt } from '@fieldseal/core';
import { coreRotation, NdjsonStore, runRotation } from '@fieldseal/rotation';

const records = Number(process.argv[2] ?? 100_000);
const workers = Number(process.argv[3] ?? 0);
const dir = await mkdtemp(join(tmpdir(), 'fieldseal-rwb-'));
try {
  const v1 = await LocalKeyring.generate({ name: 'main' });
  const v2 = v1.withNewPrimary();
  const keyFile = join(dir, 'keys.json');
  await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
  const distinct = [];
  for (let i = 1; i <= 1000; i++) {
    const doc = { id: i, name: `customer ${i}`, email: `c${i}@example.com`, ssn: `078-05-${String(i).padStart(4, '0')}`, cards: ['4111111111111111'] };
    distinct.push(JSON.stringify(await encrypt(doc, { keyring: v1, paths: ['$.ssn', '$.email', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { rowId: String(i) } })) + '\n');
  }
  const path = join(dir, 'data.ndjson');
  const out = createWriteStream(path);
  for (let i = 0; i < records; i++) if (!out.write(distinct[i % distinct.length])) await once(out, 'drain');
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));

  const load0 = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const job = workers > 0
    ? { mode: 'rewrap', workers: { count: workers, module: new URL('../test/fixtures/rotation-setup.mjs', import.meta.url).href, data: { keyFile, context: 'rowId-from-id' } } }
    : await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: (_r, doc) => ({ rowId: String(doc.id) }) });
  const report = await runRotation({ store: new NdjsonStore({ path }), ...job });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    records, workers, rotated: report.rotated, failed: report.failed,
    wallRecordsPerSecond: Math.round((records * 1000) / ms),
    cpuMicrosPerRecord: +((cpu.user + cpu.system) / records).toFixed(1),
    peakRssMiB: +((process.resourceUsage().maxRSS * 1024) / 2 ** 20).toFixed(1),
    loadavg1: +load0.toFixed(1), node: process.version,
  }));
  if (report.rotated !== records) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
