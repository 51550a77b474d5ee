#!/usr/bin/env node
// Seals 1,000,000 plaintext rows in place in PostgreSQL (two sealed columns, the id and a tenant
// column bound as context, verify before write) in a child process, and reports rows/s and the
// child's peak RSS. Usage:
//   npm run bench:seal-1m -w @fieldseal/rotation [-- ROWS]
// Needs DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); creates and drops its own table.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rows = Number(process.argv[2] ?? 1_000_000);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = fileURLToPath(new URL('../../../', import.meta.url));
execFileSync('npx', ['tsc', '-b', 'packages/rotation'], { cwd: root, stdio: 'inherit' });
const { LocalKeyring, defineRowLayout, openRow } = await import('@fieldseal/core');
const { countRowValues } = await import('@fieldseal/rotation');
const Client = createRequire(import.meta.url)('pg/lib/client.js');

const table = `bench_seal_${process.pid}`;
const dir = await mkdtemp(join(tmpdir(), 'fieldseal-seal-1m-'));
const admin = new Client({ connectionString: url });
await admin.connect();
try {
  const keyring = await LocalKeyring.generate({ name: 'main' });
  const keyFile = join(dir, 'keys.json');
  await writeFile(keyFile, JSON.stringify(keyring.exportKeyFile()), { mode: 0o600 });
  await admin.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, tenant_id text NOT NULL, email text, ssn text, fieldseal text)`);
  await admin.query(`INSERT INTO "${table}" SELECT i, 't' || (i % 50), 'user' || i || '@example.com', '078-05-' || lpad((i % 10000)::text, 4, '0'), NULL FROM generate_series(1, $1::int) i`, [rows]);
  await admin.query(`VACUUM ANALYZE "${table}"`);
  process.stderr.write(`table: ${rows} plaintext rows\n`);

  const child = spawn(process.execPath, [fileURLToPath(new URL('./seal-child.mjs', import.meta.url))], {
    env: { ...process.env, FIELDSEAL_SEAL_CHILD: JSON.stringify({ url, table, keyFile }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`seal child exited with ${code}`);
  const result = JSON.parse(stdout.split('\n').find((l) => l.startsWith('report ')).slice(7));

  // Check: no plaintext left (SQL), a sample of rows opens to its plaintext.
  const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' } });
  const counts = await countRowValues({ client: admin, table, layout });
  if (counts.plaintextValues !== 0 || counts.sealedRows !== rows) throw new Error(`not sealed: ${JSON.stringify(counts)}`);
  const sample = await admin.query(`SELECT id::text AS id, tenant_id, email, ssn, fieldseal FROM "${table}" WHERE id % 10007 = 1`);
  for (const r of sample.rows) {
    const opened = await openRow(r, layout, { keyring });
    if (opened.email !== `user${r.id}@example.com`) throw new Error(`row ${r.id} does not open to its plaintext`);
  }
  console.log(JSON.stringify({ rows, ...result, peakRssMiB: +(result.maxRssBytes / 2 ** 20).toFixed(1), plaintextValuesLeft: counts.plaintextValues, node: process.version }, null, 2));
} finally {
  await admin.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => {});
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
