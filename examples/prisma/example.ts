// @fieldseal/prisma in one file: a Prisma 7 client (prisma-client generator, @prisma/adapter-pg)
// whose Customer.email, Customer.ssn and Order.address are sealed on every write and opened on
// every read, with equality search on email through a beacon.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { BeaconIndex, BeaconKey, LocalKeyring, type FieldsealError } from '@fieldseal/core';
import { assertActive, fieldseal } from '@fieldseal/prisma';
import { PrismaClient } from './generated/client.js';

export interface ExampleResult {
  readonly stored: Record<string, unknown>;
  readonly read: { email: string | null; ssn: string | null; orders: { address: string | null }[] };
  readonly found: string[];
  readonly refused: string;
}

export async function runPrismaExample({ url, log = () => {} }: { url: string; log?: (line: string) => void }): Promise<ExampleResult> {
  // A schema of its own, so the example can run next to anything else in the database.
  const schema = `fieldseal_example_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}";
    CREATE TABLE "${schema}".customers (id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, email text, email_bidx text, ssn text, fieldseal text);
    CREATE INDEX ON "${schema}".customers (email_bidx);
    CREATE TABLE "${schema}".orders (id text PRIMARY KEY, customer_id text NOT NULL REFERENCES "${schema}".customers(id), total int NOT NULL, address text, fieldseal text);`);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }, { schema }) });
  try {
    // 1. Keys. In an application: LocalKeyring.fromKeyFile(...) or a KMS keyring, and the beacon
    //    key document loaded from storage with BeaconKey.load(...).
    const keyring = await LocalKeyring.generate({ name: 'example' });
    const { key } = await BeaconKey.generate({ keyring, id: 'b1' });
    const beacons = new BeaconIndex({ keys: key, fields: { 'Customer.email': { bits: 12, distinctValues: 100_000, normalize: 'email' } } });

    // 2. The extension. Keep the client $extends returns: the base client stays unencrypted.
    const prisma = base.$extends(
      fieldseal({
        keyring,
        beacons,
        models: {
          Customer: { fields: { email: { beacon: 'emailBidx' }, ssn: {} }, header: 'fieldseal', context: { tenant: 'tenantId' }, generateId: 'uuid' },
          Order: { fields: ['address'], header: 'fieldseal', generateId: 'uuid' },
        },
      }),
    );
    assertActive(prisma);

    // 3. Ordinary Prisma calls.
    const ada = await prisma.customer.create({
      data: { tenantId: 'acme', name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120', orders: { create: [{ total: 1200, address: '12 Analytical Row' }] } },
    });
    await prisma.customer.create({ data: { tenantId: 'acme', name: 'Grace', email: 'grace@example.com', ssn: '219-09-9999' } });
    const [stored] = (await admin.query(`SELECT email, email_bidx, ssn, fieldseal FROM "${schema}".customers WHERE id = $1`, [ada.id])).rows;
    log(`in the database: email=${String(stored.email).slice(0, 24)}…  email_bidx=${stored.email_bidx}  header=${String(stored.fieldseal).slice(0, 16)}…`);

    const read = await prisma.customer.findUniqueOrThrow({ where: { id: ada.id }, select: { email: true, ssn: true, orders: { select: { address: true } } } });
    log(`through the extension: ${read.email}, ${read.ssn}, ships to ${read.orders[0]!.address}`);

    const found = await prisma.customer.findMany({ where: { email: 'ADA@example.com' } });
    log(`findMany({ where: { email } }) through the beacon: ${found.map((c) => c.name).join(', ')}`);

    let refused = '';
    try {
      await prisma.customer.findMany({ where: { email: { contains: 'example' } } });
    } catch (err) {
      refused = (err as FieldsealError).code;
      log(`findMany({ where: { email: { contains } } }) is refused: ${refused}`);
    }
    return { stored, read, found: found.map((c) => c.name), refused };
  } finally {
    await base.$disconnect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}
