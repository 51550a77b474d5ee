import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, LocalKeyring, type JsonObject, type LocalKeyFile } from '@fieldseal/core';
import type { Client } from 'pg';
import { runChild, type ChildRun } from './helpers/child.js';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

const CHILD = new URL('./fixtures/rotate-child.mjs', import.meta.url).pathname;
const RECORDS = 200;
const BATCH = 20;
const RUNS = 3;
const KILLS_PER_RUN = 2;

let dir: string;
let keys: { v1: LocalKeyring; v2: LocalKeyring };
let sealed: JsonObject[];
let db: TestDatabase;
let admin: Client;
const tables: string[] = [];

beforeAll(async () => {
  // dist/ is built once for the whole suite by test/setup/build.mjs (vitest globalSetup).
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-crash-'));
  keys = await keyrings();
  sealed = await sealMany(RECORDS, keys.v1);
  db = await openTestDatabase();
  admin = await db.connect();
}, 120_000);
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin?.end();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A keyring holding only the new version: proves every record was rewrapped, not just still openable with v1. */
function onlyNewest(k: LocalKeyring): LocalKeyring {
  const file = k.exportKeyFile();
  return LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((e) => e.version === file.primary) } as LocalKeyFile);
}

/** Kill the child at random points KILLS_PER_RUN times, then let it finish; return every run. */
async function killThenFinish(env: Record<string, string>): Promise<ChildRun[]> {
  const runs: ChildRun[] = [];
  for (let k = 0; k < KILLS_PER_RUN; k++) {
    const afterProgress = Math.floor(Math.random() * (RECORDS / BATCH / KILLS_PER_RUN + 1));
    runs.push(await runChild(CHILD, env, { afterProgress, extraDelayMs: Math.floor(Math.random() * 40) }));
  }
  let last: ChildRun;
  let guard = 0;
  do {
    last = await runChild(CHILD, env);
    runs.push(last);
  } while (last.report === undefined && ++guard < 3);
  return runs;
}

describe('crash safety: SIGKILL at random points, then resume', () => {
  for (let run = 1; run <= RUNS + 1; run++) {
    // The last run transforms in two worker threads, with reads and writes pipelined around them.
    const workers = run > RUNS ? 2 : 0;
    test(`PostgreSQL run ${run}${workers ? ' (2 worker threads)' : ''}: nothing lost, duplicated or left under the old key`, async () => {
      const { v2 } = keys;
      const table = uniqueTable('rot_crash');
      tables.push(table);
      await admin.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, doc jsonb NOT NULL)`);
      const docs = sealed;
      await admin.query(`INSERT INTO "${table}" (id, doc) SELECT * FROM unnest($1::bigint[], $2::jsonb[])`, [docs.map((d) => String(d.id)), docs.map((d) => JSON.stringify(d))]);
      const keyFile = join(dir, `pg-keys-${run}.json`);
      await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
      const checkpoint = join(dir, `${table}.checkpoint.json`);
      const env = { FIELDSEAL_ROTATE_CHILD: JSON.stringify({ kind: 'postgres', url: db.url, table, keyFile, checkpoint, batchSize: BATCH, workers }) };
      const runs = await killThenFinish(env);
      const final = runs.at(-1)!;
      expect(final.report, final.stderr).toMatchObject({ complete: true, failed: 0, conflicts: 0 });
      expect(runs.filter((r) => r.killed).length).toBeGreaterThan(0);

      const { rows } = await admin.query<{ rid: string; rdoc: string }>(`SELECT id::text AS rid, doc::text AS rdoc FROM "${table}" ORDER BY id`);
      expect(rows.map((r) => r.rid)).toEqual(Array.from({ length: RECORDS }, (_, i) => String(i + 1)));
      const newest = onlyNewest(v2);
      for (const r of rows) {
        const doc = JSON.parse(r.rdoc) as JsonObject;
        expect(inspect(doc).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: keys.v2.keyIds[0] }]);
        expect(await openRecord(doc, r.rid, newest)).toEqual(plainRecord(Number(r.rid)));
      }
      await expect(stat(checkpoint)).rejects.toMatchObject({ code: 'ENOENT' });
    }, 60_000);
  }
});
