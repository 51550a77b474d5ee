import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encryptStringSync, generateKey } from '@47ng/cloak';
import { decrypt, inspect, LocalKeyring, openRow, sealRow, type JsonObject, type LocalKeyFile } from '@fieldseal/core';
import type { Client } from 'pg';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';
import { plaintextLeft, plainUser, readUsers, states, USERS_DDL, USERS_FLAGS, usersLayout } from '../../rotation/test/helpers/rows.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const layout = usersLayout();
let db: TestDatabase;
let admin: Client;
let dir: string;
let v1: LocalKeyring;
let v2: LocalKeyring;
let keys: string;
const tables: string[] = [];

interface Run {
  readonly code: number | null;
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the CLI; with `killAfterCheckpoints`, SIGKILL it right after it has moved its checkpoint that
 * many times (if it is still running), so the crash lands mid-job on a fast machine as on a slow one.
 */
function cli(args: readonly string[], options: { env?: Record<string, string>; killAfterCheckpoints?: { path: string; count: number } } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const watch = options.killAfterCheckpoints;
    const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
    let last = watch ? read(watch.path) : '';
    let moves = 0;
    const timer = watch === undefined ? undefined : setInterval(() => {
      const now = read(watch.path);
      if (now === last) return;
      last = now;
      if (++moves >= watch.count && child.exitCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 1);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, killed: killed && signal === 'SIGKILL', stdout, stderr });
    });
  });
}

beforeAll(async () => {
  db = await openTestDatabase();
  admin = await db.connect();
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-cli-rows-'));
  v1 = await LocalKeyring.generate({ name: 'main' });
  v2 = v1.withNewPrimary();
  keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
});
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin?.end();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function newTable(prefix: string): Promise<string> {
  const table = uniqueTable(prefix);
  tables.push(table);
  await admin.query(USERS_DDL(table));
  return table;
}

type Stored = (value: string, column: 'email' | 'ssn', id: number) => string;

async function insertUsers(table: string, ids: readonly number[], stored: Stored, version = 0): Promise<void> {
  const us = ids.map((i) => plainUser(i, version));
  await admin.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`, [
    us.map((u) => u.id),
    us.map((u) => u.tenant_id),
    us.map((u) => stored(u.email, 'email', Number(u.id))),
    us.map((u) => (u.ssn === null ? null : stored(u.ssn, 'ssn', Number(u.id)))),
    us.map((u) => u.plan),
  ]);
}

function onlyNewest(k: LocalKeyring): LocalKeyring {
  const file = k.exportKeyFile();
  return LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((e) => e.version === file.primary) } as LocalKeyFile);
}

/**
 * An application that keeps writing the old way while the migration runs: it inserts new rows
 * and updates the email of existing ones (a sealed row then becomes `mixed`), each value stored by
 * `stored` (plaintext, or cloak ciphertext). `expected` tracks every row's latest plaintext.
 */
function appWriter(table: string, firstNewId: number, stored: Stored, expected: Map<number, { email: string; ssn: string | null }>) {
  let stop = false;
  let writes = 0;
  const done = (async () => {
    const client = await db.connect();
    let next = firstNewId;
    let version = 1;
    try {
      while (!stop) {
        if (Math.random() < 0.4) {
          const u = plainUser(next, 0);
          await client.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan) VALUES ($1, $2, $3, $4, $5)`, [next, u.tenant_id, stored(u.email, 'email', next), u.ssn === null ? null : stored(u.ssn, 'ssn', next), u.plan]);
          expected.set(next, { email: u.email, ssn: u.ssn });
          next++;
        } else {
          const ids = [...expected.keys()];
          const id = ids[Math.floor(Math.random() * ids.length)]!;
          const email = `user${id}.v${version++}@example.com`;
          await client.query(`UPDATE "${table}" SET email = $2 WHERE id = $1`, [id, stored(email, 'email', id)]);
          expected.set(id, { ...expected.get(id)!, email });
        }
        writes++;
        await new Promise((r) => setTimeout(r, 3));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    async stop(): Promise<number> {
      stop = true;
      await done;
      return writes;
    },
  };
}

