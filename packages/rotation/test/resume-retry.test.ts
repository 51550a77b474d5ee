import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Client } from 'pg';
import { inspect, LocalKeyring, MultiKeyring, type JsonObject } from '@fieldseal/core';
import { coreRotation, FileCheckpointStore, NdjsonStore, PostgresStore, runRotation, type Store } from '@fieldseal/rotation';
import { keyrings, openRecord, sealMany, sealRecord } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

// Issue 14.10: records that failed in an earlier run must be retried when the job is resumed, and
// reported by id. The scenario: some records are under a key the first run was not given; the run
// stops (max failures); the operator adds the key and resumes.

let dir: string;
let db: TestDatabase;
let admin: Client;
const tables: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-rot-retry-'));
  db = await openTestDatabase();
  admin = await db.connect();
});
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

const rowContext = (record: { id: string }) => ({ tenant: 't1', rowId: record.id });
const FAILING = new Set([4, 5, 6, 17]);

/** Records 1..30 under v1, except FAILING ones under a stranger key. */
async function documents(v1: LocalKeyring, stranger: LocalKeyring): Promise<JsonObject[]> {
  const docs = await sealMany(30, v1);
  for (const i of FAILING) docs[i - 1] = await sealRecord(i, stranger);
  return docs;
}

async function scenario(makeStore: () => Store, read: () => Promise<{ id: string; doc: JsonObject }[]>, checkpointPath: string, v2: LocalKeyring, stranger: LocalKeyring) {
  const checkpoint = new FileCheckpointStore(checkpointPath);
  const first = await runRotation({ store: makeStore(), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })), checkpoint, batchSize: 10, maxFailures: 0 });
  expect(first).toMatchObject({ complete: false, stopReason: 'max-failures', failed: 3 });
  expect(first.failedRecords.map((f) => f.id)).toEqual(['4', '5', '6']);

  // The key is found: resume with it. Records 4-6 failed before the checkpoint and must be retried.
  const fixed = new MultiKeyring([v2, stranger]);
  const second = await runRotation({ store: makeStore(), ...(await coreRotation({ mode: 'rewrap', keyring: fixed, to: v2, context: rowContext })), checkpoint, resume: true, batchSize: 10 });
  expect(second).toMatchObject({ complete: true, resumed: true, scanned: 30, rotated: 30, failed: 0, failedByReason: {}, failedRecords: [], retried: 3 });
  expect(second.retriedRecords).toEqual([
    { id: '4', outcome: 'rotated' },
    { id: '5', outcome: 'rotated' },
    { id: '6', outcome: 'rotated' },
  ]);
  const after = await read();
  expect(after).toHaveLength(30);
  for (const { id, doc } of after) {
    expect(inspect(doc).groups[0]!.wrappedKeys[0]!.keyId, `record ${id}`).toBe(v2.keyIds[0]);
    expect((await openRecord(doc, id, v2)).id).toBe(Number(id));
  }
}

