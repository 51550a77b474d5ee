#!/usr/bin/env node
// One command: `node examples/migrate-postgres/run.mjs` (DATABASE_URL selects the server; default
// postgres://postgres@127.0.0.1:5432/test; with no server reachable, an embedded PGlite is used).
//
// Adopting fieldseal on a table that already holds plaintext PII, while the application runs:
//   1. a `users` table with plaintext `email` and `ssn` columns, written by the application;
//   2. `ALTER TABLE users ADD COLUMN fieldseal text`: the column for each row's header;
//   3. `fieldseal rotate --mode seal --dry-run`: what would be sealed, nothing written;
//   4. `fieldseal rotate --mode seal` while the old application keeps inserting and updating
//      plaintext rows, then `--until-clean` to catch what it wrote meanwhile;
//   5. the new application reads every row through `openRow` and writes through `sealRow`;
//   6. SQL shows that no plaintext is left in the sealed columns.
// Prints a JSON summary (counts, never plaintext) and exits non-zero if anything is wrong.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../lib/database.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const rows = Number(process.env.FIELDSEAL_EXAMPLE_ROWS ?? 3000);
const log = (m) => process.stderr.write(`[migrate-postgres] ${m}\n`);

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
const { LocalKeyring, defineRowLayout, openRow, sealRow } = await import('@fieldseal/core');
const PgClient = require('pg/lib/client.js');
const fieldseal = join(root, 'packages/cli/dist/bin.js');

