// A fresh PostgreSQL schema per test file, the test tables created with SQL (prisma migrate needs
// the schema engine, which is not available offline), and clients over it through @prisma/adapter-pg.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { BeaconIndex, BeaconKey, LocalKeyring } from '@fieldseal/core';
import { PrismaClient } from '../generated/client.js';
import { fieldseal } from '../../src/index.js';
import type { FieldsealPrismaOptions } from '../../src/index.js';
import { models } from '../webcrypto/models.js';

export { models };

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const DDL = (s: string) => `
CREATE SCHEMA "${s}";
CREATE TABLE "${s}".users (id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, email text, email_bidx text, ssn_enc text, born text, fs_header text);
CREATE INDEX ON "${s}".users (email_bidx);
CREATE TABLE "${s}"."Post" (id text PRIMARY KEY, title text NOT NULL, body text, fs text, author_id text NOT NULL REFERENCES "${s}".users(id));
CREATE TABLE "${s}"."Profile" (id text PRIMARY KEY, bio text, fieldseal text, user_id text NOT NULL UNIQUE REFERENCES "${s}".users(id));
CREATE TABLE "${s}"."Tag" (id serial PRIMARY KEY, label text NOT NULL, "postId" text NOT NULL REFERENCES "${s}"."Post"(id));
CREATE TABLE "${s}"."Note" (id serial PRIMARY KEY, text text, fs text);
CREATE TABLE "${s}"."Counter" (id text PRIMARY KEY, value int NOT NULL, fs text);
`;

export async function createSchema(pool: pg.Pool): Promise<string> {
  const schema = `fsprisma_${randomBytes(6).toString('hex')}`;
  await pool.query(DDL(schema));
  return schema;
}

export function baseClient(schema: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: DATABASE_URL }, { schema }) });
}

export async function keys() {
  const keyring = await LocalKeyring.generate({ name: 'app' });
  const { key, document: beaconDocument } = await BeaconKey.generate({ keyring, id: 'b1' });
  const beacons = new BeaconIndex({
    keys: key,
    // 2 bits: a lookup returns about a quarter of the rows, so the tests see false positives removed.
    fields: { 'User.email': { bits: 2, allowUnsafeLength: true, normalize: 'email' } },
  });
  return { keyring, beacons, beaconDocument };
}

export async function setup(extra: Partial<FieldsealPrismaOptions> = {}) {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const schema = await createSchema(pool);
  const base = baseClient(schema);
  const k = await keys();
  const prisma = base.$extends(fieldseal({ keyring: k.keyring, beacons: k.beacons, models: models(), ...extra }));
  const sql = async (text: string, params: unknown[] = []) => (await pool.query(text.replaceAll('$S', `"${schema}"`), params)).rows;
  const close = async () => {
    await base.$disconnect();
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  };
  return { pool, schema, base, prisma, sql, close, ...k };
}