async function failingAgain(makeStore: () => Store, checkpointPath: string, v2: LocalKeyring) {
  const checkpoint = new FileCheckpointStore(checkpointPath);
  const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext });
  await runRotation({ store: makeStore(), ...job, checkpoint, batchSize: 10, maxFailures: 0 });
  // Resumed without the missing key: the earlier failures are retried, fail again, and are reported by id.
  const second = await runRotation({ store: makeStore(), ...job, checkpoint, resume: true, batchSize: 10 });
  expect(second).toMatchObject({ complete: true, scanned: 30, rotated: 26, failed: 4, retried: 3, failedByReason: { ERR_FIELDSEAL_KEY_UNAVAILABLE: 4 } });
  expect(second.failedRecords.map((f) => f.id).sort()).toEqual(['17', '4', '5', '6']);
  expect(second.retriedRecords).toEqual(['4', '5', '6'].map((id) => ({ id, outcome: 'failed', reason: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' })));
}

async function interruptedRetry(makeStore: () => Store, checkpointPath: string, v2: LocalKeyring, stranger: LocalKeyring, context: (record: { id: string }, doc: JsonObject) => Record<string, string>) {
  const checkpoint = new FileCheckpointStore(checkpointPath);
  await runRotation({ store: makeStore(), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context })), checkpoint, batchSize: 10, maxFailures: 0 });
  const fixed = await coreRotation({ mode: 'rewrap', keyring: new MultiKeyring([v2, stranger]), to: v2, context });
  // Stop in the middle of the retry pass, after the first retried record.
  const abort = new AbortController();
  const second = await runRotation({ store: makeStore(), ...fixed, checkpoint, resume: true, batchSize: 2, signal: abort.signal, onProgress: (p) => p.counts.retried > 0 && abort.abort() });
  expect(second).toMatchObject({ complete: false, stopReason: 'aborted', retried: 1, failed: 2 });
  const third = await runRotation({ store: makeStore(), ...fixed, checkpoint, resume: true, batchSize: 2 });
  expect(third).toMatchObject({ complete: true, scanned: 30, rotated: 30, failed: 0, retried: 3 });
  expect(third.retriedRecords.map((r) => r.id)).toEqual(['4', '5', '6']);
  expect(await checkpoint.load()).toBeUndefined();
}

describe('rotate --resume retries the records that failed in earlier runs (issue 14.10)', () => {
  test('NDJSON: a retry pass stopped half-way is resumed and finishes', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const path = join(dir, 'retry-interrupted.ndjson');
    await writeFile(path, (await documents(v1, stranger)).map((d) => JSON.stringify(d)).join('\n') + '\n');
    await interruptedRetry(() => new NdjsonStore({ path }), `${path}.checkpoint.json`, v2, stranger, rowContext);
    const docs = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject);
    expect(docs.map((d) => d.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const d of docs) expect((await openRecord(d, String(d.id), v2)).id).toBe(d.id);
  });

  test('NDJSON: a crash right after the retry pass wrote its first batch, before its checkpoint, is resumed', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const path = join(dir, 'retry-crash-window.ndjson');
    await writeFile(path, (await documents(v1, stranger)).map((d) => JSON.stringify(d)).join('\n') + '\n');
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })), checkpoint, batchSize: 10, maxFailures: 0 });
    const fixed = await coreRotation({ mode: 'rewrap', keyring: new MultiKeyring([v2, stranger]), to: v2, context: rowContext });
    // A store that dies (like a SIGKILL) after the retry pass's first batch is written and synced.
    const inner = new NdjsonStore({ path });
    let opens = 0;
    const dying: Store = {
      description: inner.description,
      open: (o) => (opens++, inner.open(o)),
      next: (n) => inner.next(n),
      commit: async (items) => {
        const result = await inner.commit(items);
        if (opens === 2) throw new Error('simulated crash');
        return result;
      },
      complete: () => inner.complete(),
      close: () => inner.close(),
    };
    await expect(runRotation({ store: dying, ...fixed, checkpoint, resume: true, batchSize: 10 })).rejects.toThrow('simulated crash');
    const report = await runRotation({ store: new NdjsonStore({ path }), ...fixed, checkpoint, resume: true, batchSize: 10 });
    expect(report).toMatchObject({ complete: true, scanned: 30, rotated: 30, failed: 0, retried: 3 });
    const docs = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject);
    expect(docs.map((d) => d.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const d of docs) expect((await openRecord(d, String(d.id), v2)).id).toBe(d.id);
  });

  test('PostgreSQL: a retry pass stopped half-way is resumed and finishes', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const table = await createTable(await documents(v1, stranger));
    await interruptedRetry(() => new PostgresStore({ connectionString: db.url, table, column: 'doc' }), join(dir, `${table}.checkpoint.json`), v2, stranger, rowContext);
    for (const { id, doc } of await rows(table)) expect((await openRecord(doc, id, v2)).id).toBe(Number(id));
  });

  test('NDJSON: failures before the checkpoint are retried on resume and rotated once the key is there', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const path = join(dir, 'retry.ndjson');
    // A blank line keeps line numbers (the record ids) honest across passes.
    const docs = await documents(v1, stranger);
    await writeFile(path, docs.slice(0, 12).map((d) => JSON.stringify(d)).join('\n') + '\n\n' + docs.slice(12).map((d) => JSON.stringify(d)).join('\n') + '\n');
    const read = async () =>
      (await readFile(path, 'utf8'))
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const doc = JSON.parse(line) as JsonObject;
          return { id: String(doc.id), doc };
        });
    await scenarioNdjson(path, read, v2, stranger);
  });

  test('NDJSON: a record that fails again on resume is reported by id', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const path = join(dir, 'retry-again.ndjson');
    await writeFile(path, (await documents(v1, stranger)).map((d) => JSON.stringify(d)).join('\n') + '\n');
    await failingAgain(() => new NdjsonStore({ path }), `${path}.checkpoint.json`, v2);
  });

  test('PostgreSQL: failures before the checkpoint are retried on resume and rotated once the key is there', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const table = await createTable(await documents(v1, stranger));
    await scenario(() => new PostgresStore({ connectionString: db.url, table, column: 'doc' }), () => rows(table), join(dir, `${table}.checkpoint.json`), v2, stranger);
  });

  test('PostgreSQL: a record that fails again on resume is reported by id', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = await LocalKeyring.generate({ name: 'stranger' });
    const table = await createTable(await documents(v1, stranger));
    await failingAgain(() => new PostgresStore({ connectionString: db.url, table, column: 'doc' }), join(dir, `${table}.checkpoint.json`), v2);
  });
});

