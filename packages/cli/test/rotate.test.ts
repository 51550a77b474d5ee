import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { parseCommandLine, type CommandIo } from '@fieldseal/cli';
import { defaultCheckpointPath, rotate } from '../src/commands/rotate/index.js';
import { openTestDatabase, uniqueTable } from '../../../test/helpers/postgres.js';
import { formatDuration, progressLine } from '../src/commands/rotate/progress.js';

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

async function sealedFile(name: string, count: number, keyring = v1): Promise<string> {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) lines.push(JSON.stringify(await encrypt({ id: i, ssn: `078-05-${String(i).padStart(4, '0')}` }, { keyring, paths: ['$.ssn'], requiredContext: { rowId: String(i) } })));
  const path = join(dir, name);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

async function docsOf(path: string): Promise<JsonObject[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-cli-rotate-'));
  v1 = await LocalKeyring.generate({ name: 'main' });
  v2 = v1.withNewPrimary();
  keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fieldseal rotate', () => {
  test('argv maps to the command options', () => {
    const parsed = parseCommandLine(['rotate', '--keyring', 'local:k.json', '--store', 'postgres://db/x', '--table', 't', '--column', 'doc', '--shard', '1/3', '--batch', '200', '--dry-run', '--id-context', 'rowId']);
    expect('name' in parsed && parsed.name).toBe('rotate');
    expect('values' in parsed && parsed.values).toMatchObject({ keyring: 'local:k.json', store: 'postgres://db/x', table: 't', column: 'doc', shard: '1/3', batch: '200', 'dry-run': true, 'id-context': 'rowId' });
    expect(() => parseCommandLine(['rotate', '--nope'])).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  test('rotates an NDJSON file to the primary key with the row id bound from a field, prints a summary with per-key counts', async () => {
    const path = await sealedFile('a.ndjson', 30);
    const io = memoryIo();
    await rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, fieldContext: ['rowId=id'], batch: 7 }, io);
    expect(io.out()).toMatch(/rewrap of ndjson:.*: complete/);
    expect(io.out()).toContain(`local:${v1.keyIds[0]}: scanned 30, rotated 30`);
    const docs = await docsOf(path);
    expect(docs).toHaveLength(30);
    for (const d of docs) {
      expect(inspect(d).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
      expect((await decrypt(d, { keyring: v2, context: { rowId: String(d.id) } })).ssn).toMatch(/^078-05-/);
    }
    // Not a terminal: plain lines, no carriage-return redraws.
    expect(io.err()).not.toContain('\r');
  });

  test('--dry-run writes nothing and --json reports what would change', async () => {
    const path = await sealedFile('b.ndjson', 9);
    const before = await readFile(path);
    const io = memoryIo();
    await rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, fieldContext: ['rowId=id'], dryRun: true, json: true }, io);
    const report = JSON.parse(io.out()) as { dryRun: boolean; rotated: number; scanned: number };
    expect(report).toMatchObject({ dryRun: true, scanned: 9, rotated: 9 });
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  test('a job that completes with failed records (left unchanged) exits 5 (partial); one stopped by --max-failures exits 1; usage errors exit 2', async () => {
    const path = await sealedFile('c.ndjson', 4);
    const io = memoryIo();
    // Without the row id the documents do not open: every record fails, none is changed.
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${path}` }, io)).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining('4 record(s) could not be rotated') });
    // Through the binary as well: the exit code scripts see.
    const viaBin = spawnSync(process.execPath, [bin, 'rotate', '--keyring', `local:${keys}`, '--store', `ndjson:${path}`], { encoding: 'utf8' });
    expect(viaBin.status, viaBin.stderr).toBe(5);
    const stopped = await sealedFile('c-stop.ndjson', 4);
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${stopped}`, maxFailures: 1, batch: 1 }, memoryIo())).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('--max-failures 1') });
    expect(io.out()).toContain('failed ERR_FIELDSEAL_CONTEXT_MISMATCH: 4');
    expect((await docsOf(path)).every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === v1.keyIds[0])).toBe(true);
    await expect(rotate({ keyring: `local:${keys}`, store: 'mysql://x' }, memoryIo())).rejects.toMatchObject({ exitCode: 2 });
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, shard: '0/2' }, memoryIo())).rejects.toMatchObject({ exitCode: 2 });
    await expect(rotate({ keyring: `local:${keys}`, store: 'postgres://127.0.0.1/x' }, memoryIo())).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('--table') });
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, batch: 0 }, memoryIo())).rejects.toMatchObject({ exitCode: 2 });
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, shard: '3/3' }, memoryIo())).rejects.toMatchObject({ exitCode: 2 });
  });

  test('Ctrl-C stops after the current batch with exit code 130 and a checkpoint; --resume finishes with nothing lost', async () => {
    const path = await sealedFile('d.ndjson', 1500);
    const args = ['rotate', '--keyring', `local:${keys}`, '--store', `ndjson:${path}`, '--field-context', 'rowId=id', '--batch', '10', '--concurrency', '2'];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const checkpoint = `${path}.fieldseal-rotate.checkpoint.json`;
    // Interrupt once the first batch is durable.
    while (!existsSync(checkpoint) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping after the current batch');
    expect(stdout).toContain('--resume');
    expect(existsSync(checkpoint)).toBe(true);
    // The original is untouched until the end.
    expect((await docsOf(path)).every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === v1.keyIds[0])).toBe(true);

    const io = memoryIo();
    await rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, fieldContext: ['rowId=id'], resume: true, json: true }, io);
    const report = JSON.parse(io.out()) as { resumed: boolean; scanned: number; rotated: number; complete: boolean };
    expect(report).toMatchObject({ resumed: true, complete: true, scanned: 1500, rotated: 1500 });
    const docs = await docsOf(path);
    expect(docs.map((d) => d.id)).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
    expect(docs.every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === v2.keyIds[0])).toBe(true);
    expect(existsSync(checkpoint)).toBe(false);
  }, 60_000);

  test('the progress line shows the bar, percentage, rate and ETA', () => {
    const counts = { scanned: 500, rotated: 480, skipped: 15, skippedByReason: {}, conflicts: 1, failed: 4, failedByReason: {}, bySourceKey: {}, failedRecords: [], conflictRecords: [], retried: 0, retriedRecords: [] };
    const line = progressLine({ counts, scannedThisRun: 500, total: 1000, fraction: 0.5, recordsPerSecond: 1234.4, etaSeconds: 3725, elapsedMs: 400 }, true);
    expect(line).toBe('[############------------]  50.0% 500/1,000 records  1,234/s  ETA 1h02m  rotated 480  skipped 15  conflicts 1  failed 4');
    expect(progressLine({ counts, scannedThisRun: 500, total: undefined, fraction: undefined, recordsPerSecond: 10, etaSeconds: undefined, elapsedMs: 400 }, true)).toContain('ETA ?');
    expect([formatDuration(42), formatDuration(185)]).toEqual(['42s', '3m05s']);
  });

  test('PostgreSQL: three --shard workers rotate every row exactly once, each with its own checkpoint name', async () => {
    const db = await openTestDatabase();
    const admin = await db.connect();
    const table = uniqueTable('cli_rotate');
    try {
      await admin.query(`CREATE TABLE "${table}" (id text PRIMARY KEY, doc text)`);
      for (let i = 1; i <= 60; i++) {
        const sealed = await encrypt({ id: i, ssn: `078-05-${String(i).padStart(4, '0')}` }, { keyring: v1, paths: ['$.ssn'], requiredContext: { rowId: `r${i}` } });
        await admin.query(`INSERT INTO "${table}" (id, doc) VALUES ($1, $2)`, [`r${i}`, JSON.stringify(sealed)]);
      }
      const base = { keyring: `local:${keys}`, store: db.url, table, column: 'doc', idContext: 'rowId', batch: 8, json: true };
      const names = ['0/3', '1/3', '2/3'].map((shard) => defaultCheckpointPath({ ...base, shard }));
      expect(new Set(names).size).toBe(3);
      const run = async (shard: string) => {
        const io = memoryIo();
        await rotate({ ...base, shard, checkpoint: join(dir, `${table}-${shard.replace('/', '-')}.json`) }, io);
        return JSON.parse(io.out()) as { scanned: number; rotated: number; shard: string };
      };
      const reports = db.embedded ? [await run('0/3'), await run('1/3'), await run('2/3')] : await Promise.all(['0/3', '1/3', '2/3'].map(run));
      expect(reports.map((r) => r.shard)).toEqual(['0/3', '1/3', '2/3']);
      expect(reports.reduce((n, r) => n + r.scanned, 0)).toBe(60);
      expect(reports.reduce((n, r) => n + r.rotated, 0)).toBe(60);
      for (const r of reports) expect(r.scanned).toBeGreaterThan(5);
      const { rows } = await admin.query<{ rid: string; rdoc: string }>(`SELECT id AS rid, doc AS rdoc FROM "${table}"`);
      for (const r of rows) {
        const doc = JSON.parse(r.rdoc) as JsonObject;
        expect(inspect(doc).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
        expect((await decrypt(doc, { keyring: v2, context: { rowId: r.rid } })).ssn).toMatch(/^078-05-/);
      }
    } finally {
      await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      await admin.end();
      await db.stop();
    }
  }, 60_000);
});

