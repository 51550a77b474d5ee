import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, test } from 'vitest';
import { alias } from 'drizzle-orm/pg-core';
import { and, asc, count, desc, eq, gt, ilike, inArray, isNotNull, isNull, like, max, ne, not, or, sql } from 'drizzle-orm';
import { FieldsealError, LocalKeyring } from '@fieldseal/core';
import { withFieldseal, type FieldsealDatabase } from '@fieldseal/drizzle';
import { counters, drivers, makeKeys, posts, schema, schemaName, tags, users, type Driver, type Keys } from './helpers/fixture.js';

const SECRETS = ['ada@example.com', 'ADA@EXAMPLE.COM', '078-05-1120', '1815-12-10', 'dark', 'grace@example.com', '123-45-6789', 'a secret body', 'linus@example.com', 'new@example.com'];

async function refused(p: unknown, column?: string): Promise<FieldsealError> {
  const err = await (async () => p)().then(
    (v) => {
      // Awaiting a refused query builder must reject; a value means it ran.
      throw new Error(`expected a refusal, got ${JSON.stringify(v)?.slice(0, 80)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FieldsealError);
  expect((err as FieldsealError).code).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  if (column !== undefined) expect((err as { field?: string }).field).toBe(column);
  return err as FieldsealError;
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  return (err as FieldsealError).code;
}

describe.each(drivers)('@fieldseal/drizzle on %s', (_name, openDriver) => {
  let d: Driver;
  let k: Keys;
  let db: FieldsealDatabase<any>;
  const T = (t: string) => `${schemaName}.${t}`;

  /** Every row of the schema as the database holds it: no plaintext may appear. */
  async function assertNoPlaintext(): Promise<void> {
    const text = JSON.stringify([await d.query(`select * from ${T('users')}`), await d.query(`select * from ${T('posts')}`)]);
    for (const s of SECRETS) expect(text).not.toContain(s);
    for (const row of await d.query(`select email, ssn, born, prefs, fieldseal from ${T('users')}`)) {
      for (const c of ['email', 'ssn', 'born', 'prefs']) if (row[c] !== null) expect(row[c]).toMatch(/^fs1\./);
      if (row.email !== null) expect(row.fieldseal).toMatch(/^fs1h\./);
    }
  }

  async function seed() {
    const [ada] = await db.insert(users).values({ tenantId: 'acme', email: 'ada@example.com', ssn: '078-05-1120', born: new Date('1815-12-10T00:00:00.000Z'), prefs: { theme: 'dark', n: 1 }, plan: 'pro' }).returning();
    const many = await db.insert(users).values([
      { tenantId: 'acme', email: 'grace@example.com', ssn: '123-45-6789', plan: 'free' },
      { tenantId: 'globex', email: 'linus@example.com', plan: 'pro' },
      { tenantId: 'globex', email: null, plan: 'free' },
    ]).returning({ id: users.id, email: users.email });
    await db.insert(posts).values([
      { userId: ada.id, title: 'first', body: 'a secret body' },
      { userId: ada.id, title: 'second', body: null },
    ]);
    return { ada, grace: many[0]!, linus: many[1]!, nobody: many[2]! };
  }

  beforeAll(async () => {
    d = await openDriver();
    k = await makeKeys();
    db = withFieldseal(d.db, k);
  });
  afterAll(() => d.close());
  beforeEach(async () => {
    await d.query(`delete from ${T('posts')}`);
    await d.query(`delete from ${T('users')}`);
  });

  test('insert … returning seals every encrypted column, returns plaintext with its type, stores none', async () => {
    const { ada, grace, nobody } = await seed();
    expect(ada).toMatchObject({ tenantId: 'acme', email: 'ada@example.com', ssn: '078-05-1120', prefs: { theme: 'dark', n: 1 }, plan: 'pro' });
    expect(ada.born).toBeInstanceOf(Date);
    expect(ada.born.toISOString()).toBe('1815-12-10T00:00:00.000Z');
    expect(typeof ada.id).toBe('number');
    expect(grace).toEqual({ id: grace.id, email: 'grace@example.com' });
    expect(nobody.email).toBeNull();
    await assertNoPlaintext();
    // The all-NULL row has no header; the others have one, and a beacon beside the email.
    const raw = await d.query(`select id, fieldseal, email_bidx from ${T('users')} order by id`);
    expect(raw.find((r) => r.id === nobody.id)).toMatchObject({ fieldseal: null, email_bidx: null });
    expect(raw.find((r) => r.id === ada.id)!.email_bidx).toMatch(/^b1:/);
  });

  test('types flow through: selected encrypted columns have their plaintext types', async () => {
    await seed();
    const typed = withFieldseal(d.db as import('drizzle-orm/pglite').PgliteDatabase<Record<string, never>>, k);
    const rows = await typed.select({ email: users.email, born: users.born, prefs: users.prefs }).from(users).where(eq(users.email, 'ada@example.com'));
    expectTypeOf(rows[0]!.email).toEqualTypeOf<string | null>();
    expectTypeOf(rows[0]!.born).toEqualTypeOf<Date | null>();
    expectTypeOf(rows[0]!.prefs).toEqualTypeOf<{ theme: string; n: number } | null>();
    expect(rows).toEqual([{ email: 'ada@example.com', born: new Date('1815-12-10T00:00:00.000Z'), prefs: { theme: 'dark', n: 1 } }]);
    const withSchema = withFieldseal(d.db as import('drizzle-orm/pglite').PgliteDatabase<typeof schema>, k);
    const found = await withSchema.query.users.findFirst({ columns: { email: true, born: true }, with: { posts: { columns: { body: true } } } });
    expectTypeOf(found!.email).toEqualTypeOf<string | null>();
    expectTypeOf(found!.born).toEqualTypeOf<Date | null>();
    expectTypeOf(found!.posts[0]!.body).toEqualTypeOf<string | null>();
    expect(found!.email).toBe('ada@example.com');
    const [inserted] = await withSchema.insert(users).values({ tenantId: 't', email: 'x@example.com' }).returning({ email: users.email });
    expectTypeOf(inserted!.email).toEqualTypeOf<string | null>();
    expectTypeOf(withSchema.$base).toEqualTypeOf<import('drizzle-orm/pglite').PgliteDatabase<typeof schema>>();
  });

  test('select: full rows, partial selects (without the header selected), nested selections, distinct', async () => {
    const { ada, grace } = await seed();
    const all = await db.select().from(users).orderBy(asc(users.id));
    expect(all.map((r: any) => r.email)).toEqual(['ada@example.com', 'grace@example.com', 'linus@example.com', null]);
    expect(all[0].ssn).toBe('078-05-1120');
    const partial = await db.select({ id: users.id, mail: users.email }).from(users).where(eq(users.id, grace.id));
    expect(partial).toEqual([{ id: grace.id, mail: 'grace@example.com' }]);
    const nested = await db.select({ who: { mail: users.email, ssn: users.ssn }, plan: users.plan }).from(users).where(eq(users.id, ada.id));
    expect(nested).toEqual([{ who: { mail: 'ada@example.com', ssn: '078-05-1120' }, plan: 'pro' }]);
    const distinct = await db.selectDistinct({ plan: users.plan }).from(users).orderBy(users.plan);
    expect(distinct).toEqual([{ plan: 'free' }, { plan: 'pro' }]);
  });

  test('a partial select opens with only the key group it needs', async () => {
    const { ada } = await seed();
    const contactOnly = withFieldseal(d.db, { keyring: k.keyring });
    expect(await contactOnly.select({ email: users.email }).from(users).where(eq(users.id, ada.id))).toEqual([{ email: 'ada@example.com' }]);
    expect(await code(contactOnly.select({ ssn: users.ssn }).from(users).where(eq(users.id, ada.id)))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    const restrictedOnly = withFieldseal(d.db, { keyrings: { restricted: k.keyrings.restricted } });
    expect(await restrictedOnly.select({ ssn: users.ssn }).from(users).where(eq(users.id, ada.id))).toEqual([{ ssn: '078-05-1120' }]);
  });

  test('joins: inner and left, full rows nest by table, a missing left side stays null', async () => {
    const { ada, linus } = await seed();
    const inner = await db.select().from(posts).innerJoin(users, eq(posts.userId, users.id)).orderBy(posts.title);
    expect(inner.map((r: any) => [r.posts.title, r.posts.body, r.users.email])).toEqual([
      ['first', 'a secret body', 'ada@example.com'],
      ['second', null, 'ada@example.com'],
    ]);
    const left = await db.select({ email: users.email, body: posts.body }).from(users).leftJoin(posts, eq(posts.userId, users.id)).where(inArray(users.id, [ada.id, linus.id])).orderBy(users.id, posts.title);
    expect(left).toEqual([
      { email: 'ada@example.com', body: 'a secret body' },
      { email: 'ada@example.com', body: null },
      { email: 'linus@example.com', body: null },
    ]);
    const leftFull = await db.select().from(users).leftJoin(posts, eq(posts.userId, users.id)).where(eq(users.id, linus.id));
    expect(leftFull).toEqual([{ users: expect.objectContaining({ email: 'linus@example.com' }), posts: null }]);
  });

  test('eq on an encrypted column is a beacon lookup: normalized, false positives dropped, limit after filtering', async () => {
    await seed();
    // One-bit beacons: the lookup fetches about half the table; only the real match comes back.
    const found = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.email, ' ADA@Example.com'));
    expect(found.map((r: any) => r.email)).toEqual(['ada@example.com']);
    const limited = await db.select().from(users).where(and(eq(users.email, 'linus@example.com'), eq(users.tenantId, 'globex'))).limit(1);
    expect(limited.map((r: any) => r.email)).toEqual(['linus@example.com']);
    expect(await db.select().from(users).where(eq(users.email, 'nobody@example.com'))).toEqual([]);
    // Without the email selected, the lookup still checks it (a hidden column), and removes it.
    const hidden = await db.select({ plan: users.plan }).from(users).where(eq(users.email, 'grace@example.com'));
    expect(hidden).toEqual([{ plan: 'free' }]);
    // Through a join: the lookup is on the joined table.
    const joined = await db.select({ title: posts.title }).from(posts).innerJoin(users, eq(posts.userId, users.id)).where(eq(users.email, 'ada@example.com')).orderBy(posts.title);
    expect(joined).toEqual([{ title: 'first' }, { title: 'second' }]);
    expect(await db.select({ t: posts.title }).from(posts).innerJoin(users, eq(posts.userId, users.id)).where(eq(users.email, 'grace@example.com'))).toEqual([]);
  });

  test('aliases: a table joined under another name is opened and searched under that name', async () => {
    await seed();
    const author = alias(users, 'author');
    const rows = await db.select({ title: posts.title, email: author.email, ssn: author.ssn }).from(posts).innerJoin(author, eq(posts.userId, author.id)).where(eq(author.email, 'ada@example.com')).orderBy(posts.title);
    expect(rows).toEqual([
      { title: 'first', email: 'ada@example.com', ssn: '078-05-1120' },
      { title: 'second', email: 'ada@example.com', ssn: '078-05-1120' },
    ]);
    const full = await db.select().from(posts).leftJoin(author, eq(posts.userId, author.id)).where(eq(posts.title, 'first'));
    expect(full[0].author.email).toBe('ada@example.com');
    expect(full[0].posts.body).toBe('a secret body');
    await refused(db.select().from(author).orderBy(author.email), 'email');
  });

  test('isNull / isNotNull on an encrypted column are allowed', async () => {
    const { nobody } = await seed();
    expect((await db.select({ id: users.id }).from(users).where(isNull(users.email))).map((r: any) => r.id)).toEqual([nobody.id]);
    expect(await db.select({ id: users.id }).from(users).where(isNotNull(users.email))).toHaveLength(3);
  });

  test('update … returning a sealed column reseals the row: new header, new beacon, no plaintext, opens', async () => {
    const { ada } = await seed();
    const [before] = await d.query(`select * from ${T('users')} where id = $1`, [ada.id]);
    const updated = await db.update(users).set({ email: 'new@example.com' }).where(eq(users.id, ada.id)).returning();
    expect(updated).toEqual([expect.objectContaining({ id: ada.id, email: 'new@example.com', ssn: '078-05-1120', plan: 'pro' })]);
    const [after] = await d.query(`select * from ${T('users')} where id = $1`, [ada.id]);
    expect(after!.fieldseal).not.toBe(before!.fieldseal);
    expect(after!.email_bidx).toBe(await k.beacons.beacon('email', 'new@example.com'));
    await assertNoPlaintext();
    expect(await db.select({ email: users.email }).from(users).where(eq(users.email, 'new@example.com'))).toEqual([{ email: 'new@example.com' }]);
    // Partial returning, and an update found by a beacon lookup (false positives untouched).
    const byBeacon = await db.update(users).set({ ssn: '999-99-9999', plan: 'gold' }).where(eq(users.email, 'grace@example.com')).returning({ id: users.id, ssn: users.ssn });
    expect(byBeacon).toHaveLength(1);
    expect(byBeacon[0].ssn).toBe('999-99-9999');
    expect((await db.select({ plan: users.plan }).from(users).orderBy(users.id)).map((r: any) => r.plan)).toEqual(['pro', 'gold', 'pro', 'free']);
    // Setting a sealed column to NULL removes it from the header.
    await db.update(users).set({ ssn: null }).where(eq(users.id, ada.id));
    expect((await db.select({ ssn: users.ssn, email: users.email }).from(users).where(eq(users.id, ada.id)))[0]).toEqual({ ssn: null, email: 'new@example.com' });
  });

  test('update of a bound (context) column reseals; of other columns passes through', async () => {
    const { linus } = await seed();
    const r = await db.update(users).set({ tenantId: 'initech' }).where(eq(users.id, linus.id)).returning({ email: users.email, tenantId: users.tenantId });
    expect(r).toEqual([{ email: 'linus@example.com', tenantId: 'initech' }]);
    const plain = await db.update(users).set({ plan: 'team' }).where(eq(users.tenantId, 'initech')).returning({ email: users.email, plan: users.plan });
    expect(plain).toEqual([{ email: 'linus@example.com', plan: 'team' }]);
    // Changing the bound column behind fieldseal's back breaks the seal: fail closed.
    await d.query(`update ${T('users')} set tenant_id = 'acme' where id = $1`, [linus.id]);
    expect(['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE']).toContain(await code(db.select().from(users).where(eq(users.id, linus.id))));
  });

  test('update inside a transaction rolls back with it', async () => {
    const { ada } = await seed();
    await expect(
      db.transaction(async (tx: any) => {
        await tx.update(users).set({ email: 'rolled@example.com' }).where(eq(users.id, ada.id));
        expect((await tx.select({ e: users.email }).from(users).where(eq(users.id, ada.id)))[0].e).toBe('rolled@example.com');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.select({ e: users.email }).from(users).where(eq(users.id, ada.id)))[0].e).toBe('ada@example.com');
  });

  test('transactions: a wrapped tx seals and opens, a nested transaction rolls back alone, ids come from the sequence inside it', async () => {
    await db.transaction(async (tx: any) => {
      const [a] = await tx.insert(users).values({ tenantId: 'acme', email: 'ada@example.com' }).returning();
      await expect(
        tx.transaction(async (inner: any) => {
          await inner.update(users).set({ email: 'grace@example.com' }).where(eq(users.id, a.id));
          expect((await inner.select({ e: users.email }).from(users).where(eq(users.email, 'grace@example.com')))[0].e).toBe('grace@example.com');
          throw new Error('inner roll back');
        }),
      ).rejects.toThrow('inner roll back');
      expect(await tx.query.users.findFirst({ columns: { email: true }, where: eq(users.id, a.id) })).toEqual({ email: 'ada@example.com' });
      await refused(tx.select().from(users).orderBy(users.email), 'email');
    });
    expect((await db.select({ e: users.email }).from(users)).map((r: any) => r.e)).toEqual(['ada@example.com']);
    await assertNoPlaintext();
  });

  test('$dynamic builders: the last where() counts, as in Drizzle', async () => {
    const { ada, grace } = await seed();
    const q = db.update(users).set({ email: 'new@example.com' }).$dynamic();
    q.where(eq(users.id, grace.id));
    const out = await q.where(eq(users.id, ada.id)).returning({ id: users.id, email: users.email });
    expect(out).toEqual([{ id: ada.id, email: 'new@example.com' }]);
    expect((await db.select({ e: users.email }).from(users).where(eq(users.id, grace.id)))[0].e).toBe('grace@example.com');
    const sel = db.select({ e: users.email }).from(users).$dynamic();
    expect(await sel.where(eq(users.id, grace.id)).limit(5)).toEqual([{ e: 'grace@example.com' }]);
  });

  test('delete … returning opens what it deleted; a beacon delete deletes only the real match', async () => {
    const { ada } = await seed();
    const removed = await db.delete(users).where(eq(users.email, 'grace@example.com')).returning({ email: users.email, ssn: users.ssn });
    expect(removed).toEqual([{ email: 'grace@example.com', ssn: '123-45-6789' }]);
    expect(await db.select().from(users)).toHaveLength(3);
    const byId = await db.delete(posts).where(eq(posts.userId, ada.id)).returning({ body: posts.body, title: posts.title });
    expect(byId.sort((a: any, b: any) => a.title.localeCompare(b.title))).toEqual([{ body: 'a secret body', title: 'first' }, { body: null, title: 'second' }]);
    const none = await db.delete(users).where(eq(users.email, 'nobody@example.com')).returning();
    expect(none).toEqual([]);
    expect(await db.select().from(users)).toHaveLength(3);
  });

  test('relational queries: findMany with nested relations, partial columns, findFirst by beacon', async () => {
    const { ada } = await seed();
    const list = await db.query.users.findMany({ with: { posts: { orderBy: (p: any, { asc: a }: any) => [a(p.title)] } }, orderBy: (u: any, { asc: a }: any) => [a(u.id)] });
    expect(list[0]).toMatchObject({ email: 'ada@example.com', ssn: '078-05-1120', prefs: { theme: 'dark', n: 1 } });
    expect(list[0].born).toBeInstanceOf(Date);
    expect(list[0].posts.map((p: any) => p.body)).toEqual(['a secret body', null]);
    const partial = await db.query.users.findMany({ columns: { email: true }, with: { posts: { columns: { body: true } } }, where: (u: any, { eq: e }: any) => e(u.id, ada.id) });
    expect(partial).toEqual([{ email: 'ada@example.com', posts: expect.arrayContaining([{ body: 'a secret body' }, { body: null }]) }]);
    const excluded = await db.query.users.findFirst({ columns: { fieldseal: false, ssn: false }, where: eq(users.id, ada.id) });
    expect(excluded).not.toHaveProperty('fieldseal');
    expect(excluded.email).toBe('ada@example.com');
    const first = await db.query.users.findFirst({ where: (u: any, { eq: e }: any) => e(u.email, 'linus@example.com'), with: { posts: true } });
    expect(first).toMatchObject({ email: 'linus@example.com', posts: [] });
    expect(await db.query.users.findFirst({ where: eq(users.email, 'nobody@example.com') })).toBeUndefined();
    const author = await db.query.posts.findFirst({ where: (p: any, { eq: e }: any) => e(p.title, 'first'), with: { author: { columns: { email: true } } } });
    expect(author).toMatchObject({ body: 'a secret body', author: { email: 'ada@example.com' } });
  });

  test('a ciphertext copied by SQL to another row fails to open; so does one swapped between columns', async () => {
    const { ada, grace } = await seed();
    await d.query(`update ${T('users')} set email = (select email from ${T('users')} where id = $1) where id = $2`, [ada.id, grace.id]);
    expect(await code(db.select({ email: users.email }).from(users).where(eq(users.id, grace.id)))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(await code(db.query.users.findFirst({ where: eq(users.id, grace.id) }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    await d.query(`update ${T('users')} set email = ssn, ssn = email where id = $1`, [ada.id]);
    expect(['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_INCOMPLETE']).toContain(await code(db.select().from(users).where(eq(users.id, ada.id))));
  });

  test('plaintext written around fieldseal is an error on read, never returned', async () => {
    const { ada } = await seed();
    await d.query(`update ${T('users')} set email = 'mallory@example.com' where id = $1`, [ada.id]);
    expect(await code(db.select({ email: users.email }).from(users).where(eq(users.id, ada.id)))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // A listed column set to NULL is a removed ciphertext.
    await d.query(`update ${T('users')} set email = null where id = $1`, [ada.id]);
    expect(await code(db.select({ email: users.email }).from(users).where(eq(users.id, ada.id)))).toBe('ERR_FIELDSEAL_INCOMPLETE');
  });

  test('migration mode (allowPlaintext) reads plaintext left in sealed columns, and an update reseals all of the row', async () => {
    await d.query(`insert into ${T('users')} (tenant_id, email, ssn, plan) values ('acme', 'ada@example.com', '078-05-1120', 'pro')`);
    expect(await code(db.select().from(users))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    const migrating = withFieldseal(d.db, { ...k, allowPlaintext: true });
    const [row] = await migrating.select().from(users);
    expect(row).toMatchObject({ email: 'ada@example.com', ssn: '078-05-1120' });
    await migrating.update(users).set({ plan: 'team', ssn: '078-05-1120' }).where(eq(users.id, row.id));
    await assertNoPlaintext();
    expect((await db.select().from(users))[0]).toMatchObject({ email: 'ada@example.com', ssn: '078-05-1120', plan: 'team' });
  });

  test('the bare database refuses to write plaintext into an encrypted column, or to compare with it', async () => {
    await refused(d.db.insert(users).values({ tenantId: 'acme', email: 'ada@example.com' }));
    await refused(d.db.select().from(users).where(eq(users.email, 'ada@example.com')));
    await refused(d.db.insert(users).values({ tenantId: 'acme', fieldseal: 'not a header' }));
    expect(await d.query(`select * from ${T('users')}`)).toEqual([]);
  });

  test('filters other than beacon eq, orderings, groupings and aggregates on encrypted columns are refused', async () => {
    await seed();
    const q = () => db.select().from(users);
    await refused(q().where(ne(users.email, 'x')), 'email');
    await refused(q().where(gt(users.email, 'x')), 'email');
    await refused(q().where(like(users.email, '%ada%')), 'email');
    await refused(q().where(ilike(users.ssn, '%1120')), 'ssn');
    await refused(q().where(inArray(users.email, ['ada@example.com'])), 'email');
    await refused(q().where(or(eq(users.email, 'ada@example.com'), eq(users.plan, 'pro'))), 'email');
    await refused(q().where(not(eq(users.email, 'ada@example.com'))), 'email');
    await refused(q().where(eq(users.ssn, '078-05-1120')), 'ssn'); // no beacon declared for ssn
    await refused(q().where(eq(users.email, users.ssn)), 'email');
    await refused(q().where(sql`${users.email} = ${'ada@example.com'}`), 'email');
    await refused(q().orderBy(users.email), 'email');
    await refused(q().orderBy(desc(users.born)), 'born');
    await refused(db.select({ n: count(users.email) }).from(users), 'email');
    await refused(db.select({ m: max(users.email) }).from(users), 'email');
    await refused(db.select({ plan: users.plan }).from(users).groupBy(users.plan, users.email), 'email');
    await refused(db.select({ u: sql`upper(${users.email})` }).from(users), 'email');
    await refused(db.select().from(posts).innerJoin(users, eq(posts.body, users.email)), 'body');
    await refused(db.selectDistinctOn([users.email]).from(users), 'email');
    await refused(db.query.users.findMany({ orderBy: (u: any, { asc: a }: any) => [a(u.email)] }), 'email');
    await refused(db.query.users.findMany({ where: (u: any, { like: l }: any) => l(u.email, '%a%') }), 'email');
    await refused(db.query.users.findMany({ with: { posts: { where: (p: any, { eq: e }: any) => e(p.body, 'x') } } }), 'body');
    await refused(db.query.users.findMany({ extras: { up: sql`upper(${users.email})`.as('up') } }), 'email');
    await refused(db.update(users).set({ plan: 'x' }).where(gt(users.email, 'a')), 'email');
    await refused(db.delete(users).where(like(users.email, '%')), 'email');
    await refused(Promise.resolve().then(() => db.$count(users, like(users.email, '%'))), 'email');
    await refused(Promise.resolve().then(() => db.$count(users, eq(users.email, 'ada@example.com'))), 'email');
    // Nothing ran: every row is as seeded.
    expect(await db.select({ plan: users.plan }).from(users)).toHaveLength(4);
  });

  test('writes that would store plaintext or break a header are refused', async () => {
    const { ada } = await seed();
    await refused(db.insert(users).values({ tenantId: 'acme', email: 'x@example.com', fieldseal: 'fs1h.forged' }));
    await refused(db.insert(users).values({ tenantId: 'acme', email: 'x@example.com', emailBidx: 'b1:0' }));
    await refused(db.insert(users).values({ tenantId: 'acme', email: sql`'x@example.com'` }), 'email');
    await refused(db.insert(users).values({ id: ada.id, tenantId: 'acme', email: 'x@example.com' }).onConflictDoUpdate({ target: users.id, set: { email: 'y@example.com' } }), 'email');
    await refused(db.update(users).set({ email: sql`upper(email)` }).where(eq(users.id, ada.id)), 'email');
    await refused(db.update(users).set({ plan: sql`${users.email}` }).where(eq(users.id, ada.id)), 'email');
    await refused(db.update(users).set({ fieldseal: null }).where(eq(users.id, ada.id)), 'fieldseal');
    await refused(Promise.resolve().then(() => db.select().from(users).where(eq(users.id, ada.id)).toSQL()));
    await refused(Promise.resolve().then(() => db.with()));
    await assertNoPlaintext();
    // onConflict without sealed columns is fine, and the stored row still opens.
    await db.insert(users).values({ id: ada.id, tenantId: 'acme', email: 'x@example.com' }).onConflictDoUpdate({ target: users.id, set: { plan: 'enterprise' } });
    await db.insert(users).values({ id: ada.id, tenantId: 'acme', email: 'x@example.com' }).onConflictDoNothing();
    expect((await db.select().from(users).where(eq(users.id, ada.id)))[0]).toMatchObject({ email: 'ada@example.com', plan: 'enterprise' });
  });

  test('raw sql passes through untouched; openRawRows opens its rows (database column names)', async () => {
    const { ada } = await seed();
    const raw = (await db.execute(sql`select * from ${users} where ${users.id} = ${ada.id}`)) as { rows: Record<string, unknown>[] };
    expect(raw.rows[0]!.email).toMatch(/^fs1\./);
    const [opened] = await db.$fieldseal.openRawRows(users, raw.rows);
    expect(opened).toMatchObject({ email: 'ada@example.com', tenant_id: 'acme', ssn: '078-05-1120' });
  });

  test('ids from identity columns and 64-bit sequences are fetched before sealing, and bound', async () => {
    const rows = await db.insert(counters).values([{ secret: 'one' }, { secret: 'two' }]).returning();
    expect(rows.map((r: any) => r.secret)).toEqual(['one', 'two']);
    expect(typeof rows[0].big).toBe('bigint');
    expect(rows[1].id).toBe(rows[0].id + 1);
    const read = await db.select().from(counters).where(eq(counters.id, rows[1].id));
    expect(read).toEqual([rows[1]]);
    // Both id columns are bound: the first row's ciphertext in the second row fails.
    await d.query(`update ${T('counters')} set secret = (select secret from ${T('counters')} where id = ${rows[0].id}), fs = (select fs from ${T('counters')} where id = ${rows[0].id}) where id = ${rows[1].id}`);
    expect(['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE']).toContain(await code(db.select().from(counters).where(eq(counters.id, rows[1].id))));
  });

  test('tables without encrypted columns pass through every path', async () => {
    const [t] = await db.insert(tags).values({ name: 'x' }).returning();
    expect(await db.select().from(tags).where(like(tags.name, 'x%')).orderBy(desc(tags.name))).toEqual([t]);
    expect(await db.update(tags).set({ name: 'y' }).where(eq(tags.id, t.id)).returning({ name: tags.name })).toEqual([{ name: 'y' }]);
    expect(await db.delete(tags).returning()).toEqual([{ id: t.id, name: 'y' }]);
  });

  test('a wrong keyring cannot open, and the error holds no plaintext', async () => {
    await seed();
    const other = withFieldseal(d.db, { keyring: await LocalKeyring.generate({ name: 'contact' }), keyrings: k.keyrings });
    const err = await other.select({ email: users.email }).from(users).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(FieldsealError);
    for (const s of SECRETS) expect(String(err?.message)).not.toContain(s);
  });
});
