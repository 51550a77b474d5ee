// The @fieldseal/prisma benchmark: the same Prisma queries with and without the extension, in the
// same run, on the same PostgreSQL server. Bundled and run by benchmarks/prisma.mjs.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { CachingKeyring, LocalKeyring } from '@fieldseal/core';
import { fieldseal } from '@fieldseal/prisma';
import { PrismaClient } from '../../examples/prisma/generated/client.js';

export interface PrismaBenchResult {
  readonly rows: number;
  readonly rounds: number;
  /** Median milliseconds of one whole workload (all rows), per subject. */
  readonly createPlainMs: number;
  readonly createSealedMs: number;
  readonly findManyPlainMs: number;
  readonly findManySealedMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runPrismaBench({ url, rows = 1000, rounds = 5 }: { url: string; rows?: number; rounds?: number }): Promise<PrismaBenchResult> {
  const schema = `fieldseal_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}";
    CREATE TABLE "${schema}".customers (id text PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, email text, email_bidx text, ssn text, fieldseal text);
    CREATE TABLE "${schema}".orders (id text PRIMARY KEY, customer_id text NOT NULL, total int NOT NULL, address text, fieldseal text);`);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 4 }, { schema }) });
  // The ORM deployment: a data-key cache in front of the KEK (here a local key).
  const keyring = new CachingKeyring({ keyring: await LocalKeyring.generate({ name: 'bench' }) });
  const sealed = base.$extends(fieldseal({ keyring, models: { Customer: { fields: ['email', 'ssn'], header: 'fieldseal', context: { tenant: 'tenantId' }, generateId: 'uuid' } } }));
  const data = (i: number) => ({ id: `${i}-${randomBytes(6).toString('hex')}`, tenantId: 'acme', name: `customer ${i}`, email: `customer${i}@example.com`, ssn: `078-05-${String(i % 10_000).padStart(4, '0')}` });
  const time = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const createRows = async (client: typeof base | typeof sealed) => {
    for (let i = 0; i < rows; i++) await (client as typeof base).customer.create({ data: data(i) });
  };
  try {
    // Warm-up: connections, query compiler, JIT, the data-key cache.
    await createRows(base);
    await createRows(sealed);
    await base.customer.findMany();
    await sealed.customer.findMany({ where: { name: { startsWith: 'x' } } });
    await admin.query(`TRUNCATE "${schema}".customers`);
    const create = { plain: [] as number[], sealed: [] as number[] };
    const find = { plain: [] as number[], sealed: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so drift favours neither subject.
      for (const which of r % 2 ? (['sealed', 'plain'] as const) : (['plain', 'sealed'] as const)) {
        await admin.query(`TRUNCATE "${schema}".customers`);
        create[which].push(await time(() => createRows(which === 'plain' ? base : sealed)));
      }
    }
    // findMany of the same sealed rows: without the extension it returns the ciphertext as is.
    await admin.query(`TRUNCATE "${schema}".customers`);
    await createRows(sealed);
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 ? (['sealed', 'plain'] as const) : (['plain', 'sealed'] as const)) {
        find[which].push(
          await time(async () => {
            const got = which === 'plain' ? await base.customer.findMany() : await sealed.customer.findMany();
            if (got.length !== rows) throw new Error(`findMany returned ${got.length} rows`);
          }),
        );
      }
    }
    return { rows, rounds, createPlainMs: median(create.plain), createSealedMs: median(create.sealed), findManyPlainMs: median(find.plain), findManySealedMs: median(find.sealed) };
  } finally {
    await base.$disconnect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}
