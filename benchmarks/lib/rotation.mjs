// W5: rotation. Core `rewrap` per record (in memory), and the @fieldseal/rotation NDJSON job over a
// file of sealed records when that package is available.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalKeyring, encrypt as fsEncrypt, rewrap } from '@fieldseal/core';
import { CONTEXT, CUSTOMER_PATHS, customerRecord } from './data.mjs';

async function sealedRecords(n, keyring) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fsEncrypt(customerRecord(i), { keyring, paths: CUSTOMER_PATHS, context: CONTEXT }));
  return out;
}

export async function measureRotation(opts, log) {
  const n = opts.rotationRecords;
  const from = await LocalKeyring.generate({ name: 'bench-old' });
  const to = await LocalKeyring.generate({ name: 'bench-new' });
  const docs = await sealedRecords(n, from);

  // In-memory rewrap: what one rotation step costs, without I/O.
  let start = performance.now();
  for (const d of docs) await rewrap(d, { keyring: from, to, context: CONTEXT });
  const inMemory = { records: n, elapsedMs: performance.now() - start };
  inMemory.recordsPerSec = (n * 1000) / inMemory.elapsedMs;

  let ndjson;
  let rotationPkg;
  try {
    rotationPkg = await import('@fieldseal/rotation');
  } catch (err) {
    ndjson = { skipped: `@fieldseal/rotation is not available: ${err.message}` };
  }
  if (rotationPkg !== undefined) ndjson = await measureNdjson(rotationPkg, docs, from, to, log);
  return { inMemoryRewrap: inMemory, ndjson };
}

async function measureNdjson(rotation, docs, from, to, log) {
  const { NdjsonStore, runRotation, coreRotation } = rotation;
  if (typeof NdjsonStore !== 'function' || typeof runRotation !== 'function' || typeof coreRotation !== 'function') {
    return { skipped: '@fieldseal/rotation does not export NdjsonStore, runRotation and coreRotation' };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'fieldseal-bench-'));
  try {
    const file = path.join(dir, 'records.ndjson');
    await writeFile(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    log(`W5: NDJSON rewrap of ${docs.length} records`);
    const transform = await coreRotation({ mode: 'rewrap', keyring: from, to, context: CONTEXT });
    const store = new NdjsonStore({ path: file });
    const start = performance.now();
    const report = await runRotation({ store, ...transform });
    const elapsedMs = performance.now() - start;
    const summary = summarizeReport(report);
    // A job that did not rotate every record measured something else: say so instead of a rate.
    if (summary?.rotated !== docs.length) return { skipped: `the NDJSON job rotated ${summary?.rotated} of ${docs.length} records`, report: summary };
    return { records: docs.length, elapsedMs, recordsPerSec: (docs.length * 1000) / elapsedMs, report: summary };
  } catch (err) {
    return { skipped: `the NDJSON rotation job failed: ${err.message}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function summarizeReport(report) {
  if (report === null || typeof report !== 'object') return null;
  const { scanned, rotated, skipped, failed, conflicts, complete } = report;
  return { scanned, rotated, skipped, failed, conflicts, complete };
}