describe('fieldseal rotate between two key files (issue 14.1)', () => {
  // The built CLI, as an operator runs it.
  function cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  }
  async function sealWith(keyFile: string, name: string): Promise<string> {
    const plain = [1, 2, 3].map((i) => JSON.stringify({ id: i, email: `u${i}@example.com` })).join('\n') + '\n';
    const sealed = await cli(['encrypt', '--keyring', `local:${keyFile}`, '--path', '$.email', '--ndjson'], plain);
    expect(sealed.code, sealed.stderr).toBe(0);
    const path = join(dir, name);
    await writeFile(path, sealed.stdout);
    return path;
  }
  /** What `fieldseal keygen` wrote before key ids: no `id` per version, so every file names its key main/v1. */
  async function stripIds(keyFile: string): Promise<void> {
    const file = JSON.parse(await readFile(keyFile, 'utf8')) as { keys: { id?: string }[] };
    for (const k of file.keys) delete k.id;
    await writeFile(keyFile, JSON.stringify(file), { mode: 0o600 });
  }

  test('keygen twice, rotate a -> b: every document is rewritten, and after deleting a.json b.json opens them all', async () => {
    const a = join(dir, 'ids-a.json');
    const b = join(dir, 'ids-b.json');
    expect((await cli(['keygen', '--out', a])).code).toBe(0);
    expect((await cli(['keygen', '--out', b])).code).toBe(0);
    const path = await sealWith(a, 'ids.ndjson');
    const r = await cli(['rotate', '--keyring', `local:${a}`, '--to', `local:${b}`, '--store', `ndjson:${path}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 document(s) rewritten, 0 already current');
    await rm(a);
    const opened = await cli(['decrypt', '--keyring', `local:${b}`, '--ndjson', '--in', path]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain('u3@example.com');
    // Run again: now everything is already current under b.
    const again = await cli(['rotate', '--keyring', `local:${b}`, '--store', `ndjson:${path}`]);
    expect(again.stdout).toContain('0 document(s) rewritten, 3 already current');
  });

  test('key files without key ids that share main/v1 but not their key: rotate refuses with exit 2 and changes nothing; keygen --add on the target fixes it', async () => {
    const a = join(dir, 'legacy-a.json');
    const b = join(dir, 'legacy-b.json');
    await cli(['keygen', '--out', a]);
    await cli(['keygen', '--out', b]);
    await stripIds(a);
    await stripIds(b);
    const path = await sealWith(a, 'legacy.ndjson');
    expect((await docsOf(path)).every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === 'main/v1')).toBe(true);
    const before = await readFile(path);
    const refused = await cli(['rotate', '--keyring', `local:${a}`, '--to', `local:${b}`, '--store', `ndjson:${path}`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('main/v1');
    expect(refused.stderr).toContain('keygen --add');
    expect((await readFile(path)).equals(before)).toBe(true);

    const added = await cli(['keygen', '--add', b]);
    expect(added.code, added.stderr).toBe(0);
    const r = await cli(['rotate', '--keyring', `local:${a}`, '--to', `local:${b}`, '--store', `ndjson:${path}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 document(s) rewritten, 0 already current');
    await rm(a);
    const opened = await cli(['decrypt', '--keyring', `local:${b}`, '--ndjson', '--in', path]);
    expect(opened.code, opened.stderr).toBe(0);
  });

  test('the same key file without ids on both sides is really current; moving it onto ids is one rotate after keygen --add', async () => {
    const a = join(dir, 'legacy-same.json');
    await cli(['keygen', '--out', a]);
    await stripIds(a);
    const path = await sealWith(a, 'legacy-same.ndjson');
    const r = await cli(['rotate', '--keyring', `local:${a}`, '--store', `ndjson:${path}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 document(s) rewritten, 3 already current');
    await cli(['keygen', '--add', a]);
    const moved = await cli(['rotate', '--keyring', `local:${a}`, '--store', `ndjson:${path}`]);
    expect(moved.stdout).toContain('3 document(s) rewritten, 0 already current');
    for (const d of await docsOf(path)) expect(LocalKeyring.isUniqueKeyId(inspect(d).groups[0]!.wrappedKeys[0]!.keyId)).toBe(true);
  });
});

describe('fieldseal rotate --resume (issue 14.10)', () => {
  test('records that failed before the checkpoint are retried on resume and reported by id', async () => {
    const path = await sealedFile('retry.ndjson', 30);
    // Forgot the row id: the first batch fails and the run stops (--max-failures 0).
    const first = memoryIo();
    await expect(rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, batch: 10, maxFailures: 0 }, first)).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('retries the records that failed') });
    expect(first.out()).toContain('failed ERR_FIELDSEAL_CONTEXT_MISMATCH: 10');
    const io = memoryIo();
    await rotate({ keyring: `local:${keys}`, store: `ndjson:${path}`, fieldContext: ['rowId=id'], batch: 10, resume: true }, io);
    expect(io.out()).toContain('30 document(s) rewritten, 0 already current');
    expect(io.out()).toContain('retried 10 record(s) that failed in an earlier run: 1 (rotated), 2 (rotated), 3 (rotated)');
    expect(io.out()).not.toContain('first failed ids');
    for (const d of await docsOf(path)) expect(inspect(d).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
  });
});
