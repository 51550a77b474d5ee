import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, type JsonObject } from '@fieldseal/core';
import { coreRotation, FileCheckpointStore, PostgresStore, runRotation, type Store } from '@fieldseal/rotation';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { keyrings, openRecord, plainRecord, sealMany, sealRecord } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';

let db: TestDatabase;
let admin: Client;
let dir: string;
const tables: string[] = [];

beforeAll(async () => {
  db = await openTestDatabase();
  admin = await db.connect();
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-rot-pg-'));
});
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

const rowContext = (record: { id: string }) => ({ rowId: record.id });

async function createTable(type: 'jsonb' | 'json' | 'text', docs: readonly JsonObject[], idType = 'bigint'): Promise<string> {
  const table = uniqueTable(`rot_${type}`);
  tables.push(table);
  await admin.query(`CREATE TABLE "${table}" (id ${idType} PRIMARY KEY, doc ${type})`);
  for (const d of docs) await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [String(d.id), JSON.stringify(d)]);
  return table;
}

async function rows(table: string): Promise<{ id: string; doc: JsonObject }[]> {
  const r = await admin.query<{ rid: string; rdoc: string }>(`SELECT id::text AS rid, doc::text AS rdoc FROM "${table}" ORDER BY id`);
  return r.rows.map((row) => ({ id: row.rid, doc: JSON.parse(row.rdoc) as JsonObject }));
}

