#!/usr/bin/env node
// @fieldseal/drizzle: one Drizzle select of 1,000 rows, opened in a batch, against the same query
// without fieldseal, in the same run. Three subjects, timed in alternating rounds:
//   plain   — a table with the same columns in plaintext, bare Drizzle (what the app costs without encryption)
//   stored  — the sealed table, bare Drizzle (the same bytes read, ciphertext returned, nothing opened)
//   opened  — the sealed table through withFieldseal (every row opened: one unwrap + two field opens per row)
//   openRows — core's openRows alone over the same 1,000 rows already fetched (the cryptographic share of `opened`)
// Each keyring variant is run: LocalKeyring (one local AES-GCM unwrap per row) and CachingKeyring
// over it (DEKs written by one batch are reused when the context allows, unwrapped keys cached).
//   npx tsc -b && node benchmarks/drizzle.mjs [--driver pglite|postgres|both] [--rounds 15] [--rows 1000]
// DATABASE_URL selects the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { cpuUsage, hrtime } from 'node:process';
import { CachingKeyring, defineRowLayout, LocalKeyring, openRows } from '@fieldseal/core';
import { encryptedText, fieldseal, fieldsealHeader, withFieldseal } from '@fieldseal/drizzle';
import { pgSchema, serial, text } from 'drizzle-orm/pg-core';

const { values: args } = parseArgs({ options: { driver: { type: 'string', default: 'both' }, rounds: { type: 'string', default: '15' }, rows: { type: 'string', default: '1000' } } });
const ROUNDS = Number(args.rounds);
const ROWS = Number(args.rows);
const schemaName = `fsdz_bench_${randomBytes(4).toString('hex')}`;
const s = pgSchema(schemaName);
const columns = {
  id: serial('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  name: text('name').notNull(),
  plan: text('plan').notNull(),
};
const sealed = s.table('sealed_users', { ...columns, email: encryptedText('email'), phone: encryptedText('phone'), fieldseal: fieldsealHeader('fieldseal') });
fieldseal(sealed, { contextColumns: { tenant: sealed.tenantId }, context: { table: 'users' } });
const plain = s.table('plain_users', { ...columns, email: text('email'), phone: text('phone') });
const DDL = [
  `create schema ${schemaName}`,
  `create table ${schemaName}.sealed_users (id serial primary key, tenant_id text not null, name text not null, plan text not null, email text, phone text, fieldseal text)`,
  `create table ${schemaName}.plain_users (id serial primary key, tenant_id text not null, name text not null, plan text not null, email text, phone text)`,
];

async function openDriver(kind) {
  if (kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const client = new PGlite();
    for (const q of DDL) await client.exec(q);
    return { name: 'PGlite 0.5 (in process)', db: drizzle({ client }), close: () => client.close() };
  }
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  for (const q of DDL) await client.query(q);
  const version = (await client.query('show server_version')).rows[0].server_version;
  return {
    name: `PostgreSQL ${version} (node-postgres, loopback)`,
    db: drizzle({ client }),
    close: async () => {
      await client.query(`drop schema ${schemaName} cascade`);
      await client.end();
    },
  };
}

function time(fn) {
  return async () => {
    const c0 = cpuUsage();
    const t0 = hrtime.bigint();
    const rows = await fn();
    const wall = Number(hrtime.bigint() - t0) / 1e6;
    const c = cpuUsage(c0);
    if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`);
    return { wall, cpu: (c.user + c.system) / 1000, rows };
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(kind, keyringName, makeKeyring) {
  const d = await openDriver(kind);
  try {
    const keyring = await makeKeyring();
    const db = withFieldseal(d.db, { keyring });
    const people = Array.from({ length: ROWS }, (_, i) => ({ tenantId: `t${i % 10}`, name: `user ${i}`, plan: i % 3 ? 'free' : 'pro', email: `user${i}@example.com`, phone: `+1 555 01${String(i).padStart(5, '0')}` }));
    for (let i = 0; i < ROWS; i += 250) {
      await d.db.insert(plain).values(people.slice(i, i + 250));
      await db.insert(sealed).values(people.slice(i, i + 250));
    }
    const fetched = await d.db.select().from(sealed);
    // The layout fieldseal(sealed, …) defines, for core alone.
    const layout = defineRowLayout({ columns: [{ name: 'email', codec: 'string' }, { name: 'phone', codec: 'string' }], header: 'fieldseal', id: 'id', contextColumns: { tenant: { name: 'tenant_id', property: 'tenantId' } }, context: { table: 'users' } });
    const subjects = {
      plain: time(() => d.db.select().from(plain)),
      openRows: time(() => openRows(fetched, layout, { keyring })),
      stored: time(() => d.db.select().from(sealed)),
      opened: time(() => db.select().from(sealed)),
    };
    const check = await subjects.opened();
    if (check.rows[0].email !== 'user0@example.com') throw new Error('opened rows do not hold the plaintext');
    for (const f of Object.values(subjects)) await f(); // warm-up
    const samples = { plain: [], openRows: [], stored: [], opened: [] };
    const order = Object.keys(subjects);
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order each round, so slow drift of a shared machine is spread over every subject.
      for (let i = 0; i < order.length; i++) {
        const name = order[(i + r) % order.length];
        samples[name].push(await subjects[name]());
      }
    }
    const out = {};
    for (const [name, list] of Object.entries(samples)) out[name] = { wallMs: median(list.map((x) => x.wall)), cpuMs: median(list.map((x) => x.cpu)) };
    return { driver: d.name, keyring: keyringName, ...out };
  } finally {
    await d.close();
  }
}

const drivers = args.driver === 'both' ? ['postgres', 'pglite'] : [args.driver];
const keyrings = [
  ['LocalKeyring', () => LocalKeyring.generate({ name: 'bench' })],
  ['CachingKeyring(LocalKeyring)', async () => new CachingKeyring({ keyring: await LocalKeyring.generate({ name: 'bench' }) })],
];
const results = [];
for (const kind of drivers) for (const [name, make] of keyrings) results.push(await measure(kind, name, make));

const f = (x) => x.toFixed(1);
const os = await import('node:os');
console.log(`${ROWS} rows per select, median of ${ROUNDS} alternating rounds; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log('| driver | keyring | plain table, bare Drizzle | sealed table, bare Drizzle (no open) | sealed table, withFieldseal (opened) | core openRows alone | opened vs plain (wall / CPU) | rows opened per second |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(`| ${r.driver} | ${r.keyring} | ${f(r.plain.wallMs)} ms (CPU ${f(r.plain.cpuMs)}) | ${f(r.stored.wallMs)} ms (CPU ${f(r.stored.cpuMs)}) | ${f(r.opened.wallMs)} ms (CPU ${f(r.opened.cpuMs)}) | ${f(r.openRows.wallMs)} ms (CPU ${f(r.openRows.cpuMs)}) | ${(r.opened.wallMs / r.plain.wallMs).toFixed(1)}x / ${(r.opened.cpuMs / r.plain.cpuMs).toFixed(1)}x | ${Math.round((ROWS / r.opened.wallMs) * 1000).toLocaleString('en-US')} |`);
}
