import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { decrypt, encrypt, HierarchicalKeyring, LocalKeyring } from '@fieldseal/core';
import { FileBranchKeyStore } from '@fieldseal/keystore';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-cli-keystore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const json = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('keystore create, list, rotate, rewrap and shred through the built binary, with the documented exit codes', async () => {
  const kek1 = join(dir, 'kek1.json');
  const kek2 = join(dir, 'kek2.json');
  expect(run('keygen', '--out', kek1, '--name', 'kek-one').status).toBe(0);
  expect(run('keygen', '--out', kek2, '--name', 'kek-two').status).toBe(0);
  const storeFile = join(dir, 'branch-keys.json');
  const store = `file:${storeFile}`;

  let r = run('keystore', 'create', '--store', store, '--kek', `local:${kek1}`, '--id', 'acme');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(json(r.stdout)[0].created).toBe('acme/v1');
  expect(run('keystore', 'create', '--store', store, '--kek', `local:${kek1}`, '--id', 'globex').status).toBe(0);
  r = run('keystore', 'create', '--store', store, '--kek', `local:${kek1}`, '--id', 'acme');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('exists already');

  // Documents sealed by the library under the CLI-made branch keys.
  const store1 = new FileBranchKeyStore(storeFile);
  const keyring1 = new HierarchicalKeyring({ store: store1, kek: LocalKeyring.fromKeyFile(readFileSync(kek1, 'utf8')), branchKeyId: { contextKey: 'tenant' } });
  const acmeDoc = await encrypt({ ssn: '078-05-1120' }, { keyring: keyring1, paths: ['$.ssn'], context: { tenant: 'acme' } });
  const globexDoc = await encrypt({ ssn: '219-09-9999' }, { keyring: keyring1, paths: ['$.ssn'], context: { tenant: 'globex' } });

  expect(run('keystore', 'rotate', '--store', store, '--kek', `local:${kek1}`, '--id', 'acme').status).toBe(0);
  r = run('keystore', 'rewrap', '--store', store, '--kek', `local:${kek1}`, '--to', `local:${kek2}`);
  expect(r.status).toBe(0);
  expect(json(r.stdout)[0]).toEqual({ rewrapped: 3, conflicts: 0 });
  r = run('keystore', 'list', '--store', store);
  expect(json(r.stdout).map((x) => [x.id, x.version, x.state])).toEqual([['acme', 1, 'retired'], ['acme', 2, 'active'], ['globex', 1, 'active']]);
  expect(r.stdout).not.toMatch(/"ciphertext"/);

  // After the KEK rotation only the new KEK opens the documents.
  const keyring2 = new HierarchicalKeyring({ store: store1, kek: LocalKeyring.fromKeyFile(readFileSync(kek2, 'utf8')), branchKeyId: { contextKey: 'tenant' } });
  expect(await decrypt(acmeDoc, { keyring: keyring2, context: { tenant: 'acme' } })).toEqual({ ssn: '078-05-1120' });

  r = run('keystore', 'shred', '--store', store, '--id', 'acme');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--yes-destroy-every-version');
  expect(json(run('keystore', 'list', '--store', store).stdout)).toHaveLength(3);
  r = run('keystore', 'shred', '--store', store, '--id', 'acme', '--yes-destroy-every-version');
  expect(r.status).toBe(0);
  expect(json(r.stdout)[0]).toMatchObject({ destroyed: 'acme', versions: 2 });
  expect(run('keystore', 'shred', '--store', store, '--id', 'acme', '--yes-destroy-every-version').status).toBe(2);
  keyring2.clear();
  await expect(decrypt(acmeDoc, { keyring: keyring2, context: { tenant: 'acme' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
  expect(await decrypt(globexDoc, { keyring: keyring2, context: { tenant: 'globex' } })).toEqual({ ssn: '219-09-9999' });

  // Usage errors.
  expect(run('keystore', 'explode', '--store', store).status).toBe(2);
  expect(run('keystore', '--store', store).status).toBe(2);
  expect(run('keystore', 'create', '--store', store, '--id', 'x').status).toBe(2);
  expect(run('keystore', 'list', '--store', 'redis://x').status).toBe(2);
});

test('keystore on PostgreSQL: the table is created, and create/list work', async () => {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const table = `fs_cli_bk_${randomBytes(4).toString('hex')}`;
  const kek = join(dir, 'kek-pg.json');
  expect(run('keygen', '--out', kek).status).toBe(0);
  try {
    expect(run('keystore', 'create', '--store', url, '--table', table, '--kek', `local:${kek}`, '--id', 'tenant-1').status).toBe(0);
    const r = run('keystore', 'list', '--store', url, '--table', table);
    expect(r.status).toBe(0);
    expect(json(r.stdout).map((x) => x.id)).toEqual(['tenant-1']);
  } finally {
    const pool = new pg.Pool({ connectionString: url });
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  }
});
