import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportKeychainSync, generateKey, makeKeychainSync, encryptStringSync } from '@47ng/cloak';
import { inspect, LocalKeyring, openRow, sealRow, type LocalKeyFile } from '@fieldseal/core';
import { CloakImportError, CloakKeychain, countRowValues, FileCheckpointStore, PostgresRowStore, rowRotation, runRotation, type RecordTransform } from '@fieldseal/rotation';
import type { Client } from 'pg';
import { keyrings } from './helpers/data.js';
import { openTestDatabase, uniqueTable, type TestDatabase } from '../../../test/helpers/postgres.js';
import { plaintextLeft, plainUser, readUsers, states, USERS_DDL, usersLayout } from './helpers/rows.js';

let db: TestDatabase;
let admin: Client;
let dir: string;
const tables: string[] = [];
const layout = usersLayout();

beforeAll(async () => {
  db = await openTestDatabase();
  admin = await db.connect();
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-rows-pg-'));
});
afterAll(async () => {
  for (const t of tables) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
  await admin.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
});

async function usersTable(count: number): Promise<string> {
  const table = uniqueTable('rows');
  tables.push(table);
  await admin.query(USERS_DDL(table));
  const users = Array.from({ length: count }, (_, i) => plainUser(i + 1));
  await admin.query(`INSERT INTO "${table}" (id, tenant_id, email, ssn, plan) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`, [users.map((u) => u.id), users.map((u) => u.tenant_id), users.map((u) => u.email), users.map((u) => u.ssn), users.map((u) => u.plan)]);
  return table;
}

/** Store a row sealed by the library, as an application would (its id as the number the app holds). */
async function writeSealed(table: string, i: number, keyring: LocalKeyring, version = 0): Promise<void> {
  const u = plainUser(i, version);
  const sealed = await sealRow({ ...u, id: i }, layout, { keyring });
  await admin.query(`UPDATE "${table}" SET email = $2, ssn = $3, fieldseal = $4, tenant_id = $5 WHERE id = $1`, [i, sealed.email, sealed.ssn, sealed.fieldseal, u.tenant_id]);
}

function onlyNewest(k: LocalKeyring): LocalKeyring {
  const file = k.exportKeyFile();
  return LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((e) => e.version === file.primary) } as LocalKeyFile);
}

const store = (table: string) => new PostgresRowStore({ connectionString: db.url, table, layout });