/** Run the CLI; resolve with its exit code and output. */
function cli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fieldseal, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(args) {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`fieldseal ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const user = (i, v = 0) => ({ id: i, tenant_id: `tenant-${i % 4}`, email: `user${i}.v${v}@example.com`, ssn: i % 6 === 0 ? null : `078-05-${String(i % 10000).padStart(4, '0')}` });

const db = await openDatabase();
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-migrate-example-'));
const table = `users_example_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
const client = new PgClient({ connectionString: db.url });
await client.connect();
let ok = false;
try {
  log(`${db.embedded ? 'embedded PGlite' : 'PostgreSQL server'}; table ${table}; ${rows} rows`);
  const keys = join(dir, 'keys.json');
  await must(['keygen', '--out', keys, '--name', 'main']);

  // 1. The application's table, plaintext PII.
  await client.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, tenant_id text NOT NULL, email text, ssn text, plan text)`);
  const latest = new Map();
  for (let start = 1; start <= rows; start += 500) {
    const us = Array.from({ length: Math.min(500, rows - start + 1) }, (_, k) => user(start + k));
    await client.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan) SELECT id, t, e, s, 'free' FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x(id, t, e, s)`, [us.map((u) => u.id), us.map((u) => u.tenant_id), us.map((u) => u.email), us.map((u) => u.ssn)]);
    for (const u of us) latest.set(u.id, u);
  }

  // 2. One text column for the header; NULL until a row is sealed.
  await client.query(`ALTER TABLE "${table}" ADD COLUMN fieldseal text`);

  // The migration's flags; the application's layout below says the same thing in code.
  const flags = ['--keyring', `local:${keys}`, '--store', db.url, '--table', table, '--id-column', 'id', '--columns', 'email,ssn', '--header-column', 'fieldseal', '--context-column', 'tenant=tenant_id', '--context', `table=users`, '--checkpoint', join(dir, 'seal.checkpoint.json'), '--batch', '200'];

  // 3. What would be sealed.
  const dry = JSON.parse(await must(['rotate', ...flags, '--mode', 'seal', '--dry-run', '--json']));
  log(`dry run: ${dry.rotated} rows would be sealed, ${dry.values.plaintextValues} plaintext values`);

  // 4. Seal in place while the old application keeps writing plaintext.
  let stop = false;
  let appWrites = 0;
  const oldApp = (async () => {
    const app = new PgClient({ connectionString: db.url });
    await app.connect();
    let next = rows + 1;
    try {
      while (!stop) {
        if (appWrites % 3 === 0) {
          const u = user(next++);
          await app.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan) VALUES ($1, $2, $3, $4, 'free')`, [u.id, u.tenant_id, u.email, u.ssn]);
          latest.set(u.id, u);
        } else {
          const id = 1 + Math.floor(Math.random() * rows);
          const email = `user${id}.v${appWrites}@example.com`;
          // The old application knows nothing of fieldseal: on a sealed row this leaves one plaintext column.
          await app.query(`UPDATE "${table}" SET email = $2 WHERE id = $1`, [id, email]);
          latest.set(id, { ...latest.get(id), email });
        }
        appWrites++;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await app.end();
    }
  })();
  const first = await cli(['rotate', ...flags, '--mode', 'seal', '--json']);
  if (first.code !== 0) throw new Error(`first pass failed: ${first.stderr}`);
  const firstPass = JSON.parse(first.stdout);
  log(`first pass: sealed ${firstPass.rotated}, conflicts ${firstPass.conflicts}; the application wrote ${appWrites} times meanwhile; plaintext values left: ${firstPass.values.plaintextValues}`);
  // The new application version is deployed here: from now on it writes through sealRow.
  stop = true;
  await oldApp;
  const clean = JSON.parse(await must(['rotate', ...flags, '--mode', 'seal', '--until-clean', '--json']));
  log(`--until-clean: ${clean.passes} pass(es), plaintext values left: ${clean.values.plaintextValues}`);

  // 5. The new application: the same layout in code, reading through openRow, writing through sealRow.
  const keyring = LocalKeyring.fromKeyFile(readFileSync(keys, 'utf8'));
  const users = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' }, context: { table: 'users' } });
  const sealed = await sealRow({ ...user(rows + 100_000), plan: 'pro' }, users, { keyring });
  await client.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan, fieldseal) VALUES ($1, $2, $3, $4, $5, $6)`, [sealed.id, sealed.tenant_id, sealed.email, sealed.ssn, sealed.plan, sealed.fieldseal]);
  latest.set(rows + 100_000, user(rows + 100_000));
  const { rows: stored } = await client.query(`SELECT * FROM "${table}" ORDER BY id`);
  let verified = 0;
  for (const row of stored) {
    const u = await openRow(row, users, { keyring });
    const want = latest.get(Number(u.id));
    if (want === undefined || u.email !== want.email || u.ssn !== want.ssn) throw new Error(`row ${row.id} does not open to its latest plaintext`);
    verified++;
  }
  if (verified !== latest.size) throw new Error(`expected ${latest.size} rows, found ${verified}`);

  // 6. What an auditor runs: no value in a sealed column that is not a fieldseal ciphertext.
  const { rows: audit } = await client.query(`SELECT count(*) FILTER (WHERE email NOT LIKE 'fs1.%') + count(*) FILTER (WHERE ssn NOT LIKE 'fs1.%') AS plaintext_values, count(*) FILTER (WHERE fieldseal IS NULL) AS rows_without_header FROM "${table}"`);
  const plaintextValues = Number(audit[0].plaintext_values);
  if (plaintextValues !== 0 || Number(audit[0].rows_without_header) !== 0) throw new Error(`plaintext left: ${JSON.stringify(audit[0])}`);

  console.log(JSON.stringify({ table, embedded: db.embedded, rows: latest.size, appWritesDuringMigration: appWrites, dryRun: { wouldSeal: dry.rotated, plaintextValues: dry.values.plaintextValues }, firstPass: { sealed: firstPass.rotated, conflicts: firstPass.conflicts, plaintextValuesLeft: firstPass.values.plaintextValues }, untilClean: { passes: clean.passes, plaintextValuesLeft: clean.values.plaintextValues }, verified, plaintextValuesBySql: plaintextValues }, null, 2));
  ok = true;
} finally {
  await client.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => {});
  await client.end();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
