// What a Drizzle application does with @fieldseal/drizzle, from keys to queries.
import { asc, eq, like, sql } from 'drizzle-orm';
import { BeaconIndex, BeaconKey, FieldsealError, LocalKeyring } from '@fieldseal/core';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { withFieldseal } from '@fieldseal/drizzle';
import { DDL, notes, schema, users } from './schema.js';

export interface ExampleOptions {
  /** A PostgreSQL connection string; without one, an in-memory PGlite (no server needed). */
  readonly databaseUrl?: string;
  readonly log?: (line: string) => void;
}

export interface ExampleResult {
  readonly driver: string;
  /** Rows as the database stores them (to check that no plaintext is there). */
  readonly stored: Record<string, unknown>[];
  readonly found: { name: string; email: string | null }[];
  readonly withNotes: { name: string; notes: { title: string; body: string | null }[] }[];
  readonly updatedEmail: string | null;
  readonly refusedCode: string | undefined;
}

/** Either driver, as the one type Drizzle's PostgreSQL databases share. */
type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

async function open(databaseUrl: string | undefined): Promise<{ driver: string; db: Database; close: () => Promise<void>; cleanUp: () => Promise<void> }> {
  if (databaseUrl === undefined) {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const client = new PGlite();
    await client.exec(DDL);
    return { driver: 'PGlite (in memory)', db: drizzle({ client, schema }), close: () => client.close(), cleanUp: async () => {} };
  }
  const { Client } = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  // A schema of its own, so the example never touches your tables (and runs beside itself).
  const name = `fieldseal_example_${Math.random().toString(36).slice(2, 10)}`;
  await client.query(`create schema ${name}; set search_path to ${name}`);
  await client.query(DDL);
  return {
    driver: 'PostgreSQL',
    db: drizzle({ client, schema }),
    close: () => client.end(),
    cleanUp: async () => void (await client.query(`drop schema ${name} cascade`)),
  };
}

export async function runDrizzleExample(options: ExampleOptions = {}): Promise<ExampleResult> {
  const log = options.log ?? (() => {});
  // 1. Keys. A real application loads key files (`npx fieldseal keygen --out keys.json`) or uses a
  //    KMS keyring; the example makes throwaway ones.
  const keyring = await LocalKeyring.generate({ name: 'contact' });
  const restricted = await LocalKeyring.generate({ name: 'restricted' });
  const { key: beaconKey } = await BeaconKey.generate({ keyring, id: 'b1' });
  const beacons = new BeaconIndex({ keys: beaconKey, fields: { email: { normalize: 'email', bits: 8, distinctValues: 10_000 } } });

  // 2. The database, wrapped once. Use `db` as usual from here on.
  const { driver, db: bare, close, cleanUp } = await open(options.databaseUrl);
  const db = withFieldseal(bare, { keyring, keyrings: { restricted }, beacons });
  log(`database: ${driver}`);
  try {
    // 3. Writes: values are sealed before they leave the process.
    const [ada] = await db.insert(users).values({ tenantId: 'acme', name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120', birthday: new Date('1815-12-10') }).returning();
    await db.insert(users).values([
      { tenantId: 'acme', name: 'Grace', email: 'grace@example.com' },
      { tenantId: 'globex', name: 'Linus', email: null },
    ]);
    await db.insert(notes).values([
      { userId: ada!.id, title: 'engine', body: 'notes on the analytical engine' },
      { userId: ada!.id, title: 'empty', body: null },
    ]);
    log(`inserted ${ada!.name}: returning() gives back plaintext (email ${ada!.email}, birthday a ${ada!.birthday?.constructor.name})`);

    // 4. What the database holds: ciphertext, a header, a beacon.
    // (both drivers return { rows }; Drizzle's shared type does not say so)
    const stored = ((await db.execute(sql`select * from ${users} order by ${users.id}`)) as unknown as { rows: Record<string, unknown>[] }).rows;
    log(`stored email column: ${String(stored[0]!.email).slice(0, 24)}… (${String(stored[0]!.email).length} chars), beacon ${String(stored[0]!.email_bidx)}`);

    // 5. Reads: eq() on an encrypted column is a beacon lookup; relational queries open nested rows.
    const found = await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.email, 'ADA@example.com'));
    log(`lookup by email (any case): ${found.map((r) => r.name).join(', ')}`);
    const withNotes = await db.query.users.findMany({
      columns: { name: true },
      with: { notes: { columns: { title: true, body: true }, orderBy: (n, { asc: a }) => [a(n.title)] } },
      orderBy: (u, { asc: a }) => [a(u.id)],
    });
    log(`findMany with notes: ${withNotes.map((u) => `${u.name} (${u.notes.length} notes)`).join(', ')}`);

    // 6. Updates of encrypted columns reseal the row in a transaction.
    const [updated] = await db.update(users).set({ email: 'ada.lovelace@example.com' }).where(eq(users.id, ada!.id)).returning({ email: users.email });
    log(`updated email, read back through returning(): ${updated!.email}`);

    // 7. Queries that cannot work on ciphertext are refused before they reach the database.
    let refusedCode: string | undefined;
    try {
      await db.select().from(users).where(like(users.email, '%@example.com')).orderBy(asc(users.name));
    } catch (err) {
      if (!(err instanceof FieldsealError)) throw err;
      refusedCode = err.code;
      log(`like() on an encrypted column: refused with ${err.code}`);
    }
    await db.delete(notes).where(eq(notes.userId, ada!.id));
    return { driver, stored, found, withNotes, updatedEmail: updated!.email, refusedCode };
  } finally {
    await cleanUp();
    await close();
  }
}