describe('PostgresRowStore and row jobs', () => {
  test('seal in place: plaintext and mixed rows sealed, sealed and empty rows left alone, every row opens in the library, no plaintext left (SQL)', async () => {
    const { v1 } = await keyrings();
    const table = await usersTable(60);
    for (const i of [3, 4, 5]) await writeSealed(table, i, v1);
    // Mixed: a sealed row whose email the application then wrote in plaintext.
    await writeSealed(table, 6, v1);
    await admin.query(`UPDATE "${table}" SET email = 'mixed6@example.com' WHERE id = 6`);
    await admin.query(`UPDATE "${table}" SET email = NULL, ssn = NULL WHERE id = 7`);
    expect(states(await readUsers(admin, table), layout)).toEqual({ plaintext: 55, sealed: 3, mixed: 1, empty: 1 });
    expect(await countRowValues({ connectionString: db.url, table, layout })).toMatchObject({ rows: 60, sealedRows: 4, plaintextRows: 56 });

    const report = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'seal', layout, keyring: v1 })), mode: 'seal', checkpoint: new FileCheckpointStore(join(dir, `${table}.json`)), batchSize: 7 });
    expect(report).toMatchObject({ complete: true, scanned: 60, rotated: 56, skipped: 4, failed: 0, conflicts: 0, skippedByReason: { 'already-sealed': 3, empty: 1 } });

    const rows = await readUsers(admin, table);
    expect(states(rows, layout)).toEqual({ sealed: 59, empty: 1 });
    expect(await plaintextLeft(admin, table)).toBe(0);
    expect(await countRowValues({ connectionString: db.url, table, layout })).toMatchObject({ plaintextValues: 0, plaintextRows: 0, cloakValues: 0 });
    for (const r of rows) {
      const i = Number(r.id);
      const opened = await openRow(r, layout, { keyring: v1 });
      const want = plainUser(i);
      if (i === 7) expect(opened).toMatchObject({ email: null, ssn: null });
      else expect(opened).toMatchObject({ email: i === 6 ? 'mixed6@example.com' : want.email, ssn: want.ssn, plan: want.plan });
    }
    // A ciphertext copied to another row does not open there (the id is bound).
    const [a, b] = rows.filter((r) => r.ssn !== null);
    await expect(openRow({ ...b!, ssn: a!.ssn }, layout, { keyring: v1 })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
  });

  test('compare-and-swap: a row the application changes (a column, the header or the tenant) between read and write is never overwritten; the next pass seals it', async () => {
    const { v1 } = await keyrings();
    const table = await usersTable(30);
    const job = await rowRotation({ mode: 'seal', layout, keyring: v1 });
    let wrote = false;
    // The application's writes land while the batch holding rows 11-20 is being transformed.
    const transform: RecordTransform = async (doc, record) => {
      if (record.id === '12' && !wrote) {
        wrote = true;
        await admin.query(`UPDATE "${table}" SET email = 'app-wrote-12@example.com' WHERE id = 12`);
        await admin.query(`UPDATE "${table}" SET tenant_id = 't9' WHERE id = 13`);
        await admin.query(`UPDATE "${table}" SET ssn = NULL WHERE id = 14`);
        await writeSealed(table, 15, v1, 1);
      }
      return job.transform(doc, record);
    };
    const report = await runRotation({ store: store(table), ...job, transform, batchSize: 10 });
    expect(report).toMatchObject({ complete: true, rotated: 26, conflicts: 4, failed: 0 });
    expect(report.conflictRecords.sort()).toEqual(['12', '13', '14', '15']);
    let rows = await readUsers(admin, table);
    expect(rows.find((r) => r.id === '12')).toMatchObject({ email: 'app-wrote-12@example.com', fieldseal: null });
    expect(await countRowValues({ connectionString: db.url, table, layout })).toMatchObject({ plaintextRows: 3 });

    const again = await runRotation({ store: store(table), ...job, batchSize: 10 });
    expect(again).toMatchObject({ complete: true, rotated: 3, skipped: 27, conflicts: 0 });
    expect(await openRow((await readUsers(admin, table)).find((r) => r.id === '15')!, layout, { keyring: v1 })).toMatchObject({ email: plainUser(15, 1).email });
    rows = await readUsers(admin, table);
    expect(await plaintextLeft(admin, table)).toBe(0);
    expect(await openRow(rows.find((r) => r.id === '12')!, layout, { keyring: v1 })).toMatchObject({ email: 'app-wrote-12@example.com' });
    expect(await openRow(rows.find((r) => r.id === '13')!, layout, { keyring: v1 })).toMatchObject({ tenant_id: 't9' });
    expect(await openRow(rows.find((r) => r.id === '14')!, layout, { keyring: v1 })).toMatchObject({ ssn: null });
  });

  test('rows sealed by sealRow are rewrapped (field ciphertexts untouched), re-encrypted and unsealed; shards split the work', async () => {
    const { v1, v2 } = await keyrings();
    const table = await usersTable(24);
    for (let i = 1; i <= 24; i++) await writeSealed(table, i, v1);
    const before = await readUsers(admin, table);

    for (let s = 0; s < 2; s++) {
      const r = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'rewrap', layout, keyring: v2 })), shard: { index: s, count: 2 }, batchSize: 5 });
      expect(r).toMatchObject({ complete: true, failed: 0, conflicts: 0 });
    }
    let rows = await readUsers(admin, table);
    const newest = onlyNewest(v2);
    rows.forEach((r, k) => {
      expect([r.email, r.ssn]).toEqual([before[k]!.email, before[k]!.ssn]);
      expect(inspect({ _fieldseal: r.fieldseal! }).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: expect.stringMatching(/^main\/[A-Za-z0-9_-]{11}\/v2$/) }]);
    });
    for (const r of rows) expect(await openRow(r, layout, { keyring: newest })).toMatchObject({ email: plainUser(Number(r.id)).email });
    const current = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'rewrap', layout, keyring: v2 })) });
    expect(current).toMatchObject({ rotated: 0, skippedByReason: { 'already-current': 24 } });

    const re = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'reencrypt', layout, keyring: v2 })), batchSize: 8 });
    expect(re).toMatchObject({ complete: true, rotated: 24, failed: 0 });
    rows = await readUsers(admin, table);
    rows.forEach((r, k) => expect(r.email).not.toBe(before[k]!.email));
    for (const r of rows) expect(await openRow(r, layout, { keyring: newest })).toMatchObject({ email: plainUser(Number(r.id)).email, ssn: plainUser(Number(r.id)).ssn });

    const un = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'unseal', layout, keyring: v2 })), mode: 'unseal', batchSize: 8 });
    expect(un).toMatchObject({ complete: true, rotated: 24, failed: 0 });
    rows = await readUsers(admin, table);
    for (const r of rows) expect(r).toMatchObject({ email: plainUser(Number(r.id)).email, ssn: plainUser(Number(r.id)).ssn, fieldseal: null });
    expect(await countRowValues({ connectionString: db.url, table, layout })).toMatchObject({ sealedValues: 0, sealedRows: 0 });
  });

  test('rewrap to a target keyring that unwraps to another data key: every row fails verification and the table is left as it was', async () => {
    const { v1, v2 } = await keyrings();
    const table = await usersTable(12);
    for (let i = 1; i <= 12; i++) await writeSealed(table, i, v1);
    const before = await readUsers(admin, table);
    // Wraps as v2 does, but its unwrap answers a random key: a faulty or hostile target.
    const lying = { wrap: v2.wrap.bind(v2), unwrap: async () => crypto.getRandomValues(new Uint8Array(32)) };
    const r = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'rewrap', layout, keyring: v2, to: lying })), batchSize: 5 });
    expect(r).toMatchObject({ complete: true, rotated: 0, failed: 12, failedByReason: { ERR_FIELDSEAL_ROTATION_VERIFY: 12 } });
    expect(await readUsers(admin, table)).toEqual(before);
  });

  test('a tampered row (ciphertext moved from another row) fails, is reported by id and left exactly as it was', async () => {
    const { v1, v2 } = await keyrings();
    const table = await usersTable(6);
    for (let i = 1; i <= 6; i++) await writeSealed(table, i, v1);
    await admin.query(`UPDATE "${table}" SET email = (SELECT email FROM "${table}" WHERE id = 2) WHERE id = 3`);
    const before = await readUsers(admin, table);
    const r = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'reencrypt', layout, keyring: v2 })) });
    expect(r).toMatchObject({ complete: true, rotated: 5, failed: 1, failedRecords: [{ id: '3', reason: 'ERR_FIELDSEAL_DECRYPTION_FAILED' }] });
    expect((await readUsers(admin, table)).find((x) => x.id === '3')).toEqual(before.find((x) => x.id === '3'));
  });

  test('import-cloak: values written by the real @47ng/cloak under several keys become fieldseal ciphertext; unknown fingerprints, tampered and non-cloak values are reported by id, their rows untouched; keys appear in no message', async () => {
    const { v1 } = await keyrings();
    const current = generateKey();
    const old = generateKey();
    const unknown = generateKey();
    const unpadded = generateKey().replace(/=$/, '');
    const table = await usersTable(20);
    const keyOf = (i: number) => (i === 4 ? unknown : i % 3 === 0 ? old : i === 8 ? unpadded : current);
    for (let i = 1; i <= 20; i++) {
      const u = plainUser(i);
      const k = keyOf(i);
      await admin.query(`UPDATE "${table}" SET email = $2, ssn = $3 WHERE id = $1`, [i, encryptStringSync(i === 11 ? '' : u.email, k), u.ssn === null ? null : encryptStringSync(i === 12 ? `${u.ssn} 🔐 ${'x'.repeat(3000)}` : u.ssn, k)]);
    }
    // Tampered tag (row 6), a non-cloak plaintext value (row 7).
    await admin.query(`UPDATE "${table}" SET email = overlay(email placing (CASE WHEN right(email, 3) = 'AAA' THEN 'BBB' ELSE 'AAA' END) from length(email) - 4 for 3) WHERE id = 6`);
    await admin.query(`UPDATE "${table}" SET ssn = 'plain-7' WHERE id = 7`);
    const before = await readUsers(admin, table);

    const masterKey = generateKey();
    const env = { CLOAK_MASTER_KEY: masterKey, CLOAK_KEYCHAIN: exportKeychainSync(makeKeychainSync([old]), masterKey), PRISMA_FIELD_ENCRYPTION_KEY: current, PRISMA_FIELD_DECRYPTION_KEYS: unpadded };
    const cloak = CloakKeychain.fromEnv(env);
    const report = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'import-cloak', layout, keyring: v1, cloak })), mode: 'import-cloak', batchSize: 6 });
    expect(report).toMatchObject({ complete: true, rotated: 17, failed: 3 });
    expect(report.failedRecords).toEqual([
      { id: '4', reason: 'ERR_FIELDSEAL_ROTATION_CLOAK:unknown-key' },
      { id: '6', reason: 'ERR_FIELDSEAL_ROTATION_CLOAK:authentication' },
      { id: '7', reason: 'ERR_FIELDSEAL_ROTATION_CLOAK:not-cloak' },
    ]);
    const rows = await readUsers(admin, table);
    for (const r of rows) {
      const i = Number(r.id);
      if ([4, 6, 7].includes(i)) {
        expect(r).toEqual(before.find((b) => b.id === r.id));
        continue;
      }
      const want = plainUser(i);
      expect(await openRow(r, layout, { keyring: v1 })).toMatchObject({ email: i === 11 ? '' : want.email, ssn: want.ssn === null ? null : i === 12 ? `${want.ssn} 🔐 ${'x'.repeat(3000)}` : want.ssn });
    }
    expect(await countRowValues({ connectionString: db.url, table, layout })).toMatchObject({ cloakValues: 5, plaintextValues: 6 });
    // Key material never appears in what the job or the keychain says.
    const text = JSON.stringify(report);
    for (const k of [current, old, unknown, unpadded, masterKey]) {
      expect(text).not.toContain(k.slice(13, 40));
    }
    for (const bad of ['v1.aesgcm256.zzzz.a.b', 'v1.aesgcm256.00000000.AAAA.AAAA', `v1.aesgcm256.${'0'.repeat(8)}.${'A'.repeat(16)}.${'A'.repeat(24)}`, 'fs1.x']) {
      let caught: unknown;
      try {
        cloak.decrypt(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CloakImportError);
      for (const k of [current, old, unpadded, masterKey]) expect(String((caught as Error).message)).not.toContain(k.slice(13, 40));
    }
    expect(() => CloakKeychain.fromEnv({ CLOAK_MASTER_KEY: generateKey(), CLOAK_KEYCHAIN: env.CLOAK_KEYCHAIN })).toThrow(/does not open/);
    expect(() => CloakKeychain.fromEnv({})).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => CloakKeychain.fromEnv({ PRISMA_FIELD_ENCRYPTION_KEY: `${current.slice(0, -3)}!!=` })).toThrow(expect.not.stringContaining(current.slice(13, 30)));
  });

  test('seal refuses to seal cloak ciphertext as if it were plaintext', async () => {
    const { v1 } = await keyrings();
    const table = await usersTable(3);
    await admin.query(`UPDATE "${table}" SET email = $1 WHERE id = 2`, [encryptStringSync('a@example.com', generateKey())]);
    const r = await runRotation({ store: store(table), ...(await rowRotation({ mode: 'seal', layout, keyring: v1 })) });
    expect(r).toMatchObject({ rotated: 2, failed: 1, failedRecords: [{ id: '2', reason: 'ERR_FIELDSEAL_ROTATION_CLOAK:cloak-value' }] });
  });

  test('the store checks the table: text columns, a unique id', async () => {
    const { v1 } = await keyrings();
    const table = uniqueTable('rows_bad');
    tables.push(table);
    await admin.query(`CREATE TABLE "${table}" (id bigint, tenant_id text, email text, ssn integer)`);
    const job = await rowRotation({ mode: 'seal', layout, keyring: v1 });
    await expect(runRotation({ store: store(table), ...job })).rejects.toThrow(/ssn is integer/);
    await admin.query(`ALTER TABLE "${table}" ALTER COLUMN ssn TYPE text`);
    await expect(runRotation({ store: store(table), ...job })).rejects.toThrow(/ADD COLUMN "fieldseal" text/);
    await admin.query(`ALTER TABLE "${table}" ADD COLUMN fieldseal text`);
    await expect(runRotation({ store: store(table), ...job })).rejects.toThrow(/primary key or unique index/);
    expect(() => new PostgresRowStore({ connectionString: db.url, table: 'x; drop', layout })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });
});
