import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Client } from 'pg';
import { inspect, LocalKeyring, type JsonObject, type LocalKeyFile } from '@fieldseal/core';
import { coreRotation, FileCheckpointStore, NdjsonStore, PostgresStore, runRotation, type Store } from '@fieldseal/rotation';
import { runChild, type ChildRun } from './helpers/child.js';
import { keyrings, openRecord, plainRecord, sealMany, sealRecord } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

// Issue 14.10 with crashes: a resumed run retries earlier failures in a second pass; SIGKILL it at
// random points of either pass, resume, and nothing may be lost, duplicated or left unretried.
const CHILD = new URL('./fixtures/rotate-child.mjs', import.meta.url).pathname;
const RECORDS = 120;
const BATCH = 20;
const FAILING = [3, 7, 11];

let dir: string;
let keys: { v1: LocalKeyring; v2: LocalKeyring };
let stranger: LocalKeyring;
let sealed: JsonObject[];
let db: TestDatabase;
let admin: Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-crash-retry-'));
  keys = await keyrings();
  stranger = await LocalKeyring.generate({ name: 'stranger' });
  sealed = await sealMany(RECORDS, keys.v1);
  for (const i of FAILING) sealed[i - 1] = await sealRecord(i, stranger);
  db = await openTestDatabase();
  admin = await db.connect();
}, 120_000);
afterAll(async () => {
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

function onlyNewest(k: LocalKeyring): LocalKeyring {
  const file = k.exportKeyFile();
  return LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((e) => e.version === file.primary) } as LocalKeyFile);
}

/** First run in process without the stranger key: stops after the first batch with 3 failures. */
async function failingFirstRun(store: Store, checkpoint: string, context: (r: { id: string }, d: JsonObject) => Record<string, string>): Promise<void> {
  const report = await runRotation({ store, ...(await coreRotation({ mode: 'rewrap', keyring: keys.v2, to: keys.v2, context })), checkpoint: new FileCheckpointStore(checkpoint), batchSize: BATCH, maxFailures: 0 });
  expect(report).toMatchObject({ complete: false, stopReason: 'max-failures', failed: FAILING.length });
}

/**
 * Kill resumed runs (which now hold the stranger key) at random points of both passes, then let one
 * finish. Stops as soon as the job's checkpoint is gone: a kill that lands after the job cleared
 * it leaves nothing to resume, and a new run would be a new job over current data.
 */
async function killThenFinish(env: Record<string, string>, checkpoint: string): Promise<ChildRun | undefined> {
  const batches = RECORDS / BATCH;
  for (let k = 0; k < 3 && existsSync(checkpoint); k++) {
    const run = await runChild(CHILD, env, { afterProgress: Math.floor(Math.random() * (batches + 3)), extraDelayMs: Math.floor(Math.random() * 30) });
    if (run.report !== undefined) return run;
  }
  for (let guard = 0; guard < 3 && existsSync(checkpoint); guard++) {
    const run = await runChild(CHILD, env);
    if (run.report !== undefined) return run;
  }
  return undefined;
}

async function check(docs: { id: string; doc: JsonObject }[], final: ChildRun | undefined): Promise<void> {
  // Undefined when a killed run finished the job after all (its report was never printed).
  if (final !== undefined) {
    const report = final.report!;
    expect(report, final.stderr).toMatchObject({ complete: true, resumed: true, failed: 0, failedRecords: [], retried: FAILING.length });
    expect((report.retriedRecords as { id: string }[]).map((r) => r.id)).toEqual(FAILING.map(String));
  }
  expect(docs.map((d) => Number(d.id))).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
  const newest = onlyNewest(keys.v2);
  for (const { id, doc } of docs) {
    expect(inspect(doc).groups[0]!.wrappedKeys, `record ${id}`).toEqual([{ provider: 'local', keyId: keys.v2.keyIds[0] }]);
    expect(await openRecord(doc, id, newest)).toEqual(plainRecord(Number(id)));
  }
}

describe('crash safety of the retry pass: SIGKILL at random points of a resumed run, then resume', () => {
  for (const run of [1, 2]) {
    test(`NDJSON run ${run}`, async () => {
      const path = join(dir, `data-${run}.ndjson`);
      const keyFile = join(dir, `keys-${run}.json`);
      const sourceKeyFile = join(dir, `stranger-${run}.json`);
      const checkpoint = `${path}.checkpoint.json`;
      await writeFile(keyFile, JSON.stringify(keys.v2.exportKeyFile()), { mode: 0o600 });
      await writeFile(sourceKeyFile, JSON.stringify(stranger.exportKeyFile()), { mode: 0o600 });
      await writeFile(path, sealed.map((d) => JSON.stringify(d)).join('\n') + '\n');
      await failingFirstRun(new NdjsonStore({ path }), checkpoint, (_r, d) => ({ rowId: String(d.id) }));
      const final = await killThenFinish({ FIELDSEAL_ROTATE_CHILD: JSON.stringify({ kind: 'ndjson', path, keyFile, sourceKeyFile, checkpoint, batchSize: BATCH }) }, checkpoint);
      const docs = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonObject).map((doc) => ({ id: String(doc.id), doc }));
      await check(docs, final);
      await expect(stat(`${path}.fieldseal-rotate.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(checkpoint)).rejects.toMatchObject({ code: 'ENOENT' });
    }, 90_000);

    test(`PostgreSQL run ${run}`, async () => {
      const table = uniqueTable('crash_retry');
      const keyFile = join(dir, `pg-keys-${run}.json`);
      const sourceKeyFile = join(dir, `pg-stranger-${run}.json`);
      const checkpoint = join(dir, `${table}.checkpoint.json`);
      await writeFile(keyFile, JSON.stringify(keys.v2.exportKeyFile()), { mode: 0o600 });
      await writeFile(sourceKeyFile, JSON.stringify(stranger.exportKeyFile()), { mode: 0o600 });
      await admin.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, doc jsonb)`);
      try {
        for (const d of sealed) await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [String(d.id), JSON.stringify(d)]);
        await failingFirstRun(new PostgresStore({ connectionString: db.url, table, column: 'doc' }), checkpoint, (r) => ({ rowId: r.id }));
        const final = await killThenFinish({ FIELDSEAL_ROTATE_CHILD: JSON.stringify({ kind: 'postgres', url: db.url, table, keyFile, sourceKeyFile, checkpoint, batchSize: BATCH }) }, checkpoint);
        const { rows } = await admin.query<{ rid: string; rdoc: string }>(`SELECT id::text AS rid, doc::text AS rdoc FROM "${table}" ORDER BY id`);
        await check(rows.map((r) => ({ id: r.rid, doc: JSON.parse(r.rdoc) as JsonObject })), final);
        await expect(stat(checkpoint)).rejects.toMatchObject({ code: 'ENOENT' });
      } finally {
        await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      }
    }, 90_000);
  }
});
