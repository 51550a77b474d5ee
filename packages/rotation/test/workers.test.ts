import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, type JsonObject } from '@fieldseal/core';
import { FileCheckpointStore, NdjsonStore, PostgresStore, runRotation } from '@fieldseal/rotation';
import type { Client } from 'pg';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

const SETUP = new URL('./fixtures/rotation-setup.mjs', import.meta.url).href;

let dir: string;
let db: TestDatabase;
let admin: Client;
const tables: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-workers-'));
  db = await openTestDatabase();
  admin = await db.connect();
}, 60_000);
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, count: number) {
  const { v1, v2 } = await keyrings();
  const keyFile = join(dir, `${name}.keys.json`);
  await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
  return { v1, v2, keyFile, docs: await sealMany(count, v1) };
}

describe('read-ahead: a store read one batch ahead commits the position of the batch it writes', () => {
  test('NDJSON: the position after commit(batch 1) is the end of batch 1, not of batch 2 read ahead', async () => {
    const { docs } = await fixture('ra', 6);
    const path = join(dir, 'ra.ndjson');
    await writeFile(path, docs.map((d) => JSON.stringify(d)).join('\n\n') + '\n');
    const store = new NdjsonStore({ path });
    await store.open({ dryRun: false });
    const first = await store.next(2);
    const second = await store.next(2);
    expect(second.map((r) => r.id)).toEqual(['5', '7']);
    const c1 = await store.commit(first.map((record) => ({ record, replacement: undefined })));
    // A batch ends after the blank lines that follow its last record (so trailing ones are kept).
    expect(JSON.parse(c1.position)).toMatchObject({ line: 4 });
    const c2 = await store.commit(second.map((record) => ({ record, replacement: '{"x":1}' })));
    expect(JSON.parse(c2.position)).toMatchObject({ line: 8 });
    await store.close();
    // The temporary file holds batch 1 unchanged (blank lines included), then batch 2 replaced.
    const tmp = await readFile(store.tempPath, 'utf8');
    expect(tmp.split('\n').slice(0, 8)).toEqual([JSON.stringify(docs[0]), '', JSON.stringify(docs[1]), '', '{"x":1}', '', '{"x":1}', '']);
  });

  test('PostgreSQL JSON column: the position after commit(batch 1) is batch 1\'s last id', async () => {
    const table = uniqueTable('rot_ra');
    tables.push(table);
    await admin.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, doc jsonb)`);
    for (let i = 1; i <= 6; i++) await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [i, JSON.stringify({ n: i })]);
    const store = new PostgresStore({ connectionString: db.url, table, column: 'doc' });
    await store.open({ dryRun: false });
    const first = await store.next(2);
    await store.next(2);
    const c1 = await store.commit(first.map((record) => ({ record, replacement: JSON.stringify({ n: 0 }) })));
    expect(JSON.parse(c1.position)).toEqual({ after: '2' });
    expect(c1.outcomes).toEqual(['written', 'written']);
    await store.close();
  });
});

describe('worker threads', () => {
  test('NDJSON rewrap in 2 workers: every record rewrapped and opening to its plaintext; a tampered record fails by code and is kept', async () => {
    const { v2, keyFile, docs } = await fixture('w', 45);
    const path = join(dir, 'w.ndjson');
    const lines = docs.map((d) => JSON.stringify(d));
    lines[9] = lines[9]!.replace(/"ssn":"(.)/, (_m, c: string) => `"ssn":"${c === 'A' ? 'B' : 'A'}`);
    await writeFile(path, lines.join('\n') + '\n');
    const report = await runRotation({
      store: new NdjsonStore({ path }),
      mode: 'rewrap',
      workers: { count: 2, module: SETUP, data: { keyFile, context: 'rowId-from-id' } },
      checkpoint: new FileCheckpointStore(`${path}.checkpoint.json`),
      batchSize: 7,
    });
    expect(report).toMatchObject({ scanned: 45, rotated: 44, failed: 1, complete: true });
    expect(report.failedRecords).toEqual([{ id: '10', reason: expect.stringMatching(/^ERR_FIELDSEAL_/) }]);
    const after = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
    expect(after).toHaveLength(45);
    expect(after[9]).toBe(lines[9]);
    for (let i = 0; i < 45; i++) {
      if (i === 9) continue;
      const doc = JSON.parse(after[i]!) as JsonObject;
      expect(inspect(doc).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: v2.keyIds[0] }]);
      expect(await openRecord(doc, i + 1, v2)).toEqual(plainRecord(i + 1));
    }
  }, 60_000);

  test('PostgreSQL JSON column in 2 workers, then a rerun finds every row current', async () => {
    const { v2, keyFile, docs } = await fixture('pg', 30);
    const table = uniqueTable('rot_w');
    tables.push(table);
    await admin.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, doc jsonb)`);
    for (const d of docs) await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [d.id, JSON.stringify(d)]);
    const run = () =>
      runRotation({ store: new PostgresStore({ connectionString: db.url, table, column: 'doc' }), mode: 'rewrap', workers: { count: 2, module: SETUP, data: { keyFile, context: 'rowId-from-record' } }, batchSize: 8 });
    expect(await run()).toMatchObject({ scanned: 30, rotated: 30, failed: 0, conflicts: 0, complete: true });
    const { rows } = await admin.query<{ id: string; doc: JsonObject }>(`SELECT id::text, doc FROM "${table}" ORDER BY id`);
    for (const r of rows) {
      expect(inspect(r.doc).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: v2.keyIds[0] }]);
      expect(await openRecord(r.doc, r.id, v2)).toEqual(plainRecord(Number(r.id)));
    }
    expect(await run()).toMatchObject({ scanned: 30, rotated: 0, skipped: 30, skippedByReason: { 'already-current': 30 } });
  }, 60_000);

  test('a worker that cannot build its job stops the run with a typed error naming no key bytes, and leaves the file alone', async () => {
    const badKeys = join(dir, 'broken-keyfile.json');
    const secretish = 'c2VjcmV0LWtleS1ieXRlcy1zaG91bGQtbm90LWxlYWs';
    await writeFile(badKeys, `{"format":"nope","keys":"${secretish}"`);
    const path = join(dir, 'bad.ndjson');
    const { docs } = await fixture('bad', 3);
    const text = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
    await writeFile(path, text);
    const err = await runRotation({ store: new NdjsonStore({ path }), mode: 'rewrap', workers: { count: 2, module: SETUP, data: { keyFile: badKeys } } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    expect(String((err as Error).message)).not.toContain(secretish);
    expect(await readFile(path, 'utf8')).toBe(text);
  }, 60_000);

  test('an abort mid-run with workers leaves a checkpoint at a committed batch; a resume without workers finishes with nothing lost or doubled', async () => {
    const { v2, keyFile, docs } = await fixture('ab', 40);
    const path = join(dir, 'ab.ndjson');
    await writeFile(path, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    const ac = new AbortController();
    const first = await runRotation({
      store: new NdjsonStore({ path }),
      mode: 'rewrap',
      workers: { count: 2, module: SETUP, data: { keyFile, context: 'rowId-from-id' } },
      checkpoint,
      batchSize: 5,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.counts.scanned >= 10) ac.abort();
      },
    });
    expect(first).toMatchObject({ complete: false, stopReason: 'aborted' });
    expect(first.scanned).toBeLessThan(40);
    const { coreRotation } = await import('@fieldseal/rotation');
    const second = await runRotation({
      store: new NdjsonStore({ path }),
      ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: (_r, d) => ({ rowId: String(d.id) }) })),
      checkpoint,
      resume: true,
      batchSize: 5,
    });
    expect(second).toMatchObject({ scanned: 40, rotated: 40, complete: true });
    const after = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonObject);
    expect(after.map((d) => d.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const d of after) expect(await openRecord(d, d.id as number, v2)).toEqual(plainRecord(d.id as number));
  }, 60_000);
});