async function scenarioNdjson(path: string, read: () => Promise<{ id: string; doc: JsonObject }[]>, v2: LocalKeyring, stranger: LocalKeyring) {
  // NDJSON record ids are line numbers; bind the row id from the document's own id field.
  const context = (_record: { id: string }, doc: JsonObject) => ({ tenant: 't1', rowId: String(doc.id) });
  const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
  const first = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context })), checkpoint, batchSize: 10, maxFailures: 0 });
  expect(first).toMatchObject({ complete: false, stopReason: 'max-failures', failed: 3 });
  expect(first.failedRecords.map((f) => f.id)).toEqual(['4', '5', '6']);
  const fixed = new MultiKeyring([v2, stranger]);
  const second = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: fixed, to: v2, context })), checkpoint, resume: true, batchSize: 10 });
  expect(second).toMatchObject({ complete: true, resumed: true, scanned: 30, rotated: 30, failed: 0, failedRecords: [], retried: 3 });
  expect(second.retriedRecords).toEqual(['4', '5', '6'].map((id) => ({ id, outcome: 'rotated' })));
  const after = await read();
  expect(after).toHaveLength(30);
  for (const { id, doc } of after) {
    expect(inspect(doc).groups[0]!.wrappedKeys[0]!.keyId, `record ${id}`).toBe(v2.keyIds[0]);
    expect((await openRecord(doc, id, v2)).id).toBe(Number(id));
  }
}

async function createTable(docs: readonly JsonObject[]): Promise<string> {
  const table = uniqueTable('rot_retry');
  tables.push(table);
  await admin.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, doc jsonb)`);
  for (const d of docs) await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [String(d.id), JSON.stringify(d)]);
  return table;
}

async function rows(table: string): Promise<{ id: string; doc: JsonObject }[]> {
  const r = await admin.query<{ rid: string; rdoc: string }>(`SELECT id::text AS rid, doc::text AS rdoc FROM "${table}" ORDER BY id`);
  return r.rows.map((row) => ({ id: row.rid, doc: JSON.parse(row.rdoc) as JsonObject }));
}
