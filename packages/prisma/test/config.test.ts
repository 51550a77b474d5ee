import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { FieldsealError, InvalidArgumentError, LocalKeyring } from '@fieldseal/core';
import { fieldseal } from '../src/index.js';
import type { FieldsealPrismaOptions, PlaintextReport } from '../src/index.js';
import { baseClient, createSchema, DATABASE_URL, keys, models, setup } from './helpers/db.js';

let pool: pg.Pool;
let schema: string;
let base: ReturnType<typeof baseClient>;
let keyring: LocalKeyring;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  schema = await createSchema(pool);
  base = baseClient(schema);
  keyring = (await keys()).keyring;
});
afterAll(async () => {
  await base?.$disconnect();
  await pool?.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool?.end();
});

function rejects(options: Partial<FieldsealPrismaOptions>, message: RegExp) {
  let err: unknown;
  try {
    base.$extends(fieldseal({ keyring, models: {}, ...options } as FieldsealPrismaOptions));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect((err as FieldsealError).code).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  expect((err as Error).message).toMatch(message);
}

describe('misconfiguration is an error when $extends runs, checked against the generated data model', () => {
  test('unknown model', () => rejects({ models: { Usr: { fields: ['email'], header: 'fieldseal' } } }, /unknown model "Usr"/));
  test('unknown field', () => rejects({ models: { User: { fields: ['mail'], header: 'fieldseal' } } }, /no field "mail"/));
  test('an encrypted field that is not a String column', () => rejects({ models: { Counter: { fields: ['value'], header: 'fs' } } }, /must be a String column/));
  test('a relation as encrypted field', () => rejects({ models: { User: { fields: ['posts'], header: 'fieldseal' } } }, /must be a scalar column/));
  test('missing header field', () => rejects({ models: { User: { fields: ['email'], header: 'seal' } } }, /no field "seal"/));
  test('no header at all', () => rejects({ models: { User: { fields: ['email'] } as never } }, /header field must be a field name/));
  test('unknown context field', () => rejects({ models: { User: { fields: ['email'], header: 'fieldseal', context: { tenant: 'tenant' } } } }, /no field "tenant"/));
  test('a beacon without a BeaconIndex', () => rejects({ models: { User: { fields: { email: { beacon: 'emailBidx' } }, header: 'fieldseal' } } }, /no beacons/));
  test('an encrypted field used as header', () => rejects({ models: { User: { fields: ['email'], header: 'email' } } }, /cannot be the header/));
  test('an id bound and encrypted', () => rejects({ models: { User: { fields: ['email'], header: 'fieldseal', id: 'email' } } }, /both sealed/));
  test('generateId on an Int id', () => rejects({ models: { Note: { fields: ['text'], header: 'fs', generateId: 'uuid' } } }, /single String id/));
  test('no keyring', () => rejects({ keyring: undefined, models: { User: { fields: ['email'], header: 'fieldseal' } } }, /keyring/));
  test('a valid configuration maps @map column names into the row layout', async () => {
    const { beacons } = await keys();
    const prisma = base.$extends(fieldseal({ keyring, beacons, models: models() }));
    const u = await prisma.user.create({ data: { tenantId: 't', name: 'n', ssn: 'mapped ssn' } });
    const [row] = (await pool.query(`SELECT ssn_enc, fs_header FROM "${schema}".users WHERE id = $1`, [u.id])).rows;
    // The format binds the database column name: the header lists /ssn_enc, not the Prisma field.
    const { inspect } = await import('@fieldseal/core');
    const info = inspect({ ssn_enc: row.ssn_enc, fs_header: row.fs_header }, { headerName: 'fs_header' });
    expect(info.groups[0]!.fields).toEqual(['/ssn_enc']);
    expect([...info.requiredContextKeys].sort()).toEqual(['id', 'tenant']);
  });
});

describe('migration mode', () => {
  test('reads plaintext left in encrypted columns, reports it, and the next update seals it', async () => {
    const reports: PlaintextReport[] = [];
    const t = await setup({ mode: 'migration', onPlaintext: (r) => reports.push(r) });
    try {
      await t.sql(`INSERT INTO $S.users (id, tenant_id, name, email, ssn_enc) VALUES ('legacy', 'acme', 'l', 'legacy@example.com', 'legacy-ssn')`);
      const row = await t.prisma.user.findUnique({ where: { id: 'legacy' } });
      expect(row).toMatchObject({ email: 'legacy@example.com', ssn: 'legacy-ssn' });
      expect(reports).toEqual([{ model: 'User', fields: ['email', 'ssn'], id: { id: 'legacy' } }]);
      await t.prisma.user.update({ where: { id: 'legacy' }, data: { name: 'migrated' } });
      // A non-encrypted change does not reseal; an encrypted one seals every column.
      await t.prisma.user.update({ where: { id: 'legacy' }, data: { email: 'legacy@example.com' } });
      const [stored] = await t.sql(`SELECT email, ssn_enc, fs_header FROM $S.users WHERE id = 'legacy'`);
      expect(stored.email).toMatch(/^fs1\./);
      expect(stored.ssn_enc).toMatch(/^fs1\./);
      expect(stored.fs_header).toMatch(/^fs1h\./);
      reports.length = 0;
      expect((await t.prisma.user.findUnique({ where: { id: 'legacy' } }))!.ssn).toBe('legacy-ssn');
      expect(reports).toEqual([]);
      expect(t.prisma.$fieldseal.mode).toBe('migration');
    } finally {
      await t.close();
    }
  });
});
