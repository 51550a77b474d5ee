import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eq } from 'drizzle-orm';
import { pgSchema, serial, text } from 'drizzle-orm/pg-core';
import { BeaconIndex, BeaconKey, inspect, LocalKeyring } from '@fieldseal/core';
import { encryptedText, fieldseal, fieldsealHeader, withFieldseal } from '@fieldseal/drizzle';
import { DATABASE_URL } from './helpers/fixture.js';

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const schemaName = `fsdzcli_${randomBytes(5).toString('hex')}`;
const accounts = pgSchema(schemaName).table('accounts', {
  id: serial('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  email: encryptedText('email'),
  note: encryptedText('note'),
  plan: text('plan'),
  emailBidx: text('email_bidx'),
  fieldseal: fieldsealHeader('fieldseal'),
});
fieldseal(accounts, { contextColumns: { tenant: accounts.tenantId }, context: { table: 'accounts' }, beacons: { email: accounts.emailBidx } });
const TABLE = `${schemaName}.accounts`;
const DDL = [`create schema ${schemaName}`, `create table ${TABLE} (id serial primary key, tenant_id text not null, email text, note text, plan text, email_bidx text, fieldseal text)`];
// The same layout, as the CLI's flags.
const LAYOUT_FLAGS = ['--table', TABLE, '--id-column', 'id', '--columns', 'email,note', '--header-column', 'fieldseal', '--context-column', 'tenant=tenant_id', '--context', 'table=accounts'];

interface Server {
  readonly url: string;
  readonly db: any;
  query(text: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function postgresServer(): Promise<Server> {
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { createRequire } = await import('node:module');
  const PgClient = createRequire(import.meta.url)('pg/lib/client.js');
  const client = new PgClient({ connectionString: DATABASE_URL });
  await client.connect();
  for (const s of DDL) await client.query(s);
  return {
    url: DATABASE_URL,
    db: drizzle({ client }),
    query: async (t) => (await client.query(t)).rows,
    close: async () => {
      await client.query(`drop schema ${schemaName} cascade`);
      await client.end();
    },
  };
}

/** PGlite in process for Drizzle, and on a loopback socket for the CLI: the same database. */
async function pgliteServer(): Promise<Server> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const { drizzle } = await import('drizzle-orm/pglite');
  const client = await PGlite.create();
  for (const s of DDL) await client.exec(s);
  const port = await freePort();
  const server = new PGLiteSocketServer({ db: client, port, host: '127.0.0.1', maxConnections: 4 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    db: drizzle({ client }),
    query: async (t) => (await client.query<Record<string, unknown>>(t)).rows,
    close: async () => {
      await server.stop();
      await client.close();
    },
  };
}

describe.each([
  ['node-postgres', postgresServer],
  ['pglite', pgliteServer],
] as const)('Drizzle and the CLI share one row layout (%s)', (_name, start) => {
  let s: Server;
  let dir: string;
  let keyFile: string;
  let v1: LocalKeyring;
  let v2: LocalKeyring;
  let beacons: BeaconIndex;
  beforeAll(async () => {
    s = await start();
    dir = await mkdtemp(join(tmpdir(), 'fieldseal-drizzle-cli-'));
    v1 = await LocalKeyring.generate({ name: 'main' });
    v2 = v1.withNewPrimary();
    keyFile = join(dir, 'keys.json');
    beacons = new BeaconIndex({ keys: (await BeaconKey.generate({ keyring: v1, id: 'b1' })).key, fields: { email: { normalize: 'email', bits: 4, allowUnsafeLength: true } } });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('plaintext rows migrated by `fieldseal rotate --mode seal` open through Drizzle; Drizzle rows open through the CLI and still open after `fieldseal rotate`', async () => {
    // An existing table with plaintext, before the application adopted fieldseal.
    await s.query(`insert into ${TABLE} (tenant_id, email, note, plan) values ('acme', 'legacy@example.com', 'legacy note', 'pro'), ('globex', 'old@example.com', null, 'free')`);
    await writeFile(keyFile, JSON.stringify(v1.exportKeyFile()), { mode: 0o600 });
    // The application switched its schema to encrypted columns first: in migration mode it reads the
    // plaintext rows as they are, and whatever it writes is sealed; outside it, plaintext is refused.
    const migrating = withFieldseal(s.db, { keyring: v1, beacons, allowPlaintext: true });
    expect((await migrating.select({ email: accounts.email }).from(accounts).orderBy(accounts.id)).map((r: any) => r.email)).toEqual(['legacy@example.com', 'old@example.com']);
    await expect(withFieldseal(s.db, { keyring: v1, beacons }).select().from(accounts)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INCOMPLETE' });
    const sealed = await cli(['rotate', '--keyring', `local:${keyFile}`, '--store', s.url, ...LAYOUT_FLAGS, '--mode', 'seal', '--checkpoint', join(dir, 'seal.json')]);
    expect(sealed.stderr).not.toContain('legacy');
    expect(sealed.code).toBe(0);
    expect(JSON.stringify(await s.query(`select * from ${TABLE}`))).not.toMatch(/legacy|old@example/);

    const db = withFieldseal(s.db, { keyring: v1, beacons });
    const migrated = await db.select({ email: accounts.email, note: accounts.note }).from(accounts).orderBy(accounts.id);
    expect(migrated).toEqual([{ email: 'legacy@example.com', note: 'legacy note' }, { email: 'old@example.com', note: null }]);
    // The CLI seals columns, not beacons: lookups find the migrated rows once the beacons are written.
    expect(await db.select().from(accounts).where(eq(accounts.email, 'legacy@example.com'))).toEqual([]);
    expect(await db.$fieldseal.backfillBeacons(accounts, { batchSize: 1 })).toBe(2);
    expect(await db.$fieldseal.backfillBeacons(accounts)).toBe(0);
    expect((await db.select({ note: accounts.note }).from(accounts).where(eq(accounts.email, 'LEGACY@example.com')))).toEqual([{ note: 'legacy note' }]);

    // Rows written by Drizzle, then rewrapped by the CLI under a new key version.
    const [fresh] = await db.insert(accounts).values({ tenantId: 'initech', email: 'drizzle@example.com', note: 'from drizzle' }).returning();
    await db.update(accounts).set({ note: 'updated by drizzle' }).where(eq(accounts.id, fresh.id));
    await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
    const rotated = await cli(['rotate', '--keyring', `local:${keyFile}`, '--store', s.url, ...LAYOUT_FLAGS, '--mode', 'rewrap', '--json', '--checkpoint', join(dir, 'rewrap.json')]);
    expect(rotated.code).toBe(0);
    const report = JSON.parse(rotated.stdout) as { failed: number; processed?: number };
    expect(report.failed).toBe(0);
    for (const row of await s.query(`select fieldseal from ${TABLE}`)) {
      // Every header now names the new key version: the CLI opened (verified) and rewrapped every row.
      const info = inspect({ fieldseal: row.fieldseal } as never, { headerName: 'fieldseal' });
      const ids = info.groups[0]!.wrappedKeys.map((w) => w.keyId);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatch(/^main\/(.+\/)?v2$/);
    }
    const after = withFieldseal(s.db, { keyring: v2, beacons });
    expect(await after.select({ email: accounts.email, note: accounts.note }).from(accounts).where(eq(accounts.email, 'drizzle@example.com'))).toEqual([{ email: 'drizzle@example.com', note: 'updated by drizzle' }]);
    expect((await after.select().from(accounts)).map((r: any) => r.email).sort()).toEqual(['drizzle@example.com', 'legacy@example.com', 'old@example.com']);

    // The CLI opens Drizzle's rows all the way back to plaintext (an explicit, confirmed unseal).
    const unsealed = await cli(['rotate', '--keyring', `local:${keyFile}`, '--store', s.url, ...LAYOUT_FLAGS, '--mode', 'unseal', '--yes-write-plaintext', '--checkpoint', join(dir, 'unseal.json')]);
    expect(unsealed.code).toBe(0);
    expect(await s.query(`select email, note, fieldseal from ${TABLE} where id = ${fresh.id}`)).toEqual([{ email: 'drizzle@example.com', note: 'updated by drizzle', fieldseal: null }]);
    // And Drizzle refuses to return what is now plaintext in a sealed column.
    await expect(after.select().from(accounts)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INCOMPLETE' });
  });
});
