import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, type JsonObject } from '@fieldseal/core';
import type { Client } from 'pg';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

const CHILD = new URL('./fixtures/queue-child.mjs', import.meta.url).pathname;
const ROWS = 300;

let dir: string;
let db: TestDatabase;
let admin: Client;
let table: string;
const schema = `fsq_${randomBytes(5).toString('hex')}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-queue-'));
  db = await openTestDatabase();
  admin = await db.connect();
}, 60_000);
afterAll(async () => {
  if (table) await admin.query(`DROP TABLE IF EXISTS "${table}"`);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Proc {
  readonly child: ChildProcess;
  out: string;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: object): Proc {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, FIELDSEAL_QUEUE_CHILD: JSON.stringify(env) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', done: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (p.out += c));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  void p.done.then(() => (p.out += err ? `\nstderr ${err}` : ''));
  return p;
}

const progressOf = (p: Proc) => p.out.split('\n').filter((l) => l.startsWith('progress ')).length;

describe('rotation across processes through a pg-boss queue', () => {
  test('3 workers, 2 of them SIGKILLed mid-range: every row is rotated exactly once (an update counter proves it)', async () => {
    const { v1, v2 } = await keyrings();
    const keyFile = join(dir, 'keys.json');
    await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
    table = uniqueTable('rot_queue');
    await admin.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, doc jsonb, updates int NOT NULL DEFAULT 0)`);
    // Counts every UPDATE of a row, whoever makes it: a row rotated twice would show 2.
    await admin.query(`CREATE FUNCTION "${table}_count"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updates := OLD.updates + 1; RETURN NEW; END $$`);
    await admin.query(`CREATE TRIGGER "${table}_count" BEFORE UPDATE ON "${table}" FOR EACH ROW EXECUTE FUNCTION "${table}_count"()`);
    const docs = await sealMany(ROWS, v1);
    await admin.query(`INSERT INTO "${table}" (id, doc) SELECT * FROM unnest($1::int[], $2::jsonb[])`, [docs.map((d) => d.id), docs.map((d) => JSON.stringify(d))]);

    const base = { url: db.url, queue: `rotate-${table}`, schema, table, keyFile };
    const coordinator = start({ ...base, role: 'coordinator', rangeSize: 25, expireInSeconds: 2 });
    expect((await coordinator.done).code, coordinator.out).toBe(0);
    expect(coordinator.out).toContain('done {"ranges":13}');

    const workers = [start({ ...base, role: 'worker' }), start({ ...base, role: 'worker' }), start({ ...base, role: 'worker' })];
    // Kill two workers each in the middle of a range (after its first batch), the third finishes alone.
    const killed: Proc[] = [];
    const deadline = Date.now() + 40_000;
    while (killed.length < 2 && Date.now() < deadline) {
      for (const w of workers.slice(0, 2)) {
        if (!killed.includes(w) && progressOf(w) >= 1 + killed.length * 3 && w.child.exitCode === null) {
          w.child.kill('SIGKILL');
          killed.push(w);
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const results = await Promise.all(workers.map((w) => w.done));
    expect(killed.length).toBe(2);
    expect(results.filter((r) => r.signal === 'SIGKILL')).toHaveLength(2);
    const survivor = workers[2]!;
    expect(results[2]!.code, survivor.out).toBe(0);

    const { rows } = await admin.query<{ id: number; doc: JsonObject; updates: number }>(`SELECT id, doc, updates FROM "${table}" ORDER BY id`);
    expect(rows).toHaveLength(ROWS);
    expect(rows.filter((r) => r.updates !== 1).map((r) => [r.id, r.updates])).toEqual([]);
    for (const r of rows) {
      expect(inspect(r.doc).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: v2.keyIds[0] }]);
      expect(await openRecord(r.doc, r.id, v2)).toEqual(plainRecord(r.id));
    }
    // Every range ended completed (the killed workers' ranges by a retry), none failed for good.
    const states = await admin.query<{ state: string; n: string }>(`SELECT state::text, count(*)::text AS n FROM "${schema}".job WHERE name = $1 GROUP BY state`, [base.queue]);
    expect(Object.fromEntries(states.rows.map((s) => [s.state, Number(s.n)]))).toEqual({ completed: 13 });
  }, 90_000);
});