/** Kill the CLI twice at random points while the writer runs, resume, then finish with --until-clean after the writer stopped. */
async function killResumeFinish(args: readonly string[], writer: { stop(): Promise<number> }, env?: Record<string, string>): Promise<{ runs: Run[]; writes: number; final: Run }> {
  const runs: Run[] = [];
  const checkpoint = args[args.indexOf('--checkpoint') + 1]!;
  for (let k = 0; k < 2; k++) runs.push(await cli([...args, ...(k > 0 ? ['--resume'] : [])], { ...(env ? { env } : {}), killAfterCheckpoints: { path: checkpoint, count: 1 + Math.floor(Math.random() * 4) } }));
  runs.push(await cli([...args, '--resume'], env ? { env } : {}));
  const writes = await writer.stop();
  const final = await cli([...args, '--resume', '--until-clean', '--json'], env ? { env } : {});
  return { runs, writes, final };
}

const ROWS = 250;
const base = (table: string) => ['rotate', '--keyring', `local:${keys}`, '--store', db.url, '--table', table, ...USERS_FLAGS, '--batch', '10', '--checkpoint', join(dir, `${table}.checkpoint.json`)];

describe('fieldseal rotate on rows: crash safety with an application writing meanwhile', () => {
  test('seal in place: SIGKILLed at random points and resumed while the application inserts and updates plaintext; every row opens in the library to its latest plaintext, none lost, no plaintext left (SQL)', async () => {
    const table = await newTable('cli_seal');
    const plain: Stored = (v) => v;
    await insertUsers(table, Array.from({ length: ROWS }, (_, i) => i + 1), plain);
    const expected = new Map(Array.from({ length: ROWS }, (_, i) => [i + 1, { email: plainUser(i + 1).email, ssn: plainUser(i + 1).ssn }] as const));
    const writer = appWriter(table, ROWS + 1, plain, expected);
    const { runs, writes, final } = await killResumeFinish([...base(table), '--mode', 'seal'], writer);
    expect(runs.some((r) => r.killed)).toBe(true);
    expect(writes).toBeGreaterThan(20);
    expect(final.code, final.stderr).toBe(0);
    const report = JSON.parse(final.stdout) as { complete: boolean; remaining: number; values: { plaintextValues: number } };
    expect(report).toMatchObject({ complete: true, remaining: 0, values: { plaintextValues: 0 } });

    const rows = await readUsers(admin, table);
    expect(rows.map((r) => Number(r.id))).toEqual([...expected.keys()].sort((a, b) => a - b));
    expect(await plaintextLeft(admin, table)).toBe(0);
    expect(states(rows, layout)).toEqual({ sealed: rows.length });
    for (const r of rows) {
      const opened = await openRow(r, layout, { keyring: onlyNewest(v2) });
      expect({ email: opened.email, ssn: opened.ssn }).toEqual(expected.get(Number(r.id)));
    }
  }, 60_000);

  test('unseal: rows sealed by the library (sealRow), SIGKILLed and resumed while the application writes plaintext; every value back to its latest plaintext, no ciphertext left', async () => {
    const table = await newTable('cli_unseal');
    const ids = Array.from({ length: ROWS }, (_, i) => i + 1);
    await insertUsers(table, ids, (v) => v);
    for (const i of ids) {
      const s = await sealRow({ ...plainUser(i), id: i }, layout, { keyring: v1 });
      await admin.query(`UPDATE "${table}" SET email = $2, ssn = $3, fieldseal = $4 WHERE id = $1`, [i, s.email, s.ssn, s.fieldseal]);
    }
    const expected = new Map(ids.map((i) => [i, { email: plainUser(i).email, ssn: plainUser(i).ssn }] as const));
    const writer = appWriter(table, ROWS + 1, (v) => v, expected);
    const { runs, final } = await killResumeFinish([...base(table), '--mode', 'unseal', '--yes-write-plaintext'], writer);
    expect(runs.some((r) => r.killed)).toBe(true);
    expect(final.code, final.stderr).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ complete: true, remaining: 0 });
    const rows = await readUsers(admin, table);
    expect(rows.map((r) => Number(r.id))).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const r of rows) expect({ email: r.email, ssn: r.ssn, fieldseal: r.fieldseal }).toEqual({ ...expected.get(Number(r.id)), fieldseal: null });
    const { rows: left } = await admin.query(`SELECT id FROM "${table}" WHERE email LIKE 'fs1.%' OR ssn LIKE 'fs1.%' OR fieldseal IS NOT NULL`);
    expect(left).toEqual([]);
  }, 60_000);

  test('import-cloak: cloak ciphertext (the real @47ng/cloak) imported while the application keeps writing cloak values; SIGKILLed and resumed; every row opens to its latest plaintext; keys never printed', async () => {
    const table = await newTable('cli_cloak');
    const current = generateKey();
    const old = generateKey();
    const cloaked: Stored = (v, _c, id) => encryptStringSync(v, id % 4 === 0 ? old : current);
    const ids = Array.from({ length: ROWS }, (_, i) => i + 1);
    await insertUsers(table, ids, cloaked);
    const expected = new Map(ids.map((i) => [i, { email: plainUser(i).email, ssn: plainUser(i).ssn }] as const));
    const env = { PRISMA_FIELD_ENCRYPTION_KEY: current, PRISMA_FIELD_DECRYPTION_KEYS: old };
    const writer = appWriter(table, ROWS + 1, cloaked, expected);
    const { runs, final } = await killResumeFinish([...base(table), '--mode', 'import-cloak'], writer, env);
    expect(runs.some((r) => r.killed)).toBe(true);
    expect(final.code, final.stderr).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ complete: true, remaining: 0, values: { cloakValues: 0, plaintextValues: 0 } });
    const rows = await readUsers(admin, table);
    expect(rows.map((r) => Number(r.id))).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const r of rows) {
      const opened = await openRow(r, layout, { keyring: v2 });
      expect({ email: opened.email, ssn: opened.ssn }).toEqual(expected.get(Number(r.id)));
    }
    for (const run of [...runs, final]) for (const k of [current, old]) expect(run.stdout + run.stderr).not.toContain(k.slice(13, 40));
  }, 60_000);
});

