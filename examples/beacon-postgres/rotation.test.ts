import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Client } from 'pg';
import { BeaconIndex, BeaconKey, decrypt, encrypt, LocalKeyring, updateBeacons, verifyBeacons, type BeaconFieldOptions, type JsonObject } from '@fieldseal/core';
import { runRotation, PostgresStore } from '@fieldseal/rotation';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';

// Beacon key rotation through the rotation engine against PostgreSQL: the beacon lives in the sealed
// document (jsonb, GIN-indexed), b1 -> dual b2+b1 -> b2, with lookups working at every stage and the
// field ciphertexts never touched.
const email: BeaconFieldOptions = { path: '$.email', normalize: 'email', bits: 5, distinctValues: 150 };
const ROWS = 200;

describe('beacon key rotation with @fieldseal/rotation over PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;
  const table = `beacon_rotation_${process.pid}_${Date.now().toString(36)}`;
  const rowContext = (record: { id: string }) => ({ rowId: record.id });

  beforeAll(async () => {
    db = await openTestDatabase();
    client = await db.connect();
  }, 120_000);

  afterAll(async () => {
    await client?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await client?.end();
    await db?.stop();
  });

  test('b1 -> b2 stored, b1+b2 queried -> b2: every stage finds exactly the matching rows; ciphertexts and headers unchanged', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const b1 = (await BeaconKey.generate({ keyring, id: 'b1' })).key;
    const b2 = (await BeaconKey.generate({ keyring, id: 'b2' })).key;
    const only1 = new BeaconIndex({ keys: b1, fields: { email } });
    const dual = new BeaconIndex({ keys: [b2, b1], fields: { email } });
    const only2 = new BeaconIndex({ keys: b2, fields: { email } });
    const emailOf = (id: number) => `person${id % 150}@example.com`; // 150 distinct, some repeated

    await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, doc jsonb NOT NULL)`);
    await client.query(`CREATE INDEX ${table}_bidx ON ${table} USING gin ((doc->'email_bidx'))`);
    for (let id = 0; id < ROWS; id++) {
      const sealed = await encrypt({ id, email: emailOf(id) }, { keyring, paths: ['$.email'], beacons: only1, requiredContext: { rowId: String(id) } });
      await client.query(`INSERT INTO ${table} (id, doc) VALUES ($1, $2)`, [id, JSON.stringify(sealed)]);
    }
    const snapshot = async () => new Map((await client.query<{ id: number; doc: JsonObject }>(`SELECT id, doc FROM ${table}`)).rows.map((r) => [r.id, r.doc]));
    const before = await snapshot();

    // A lookup: candidates by beacon (string or array member), decrypt, compare.
    const lookup = async (index: BeaconIndex, value: string) => {
      const res = await client.query<{ id: number; doc: JsonObject }>(`SELECT id, doc FROM ${table} WHERE doc->'email_bidx' ?| $1::text[] ORDER BY id`, [await index.beacons('email', value)]);
      const found: number[] = [];
      for (const row of res.rows) {
        const opened = await decrypt(row.doc, { keyring, context: { rowId: String(row.id) } });
        if (index.equals('email', opened.email as string, value)) found.push(row.id);
      }
      return found;
    };
    const expectedIds = (value: string) => Array.from({ length: ROWS }, (_, id) => id).filter((id) => emailOf(id) === value);
    const probes = ['person0@example.com', 'PERSON7@example.com ', 'person149@example.com'];
    const checkLookups = async (index: BeaconIndex) => {
      for (const p of probes) expect(await lookup(index, p)).toEqual(expectedIds(p.trim().toLowerCase()));
    };

    await checkLookups(only1);
    // Transition starts: queries use both keys before any row is backfilled.
    await checkLookups(dual);

    const transform = (index: BeaconIndex) => (doc: JsonObject, record: { id: string }) => updateBeacons(doc, { keyring, index, context: rowContext(record) });
    const store = () => new PostgresStore({ client, table, column: 'doc' });

    const r1 = await runRotation({ store: store(), transform: transform(dual), batchSize: 64 });
    expect(r1).toMatchObject({ scanned: ROWS, rotated: ROWS, failed: 0, complete: true });
    const mid = await snapshot();
    for (const [id, doc] of mid) {
      // One beacon per row, under the new key: two stored together would leak like one twice as long.
      expect(doc.email_bidx).toBe(await dual.beacon('email', emailOf(id)));
      // Only the beacon member changed: same ciphertext, same header.
      expect(doc.email).toBe(before.get(id)!.email);
      expect(doc._fieldseal).toEqual(before.get(id)!._fieldseal);
      expect((await verifyBeacons(await decrypt(doc, { keyring, context: { rowId: String(id) } }), dual)).valid).toBe(true);
    }
    await checkLookups(dual);

    // Running the same step again changes nothing.
    const again = await runRotation({ store: store(), transform: transform(dual), batchSize: 64 });
    expect(again.rotated).toBe(0);

    // Finish: new key only. The backfill already stored the new beacons, so nothing changes.
    const r2 = await runRotation({ store: store(), transform: transform(only2), batchSize: 64 });
    expect(r2).toMatchObject({ scanned: ROWS, rotated: 0, failed: 0, complete: true });
    await checkLookups(only2);
    for (const [id, doc] of await snapshot()) {
      expect(doc.email_bidx).toBe(await only2.beacon('email', emailOf(id)));
      expect(doc.email).toBe(before.get(id)!.email);
    }
    // The old beacons are gone: a b1 query finds nothing.
    const old = await client.query(`SELECT count(*)::int AS n FROM ${table} WHERE doc->'email_bidx' ?| $1::text[]`, [[await only1.beacon('email', probes[0]!)]]);
    expect(old.rows[0].n).toBe(0);
  });
});
