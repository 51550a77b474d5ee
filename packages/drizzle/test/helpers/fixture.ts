import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { relations, sql } from 'drizzle-orm';
import { integer, pgSchema, serial, text, uuid } from 'drizzle-orm/pg-core';
import type { Client } from 'pg';
import { BeaconIndex, BeaconKey, LocalKeyring } from '@fieldseal/core';
import { encryptedDate, encryptedJson, encryptedText, fieldseal, fieldsealHeader } from '@fieldseal/drizzle';

/** pg's Client without pg-pool (which vitest's `--conditions import` cannot require). */
const PgClient = createRequire(import.meta.url)('pg/lib/client.js') as typeof Client;

/** A fresh schema per run: the PostgreSQL server is shared with other test files. */
export const schemaName = `fsdz_${randomBytes(5).toString('hex')}`;
const s = pgSchema(schemaName);

export const users = s.table('users', {
  id: serial('id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  email: encryptedText('email'),
  ssn: encryptedText('ssn', { group: 'restricted' }),
  born: encryptedDate('born'),
  prefs: encryptedJson('prefs').$type<{ theme: string; n: number }>(),
  plan: text('plan'),
  emailBidx: text('email_bidx'),
  fieldseal: fieldsealHeader('fieldseal'),
});
fieldseal(users, { contextColumns: { tenant: users.tenantId }, context: { table: 'users' }, beacons: { email: users.emailBidx } });

export const posts = s.table('posts', {
  id: uuid('id').primaryKey().$defaultFn(() => randomUUID()),
  userId: integer('user_id').notNull(),
  title: text('title').notNull(),
  body: encryptedText('body'),
  fsHeader: fieldsealHeader('fs_header'),
});

/** A table without encrypted columns: everything passes through. */
export const tags = s.table('tags', { id: serial('id').primaryKey(), name: text('name').notNull() });

export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
export const postsRelations = relations(posts, ({ one }) => ({ author: one(users, { fields: [posts.userId], references: [users.id] }) }));

export const schema = { users, posts, tags, usersRelations, postsRelations };

export const ddl = [
  `create schema if not exists ${schemaName}`,
  `create table ${schemaName}.users (id serial primary key, tenant_id text not null, email text, ssn text, born text, prefs text, plan text, email_bidx text, fieldseal text)`,
  `create index on ${schemaName}.users (email_bidx)`,
  `create table ${schemaName}.posts (id uuid primary key, user_id integer not null, title text not null, body text, fs_header text)`,
  `create table ${schemaName}.tags (id serial primary key, name text not null)`,
];

export interface Keys {
  readonly keyring: LocalKeyring;
  readonly keyrings: { readonly restricted: LocalKeyring };
  readonly beacons: BeaconIndex;
}

export async function makeKeys(): Promise<Keys> {
  const keyring = await LocalKeyring.generate({ name: 'contact' });
  const restricted = await LocalKeyring.generate({ name: 'restricted' });
  const { key } = await BeaconKey.generate({ keyring, id: 'b1' });
  // One bit: about half of all rows share each beacon, so every lookup meets false positives.
  const beacons = new BeaconIndex({ keys: key, fields: { email: { normalize: 'email', bits: 1, allowUnsafeLength: true } } });
  return { keyring, keyrings: { restricted }, beacons };
}

export interface Driver {
  readonly name: string;
  /** A Drizzle database with the test schema. */
  readonly db: any;
  /** Raw SQL, rows keyed by database column names. */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function openPostgres(): Promise<Driver> {
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const client = new PgClient({ connectionString: DATABASE_URL });
  await client.connect();
  for (const statement of ddl) await client.query(statement);
  const db = drizzle({ client, schema });
  return {
    name: 'node-postgres',
    db,
    query: async (text, params) => (await client.query(text, params as unknown[])).rows,
    close: async () => {
      await client.query(`drop schema ${schemaName} cascade`).catch(() => {});
      await client.end();
    },
  };
}

export async function openPglite(): Promise<Driver> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const client = new PGlite();
  for (const statement of ddl) await client.exec(statement);
  const db = drizzle({ client, schema });
  return {
    name: 'pglite',
    db,
    query: async (text, params) => (await client.query<Record<string, unknown>>(text, params as unknown[])).rows,
    close: () => client.close(),
  };
}

export const drivers: readonly [string, () => Promise<Driver>][] = [
  ['node-postgres', openPostgres],
  ['pglite', openPglite],
];

export { sql };