describe('fieldseal rotate on rows', () => {
  test('unseal refuses to run without --yes-write-plaintext (exit 2) and writes nothing', async () => {
    const table = await newTable('cli_unseal_refuse');
    await insertUsers(table, [1, 2], (v) => v);
    const s = await sealRow({ ...plainUser(1), id: 1 }, layout, { keyring: v1 });
    await admin.query(`UPDATE "${table}" SET email = $1, ssn = $2, fieldseal = $3 WHERE id = 1`, [s.email, s.ssn, s.fieldseal]);
    const before = await readUsers(admin, table);
    const run = await cli([...base(table), '--mode', 'unseal']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--yes-write-plaintext');
    expect(await readUsers(admin, table)).toEqual(before);
    expect((await cli([...base(table), '--mode', 'seal', '--yes-write-plaintext'])).code).toBe(2);
  });

  test('--dry-run counts what would be sealed and writes nothing; rows sealed by sealRow are rewrapped by the CLI and opened by the library with the new key only', async () => {
    const table = await newTable('cli_dry');
    await insertUsers(table, Array.from({ length: 25 }, (_, i) => i + 1), (v) => v);
    for (const i of [1, 2, 3]) {
      const s = await sealRow({ ...plainUser(i), id: i }, layout, { keyring: v1 });
      await admin.query(`UPDATE "${table}" SET email = $2, ssn = $3, fieldseal = $4 WHERE id = $1`, [i, s.email, s.ssn, s.fieldseal]);
    }
    const before = await readUsers(admin, table);
    const dry = await cli([...base(table), '--mode', 'seal', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, scanned: 25, rotated: 22, skippedByReason: { 'already-sealed': 3 }, remaining: 39 });
    expect(await readUsers(admin, table)).toEqual(before);

    const rewrap = await cli([...base(table), '--mode', 'rewrap']);
    expect(rewrap.code, rewrap.stderr).toBe(0);
    expect(rewrap.stdout).toMatch(/rotated 3/);
    expect(rewrap.stdout).toMatch(/skipped not-sealed: 22/);
    expect(rewrap.stdout).toMatch(/plaintext values remaining 39/);
    const rows = await readUsers(admin, table);
    for (const r of rows.slice(0, 3)) {
      expect(inspect({ _fieldseal: r.fieldseal! }).groups[0]!.wrappedKeys[0]!.keyId).toMatch(/^main\/[A-Za-z0-9_-]{11}\/v2$/);
      expect(await openRow(r, layout, { keyring: onlyNewest(v2) })).toMatchObject({ email: plainUser(Number(r.id)).email });
    }
    const seal = await cli([...base(table), '--mode', 'seal']);
    expect(seal.code, seal.stderr).toBe(0);
    expect(seal.stdout).toMatch(/plaintext values remaining 0/);
  });

  test('usage errors: missing --header-column, --column with --columns, a bad --context-column (exit 2)', async () => {
    const common = ['rotate', '--keyring', `local:${keys}`, '--store', db.url, '--table', 'x'];
    expect((await cli([...common, '--columns', 'email', '--mode', 'seal'])).code).toBe(2);
    expect((await cli([...common, '--columns', 'email', '--header-column', 'h', '--column', 'doc'])).code).toBe(2);
    expect((await cli([...common, '--columns', 'email', '--header-column', 'h', '--context-column', 'tenant'])).code).toBe(2);
    expect((await cli([...common, '--columns', 'email', '--header-column', 'email'])).code).toBe(2);
    expect((await cli([...common, '--columns', 'email', '--header-column', 'h', '--shard', '0/2', '--until-clean'])).code).toBe(2);
    const noKeys = await cli([...common, '--columns', 'email', '--header-column', 'h', '--mode', 'import-cloak'], { env: { PRISMA_FIELD_ENCRYPTION_KEY: '' } });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toContain('PRISMA_FIELD_ENCRYPTION_KEY');
  });

  test('import-cloak: a value under an unknown cloak key fails its row (exit 5, partial, reported by id), the row is left exactly as it was', async () => {
    const table = await newTable('cli_cloak_fail');
    const known = generateKey();
    await insertUsers(table, [1, 2, 3], (v, _c, id) => encryptStringSync(v, id === 2 ? generateKey() : known));
    const before = await readUsers(admin, table);
    const run = await cli([...base(table), '--mode', 'import-cloak'], { env: { PRISMA_FIELD_ENCRYPTION_KEY: known } });
    expect(run.code).toBe(5);
    expect(run.stdout).toContain('first failed ids: 2 (ERR_FIELDSEAL_ROTATION_CLOAK:unknown-key)');
    expect(run.stdout).toMatch(/of which cloak ciphertext 2/);
    const after = await readUsers(admin, table);
    expect(after[1]).toEqual(before[1]);
    expect(await openRow(after[0]!, layout, { keyring: v2 })).toMatchObject({ email: plainUser(1).email });
    expect(run.stdout + run.stderr).not.toContain(known.slice(13, 40));
  });

  test('NDJSON: --mode seal --path seals documents without a header, skips sealed ones; --mode unseal reverses it', async () => {
    const path = join(dir, 'docs.ndjson');
    const sealedOne = await (await import('@fieldseal/core')).encrypt({ id: 3, ssn: '078-05-0003' }, { keyring: v1, paths: ['$.ssn'], requiredContext: { rowId: '3' } });
    await writeFile(path, [JSON.stringify({ id: 1, ssn: '078-05-0001' }), JSON.stringify({ id: 2, ssn: '078-05-0002' }), JSON.stringify(sealedOne)].join('\n') + '\n');
    const args = ['rotate', '--keyring', `local:${keys}`, '--store', `ndjson:${path}`, '--field-context', 'rowId=id'];
    const seal = await cli([...args, '--mode', 'seal', '--path', '$.ssn']);
    expect(seal.code, seal.stderr).toBe(0);
    expect(seal.stdout).toMatch(/skipped already-sealed: 1/);
    expect(seal.stdout).toMatch(/plaintext documents remaining 0/);
    const docs = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject);
    for (const d of docs) expect(await decrypt(d, { keyring: v2, context: { rowId: String(d.id) } })).toEqual({ id: d.id, ssn: `078-05-000${String(d.id)}` });
    expect((await cli([...args, '--mode', 'unseal'])).code).toBe(2);
    const unseal = await cli([...args, '--mode', 'unseal', '--yes-write-plaintext']);
    expect(unseal.code, unseal.stderr).toBe(0);
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonObject)).toEqual([1, 2, 3].map((id) => ({ id, ssn: `078-05-000${id}` })));
  });
});