describe('PostgreSQL store', () => {
  for (const type of ['jsonb', 'json', 'text'] as const) {
    test(`rewraps a ${type} column: every row opens with the new key and equals its plaintext`, async () => {
      const { v1, v2 } = await keyrings();
      const table = await createTable(type, await sealMany(45, v1));
      await admin.query(`INSERT INTO "${table}" (id, doc) VALUES (1000, NULL)`);
      const report = await runRotation({
        store: new PostgresStore({ connectionString: db.url, table, column: 'doc' }),
        ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })),
        checkpoint: new FileCheckpointStore(join(dir, `${table}.json`)),
        batchSize: 10,
      });
      expect(report).toMatchObject({ scanned: 45, rotated: 45, failed: 0, conflicts: 0, complete: true });
      const after = await rows(table);
      expect(after).toHaveLength(46);
      for (const { id, doc } of after.filter((r) => r.doc !== null)) {
        expect(inspect(doc).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
        expect(await openRecord(doc, id, v2)).toEqual(plainRecord(Number(id)));
      }
      expect(after.at(-1)!.doc).toBeNull();
    });
  }

  test('dry run changes no row and reports what would change', async () => {
    const { v1, v2 } = await keyrings();
    const table = await createTable('jsonb', [...(await sealMany(8, v1)), ...(await sealMany(2, v2, 9))]);
    const before = await rows(table);
    const report = await runRotation({ store: new PostgresStore({ connectionString: db.url, table, column: 'doc' }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })), dryRun: true, batchSize: 3 });
    expect(report).toMatchObject({ dryRun: true, scanned: 10, rotated: 8, skipped: 2 });
    expect(await rows(table)).toEqual(before);
  });

  test('a row changed by the application between read and write is left alone and reported as a conflict', async () => {
    const { v1, v2 } = await keyrings();
    const table = await createTable('jsonb', await sealMany(12, v1));
    const appVersion = await sealRecord(5, v1);
    (appVersion as { name: string }).name = 'changed by the app';
    const inner = new PostgresStore({ connectionString: db.url, table, column: 'doc' });
    // The application writes row 5 after the engine read it and before the engine writes.
    const racing: Store = {
      description: inner.description,
      open: (o) => inner.open(o),
      next: (n) => inner.next(n),
      async commit(items) {
        if (items.some((i) => i.record.id === '5')) await admin.query(`UPDATE "${table}" SET doc = $1 WHERE id = 5`, [JSON.stringify(appVersion)]);
        return inner.commit(items);
      },
      complete: () => inner.complete(),
      close: () => inner.close(),
    };
    const report = await runRotation({ store: racing, ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })), batchSize: 4 });
    expect(report).toMatchObject({ scanned: 12, rotated: 11, conflicts: 1, conflictRecords: ['5'] });
    const after = await rows(table);
    const row5 = after.find((r) => r.id === '5')!.doc;
    expect(row5).toEqual(JSON.parse(JSON.stringify(appVersion)));
    expect(inspect(row5).groups[0]!.wrappedKeys[0]!.keyId).toBe(v1.keyIds[0]);
    // A second pass picks the conflicting row up.
    const again = await runRotation({ store: new PostgresStore({ connectionString: db.url, table, column: 'doc' }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })) });
    expect(again).toMatchObject({ rotated: 1, skipped: 11 });
    expect((await openRecord((await rows(table)).find((r) => r.id === '5')!.doc, 5, v2)).name).toBe('changed by the app');
  });

  test('shards 0/3, 1/3 and 2/3 run in parallel cover every row exactly once', async () => {
    const { v1, v2 } = await keyrings();
    const table = await createTable('jsonb', await sealMany(90, v1), 'text');
    const seen: string[][] = [[], [], []];
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext });
    const run = (index: number) => {
      const inner = new PostgresStore({ connectionString: db.url, table, column: 'doc' });
      const store: Store = { ...{ description: inner.description }, open: (o) => inner.open(o), next: async (n) => { const r = await inner.next(n); seen[index]!.push(...r.map((x) => x.id)); return r; }, commit: (i) => inner.commit(i), complete: () => inner.complete(), close: () => inner.close() };
      return runRotation({ store, ...job, shard: { index, count: 3 }, batchSize: 7 });
    };
    // PGlite serves one connection at a time: there the shards run one after another.
    const reports = db.embedded ? [await run(0), await run(1), await run(2)] : await Promise.all([run(0), run(1), run(2)]);
    const all = seen.flat();
    expect(all.sort()).toEqual(Array.from({ length: 90 }, (_, i) => String(i + 1)).sort());
    expect(new Set(all).size).toBe(90);
    for (const s of seen) expect(s.length).toBeGreaterThan(10);
    expect(reports.reduce((n, r) => n + r.rotated, 0)).toBe(90);
    for (const { id, doc } of await rows(table)) expect(await openRecord(doc, id, v2)).toEqual(plainRecord(Number(id)));
  });

  test('a concurrent writer updating rows during the rotation: every one of its writes survives', async () => {
    const { v1, v2 } = await keyrings();
    const count = 300;
    const table = await createTable('jsonb', await sealMany(count, v1));
    const written = new Map<number, string>();
    let stop = false;
    const writer = (async () => {
      const client = db.embedded ? admin : await db.connect();
      try {
        let n = 0;
        while (!stop) {
          const id = 1 + ((n * 37) % count);
          const doc = await sealRecord(id, n % 2 === 0 ? v1 : v2);
          (doc as { name: string }).name = `app write ${n}`;
          await client.query(`UPDATE "${table}" SET doc = $1 WHERE id = $2`, [JSON.stringify(doc), id]);
          written.set(id, `app write ${n}`);
          n++;
          if (db.embedded) await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        if (client !== admin) await client.end();
      }
    })();
    let report;
    try {
      report = await runRotation({ store: new PostgresStore({ connectionString: db.url, table, column: 'doc' }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: rowContext })), batchSize: 20, concurrency: 4 });
    } finally {
      stop = true;
      await writer;
    }
    expect(report.scanned).toBe(count);
    expect(written.size).toBeGreaterThan(0);
    const after = new Map((await rows(table)).map((r) => [Number(r.id), r.doc]));
    for (const [id, name] of written) {
      const opened = await openRecord(after.get(id)!, id, v2);
      expect(opened.name).toBe(name);
      expect(opened.ssn).toBe(plainRecord(id).ssn);
    }
    for (const [id, doc] of after) if (!written.has(id)) expect(await openRecord(doc, id, v2)).toEqual(plainRecord(id));
  });

  test('layout problems are typed errors that write nothing', async () => {
    const table = uniqueTable('rot_bad');
    tables.push(table);
    await admin.query(`CREATE TABLE "${table}" (id int, doc jsonb, n int)`);
    const { v2 } = await keyrings();
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2 });
    const attempt = (column: string, idColumn?: string) => runRotation({ store: new PostgresStore({ connectionString: db.url, table, column, ...(idColumn ? { idColumn } : {}) }), ...job });
    await expect(attempt('doc')).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT', message: expect.stringContaining('unique') });
    await expect(attempt('n')).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT', message: expect.stringContaining('supported') });
    await expect(attempt('missing')).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    expect(() => new PostgresStore({ connectionString: db.url, table: 'x"; DROP TABLE y; --', column: 'doc' })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(new PostgresStore({ connectionString: 'postgres://u:hunter2@127.0.0.1/db', table: 't', column: 'c' }).description).not.toContain('hunter2');
  });
});
