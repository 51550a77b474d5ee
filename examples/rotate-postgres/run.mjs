#!/usr/bin/env node
// One command: `node examples/rotate-postgres/run.mjs` (DATABASE_URL selects the server; default
// postgres://postgres@127.0.0.1:5432/test; with no server reachable, an embedded PGlite is used).
//
// What an operator does to rotate a KEK over a PostgreSQL table, end to end:
//   1. the application seals customer rows under local key main/v1 (row id bound as context);
//   2. `fieldseal keygen --add keys.json` makes v2 the primary (v1 stays for unwrapping);
//   3. `fieldseal rotate --dry-run` shows what would change;
//   4. `fieldseal rotate` starts, and is killed with SIGKILL half-way (a crash);
//   5. `fieldseal rotate --resume` finishes the job;
//   6. every row is checked with a keyring holding only v2: it opens and equals its plaintext.
// Prints a JSON summary (counts, never plaintext) and exits non-zero if anything is wrong.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { openDatabase } from '../lib/database.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const rows = Number(process.env.FIELDSEAL_EXAMPLE_ROWS ?? 5000);
const log = (m) => process.stderr.write(`[rotate-postgres] ${m}\n`);

// Build the packages the CLI runs from (incremental: quick when up to date).
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'], { cwd: root, stdio: 'inherit' });
const { LocalKeyring, decrypt, encrypt, inspect } = await import('@fieldseal/core');
const PgClient = require('pg/lib/client.js');
const fieldseal = join(root, 'packages/cli/dist/bin.js');

function cli(args) {
  const r = spawnSync(process.execPath, [fieldseal, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fieldseal ${args[0]} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const customer = (i) => ({ id: i, name: `Customer ${i}`, email: `customer${i}@example.com`, ssn: `078-05-${String(i % 10000).padStart(4, '0')}`, cards: [{ number: `4111${String(i).padStart(12, '0')}` }] });

const db = await openDatabase();
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-rotate-example-'));
const table = `customers_example_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
const client = new PgClient({ connectionString: db.url });
await client.connect();
let ok = false;
try {
  log(`${db.embedded ? 'embedded PGlite' : 'PostgreSQL server'}; table ${table}; ${rows} rows`);
  const keys = join(dir, 'keys.json');
  cli(['keygen', '--out', keys, '--name', 'main']);

  // 1. The application's data: sealed under main/v1, each row bound to its id.
  const v1 = LocalKeyring.fromKeyFile(readFileSync(keys, 'utf8'));
  await client.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, doc jsonb NOT NULL)`);
  for (let start = 1; start <= rows; start += 500) {
    const ids = [];
    const docs = [];
    for (let i = start; i < Math.min(start + 500, rows + 1); i++) {
      ids.push(String(i));
      docs.push(JSON.stringify(await encrypt(customer(i), { keyring: v1, paths: ['$.email', '$.ssn', '$.cards[*].number'], context: { app: 'crm' }, requiredContext: { rowId: String(i) } })));
    }
    await client.query(`INSERT INTO "${table}" (id, doc) SELECT * FROM unnest($1::bigint[], $2::jsonb[])`, [ids, docs]);
  }

  // 2. A new primary key version.
  cli(['keygen', '--add', keys]);

  const checkpoint = join(dir, 'rotate.checkpoint.json');
  const rotateArgs = ['rotate', '--keyring', `local:${keys}`, '--store', db.url, '--table', table, '--column', 'doc', '--id-context', 'rowId', '--batch', '100', '--checkpoint', checkpoint];

  // 3. Dry run.
  const dry = JSON.parse(cli([...rotateArgs, '--dry-run', '--json']));
  log(`dry run: would rotate ${dry.rotated} of ${dry.scanned}`);

  // 4. Start for real, and crash it once some batches are done.
  const child = spawn(process.execPath, [fieldseal, ...rotateArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  while (!existsSync(checkpoint) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  const [, signal] = await new Promise((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
  const checkpointKept = existsSync(checkpoint);
  log(`killed with ${signal}; checkpoint ${checkpointKept ? 'kept' : 'missing'}`);

  // 5. Resume.
  const report = JSON.parse(cli([...rotateArgs, '--resume', '--json']));
  log(`resumed: scanned ${report.scanned}, rotated ${report.rotated}, skipped ${report.skipped}, failed ${report.failed}, ${report.recordsPerSecond} records/s`);

  // 6. Check every row with only the new key version.
  const file = JSON.parse(readFileSync(keys, 'utf8'));
  const v2only = LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((k) => k.version === file.primary) });
  const { rows: stored } = await client.query(`SELECT id::text AS rid, doc::text AS rdoc FROM "${table}" ORDER BY id`);
  let verified = 0;
  const keyIds = new Set();
  for (const r of stored) {
    const doc = JSON.parse(r.rdoc);
    for (const g of inspect(doc).groups) for (const k of g.wrappedKeys) keyIds.add(k.keyId);
    const opened = await decrypt(doc, { keyring: v2only, context: { app: 'crm', rowId: r.rid } });
    // jsonb stores object keys in its own order: compare structurally.
    if (!isDeepStrictEqual(opened, customer(Number(r.rid)))) throw new Error(`row ${r.rid} does not equal its plaintext`);
    verified++;
  }
  const summary = { table, embedded: db.embedded, rows, stored: stored.length, dryRun: { scanned: dry.scanned, wouldRotate: dry.rotated }, killedWith: signal, checkpointKeptAfterKill: checkpointKept, resumed: report.resumed, report: { scanned: report.scanned, rotated: report.rotated, skipped: report.skipped, failed: report.failed, conflicts: report.conflicts, bySourceKey: report.bySourceKey }, keyIdsAfter: [...keyIds], verified };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  ok = verified === rows && stored.length === rows && keyIds.size === 1 && keyIds.has(v2only.keyIds[0]);
} finally {
  await client.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => {});
  await client.end();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
