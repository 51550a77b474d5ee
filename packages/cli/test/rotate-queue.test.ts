import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, type JsonObject } from '@fieldseal/core';
import type { CommandIo } from '@fieldseal/cli';
import { rotate } from '../src/commands/rotate/index.js';
import { openTestDatabase, uniqueTable } from '../../../test/helpers/postgres.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let dir: string;
let v1: LocalKeyring;
let v2: LocalKeyring;
let keys: string;

function memoryIo(): CommandIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { stdin: new PassThrough(), stdout, stderr, out: () => o, err: () => e };
}

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-cli-queue-'));
  v1 = await LocalKeyring.generate({ name: 'main' });
  v2 = v1.withNewPrimary();
  keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fieldseal rotate --workers and --queue', () => {
  test('--workers 2 rotates an NDJSON file in worker threads; every record opens with the new key', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 40; i++) lines.push(JSON.stringify(await encrypt({ id: i, ssn: `078-05-${String(i).padStart(4, '0')}` }, { keyring: v1, paths: ['$.ssn'], requiredContext: { rowId: String(i) } })));
    const path = join(dir, 'w.ndjson');
    await writeFile(path, lines.join('\n') + '\n');
    const io = memoryIo();
    await rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, fieldContext: ['rowId=id'], batch: 6, workers: 2, json: true }, io);
    expect(JSON.parse(io.out())).toMatchObject({ scanned: 40, rotated: 40, failed: 0, complete: true });
    const docs = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject);
    for (const d of docs) expect((await decrypt(d, { keyring: v2, context: { rowId: String(d.id) } })).ssn).toMatch(/^078-05-/);
  }, 60_000);

  test('a coordinator and two worker processes (one with worker threads) rotate every row of a table once; usage errors exit 2', async () => {
    const db = await openTestDatabase();
    const admin = await db.connect();
    const table = uniqueTable('cli_queue');
    const name = `q-${table}`;
    try {
      await admin.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, doc jsonb)`);
      for (let i = 1; i <= 60; i++) {
        const sealed = await encrypt({ id: i, ssn: `078-05-${String(i).padStart(4, '0')}` }, { keyring: v1, paths: ['$.ssn'], requiredContext: { rowId: String(i) } });
        await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [i, JSON.stringify(sealed)]);
      }
      const base = ['rotate', '--keyring', `local:${keys}`, '--store', db.url, '--table', table, '--column', 'doc', '--id-context', 'rowId', '--queue', db.url, '--queue-name', name];
      const bad = await cli([...base, '--role', 'worker', '--mode', 'reencrypt']);
      expect(bad.code, bad.err).toBe(2);
      expect(bad.err).toContain('rewrap');
      expect((await cli([...base, '--role', 'boss'])).code).toBe(2);
      const coord = await cli([...base, '--role', 'coordinator', '--range-size', '10']);
      expect(coord.code, coord.err).toBe(0);
      expect(coord.out).toContain('enqueued 7 ranges');
      const [w1, w2] = await Promise.all([cli([...base, '--role', 'worker', '--batch', '4', '--json']), cli([...base, '--role', 'worker', '--batch', '4', '--workers', '2', '--json'])]);
      expect(w1.code, w1.err).toBe(0);
      expect(w2.code, w2.err).toBe(0);
      const r1 = JSON.parse(w1.out) as { rotated: number; ranges: number };
      const r2 = JSON.parse(w2.out) as { rotated: number; ranges: number };
      expect(r1.rotated + r2.rotated).toBe(60);
      expect(r1.ranges + r2.ranges).toBe(7);
      const { rows } = await admin.query<{ id: number; doc: JsonObject }>(`SELECT id, doc FROM "${table}"`);
      for (const r of rows) {
        expect(inspect(r.doc).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
        expect((await decrypt(r.doc, { keyring: v2, context: { rowId: String(r.id) } })).ssn).toMatch(/^078-05-/);
      }
    } finally {
      await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      await admin.query(`DELETE FROM pgboss.job WHERE name = $1`, [name]).catch(() => undefined);
      await admin.query(`DELETE FROM pgboss.queue WHERE name = $1`, [name]).catch(() => undefined);
      await admin.end();
      await db.stop();
    }
  }, 90_000);
});
