import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FieldsealError } from '@fieldseal/core';
import { setup } from './helpers/db.js';

let t: Awaited<ReturnType<typeof setup>>;
const emails = Array.from({ length: 24 }, (_, i) => `user${i}@example.com`);
beforeAll(async () => {
  t = await setup();
  await t.prisma.user.createMany({ data: emails.map((email, i) => ({ id: `f${String(i).padStart(2, '0')}`, tenantId: 'acme', name: `n${i}`, email, ssn: `s${i}` })) });
});
afterAll(async () => {
  await t?.close();
});

async function refused(p: Promise<unknown>): Promise<FieldsealError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  expect((err as FieldsealError).code).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  return err as FieldsealError;
}

describe('equality on an encrypted field goes through its beacon', () => {
  test('findMany returns exactly the matches; the beacon (2 bits here) also matched false positives, removed after opening', async () => {
    const bidx = await t.beacons.beacon('User.email', 'user7@example.com');
    const candidates = await t.sql('SELECT id FROM $S.users WHERE email_bidx = $1', [bidx]);
    expect(candidates.length).toBeGreaterThan(1);
    const found = await t.prisma.user.findMany({ where: { email: 'user7@example.com' } });
    expect(found.map((u) => u.id)).toEqual(['f07']);
    expect(found[0]!.ssn).toBe('s7');
    expect((await t.prisma.user.findMany({ where: { email: { equals: 'user7@example.com' }, tenantId: 'acme' }, select: { name: true } }))).toEqual([{ name: 'n7' }]);
    expect(await t.prisma.user.findMany({ where: { AND: [{ email: 'user7@example.com' }, { name: 'other' }] } })).toEqual([]);
    expect(await t.prisma.user.findMany({ where: { email: 'nobody@example.com' } })).toEqual([]);
  });

  test('findFirst and findFirstOrThrow pick the first true match, not the first candidate', async () => {
    for (const i of [3, 11, 23]) expect((await t.prisma.user.findFirst({ where: { email: emails[i] } }))!.id).toBe(`f${String(i).padStart(2, '0')}`);
    expect((await t.prisma.user.findFirstOrThrow({ where: { email: emails[5] }, select: { ssn: true } }))).toEqual({ ssn: 's5' });
    expect(await t.prisma.user.findFirst({ where: { email: 'nobody@example.com' } })).toBeNull();
    await expect(t.prisma.user.findFirstOrThrow({ where: { email: 'nobody@example.com' } })).rejects.toMatchObject({ code: 'P2025' });
  });

  test('undefined conditions are ignored, as Prisma ignores them', async () => {
    expect(await t.prisma.user.count({ where: { email: undefined, ssn: undefined } })).toBe(24);
    expect((await t.prisma.user.findMany({ where: { id: 'f02', email: undefined }, orderBy: { email: undefined, id: 'asc' } })).map((u) => u.ssn)).toEqual(['s2']);
  });

  test('IS NULL / IS NOT NULL need no key and pass', async () => {
    expect(await t.prisma.user.count({ where: { born: null } })).toBe(24);
    expect(await t.prisma.user.count({ where: { email: { not: null } } })).toBe(24);
  });
});

describe('everything else on an encrypted field is refused before it reaches the database', () => {
  const cases: [string, () => Promise<unknown>][] = [
    ['contains', () => t.prisma.user.findMany({ where: { email: { contains: 'user' } } })],
    ['startsWith', () => t.prisma.user.findMany({ where: { email: { startsWith: 'user' } } })],
    ['gt', () => t.prisma.user.findMany({ where: { ssn: { gt: 's1' } } })],
    ['in', () => t.prisma.user.findMany({ where: { email: { in: emails } } })],
    ['not equals', () => t.prisma.user.findMany({ where: { email: { not: 'user1@example.com' } } })],
    ['insensitive', () => t.prisma.user.findMany({ where: { email: { equals: 'USER1@example.com', mode: 'insensitive' } } })],
    ['equality without a beacon', () => t.prisma.user.findMany({ where: { ssn: 's1' } })],
    ['beacon under OR', () => t.prisma.user.findMany({ where: { OR: [{ email: 'user1@example.com' }, { name: 'n2' }] } })],
    ['beacon under NOT', () => t.prisma.user.findMany({ where: { NOT: { email: 'user1@example.com' } } })],
    ['beacon in findUnique', () => t.prisma.user.findUnique({ where: { id: 'f01', email: 'user1@example.com' } })],
    ['beacon in count', () => t.prisma.user.count({ where: { email: 'user1@example.com' } })],
    ['beacon in deleteMany', () => t.prisma.user.deleteMany({ where: { email: 'user1@example.com' } })],
    ['beacon in updateMany', () => t.prisma.user.updateMany({ where: { email: 'user1@example.com' }, data: { name: 'x' } })],
    ['beacon in update', () => t.prisma.user.update({ where: { id: 'f01', email: 'user1@example.com' }, data: { name: 'x' } })],
    ['beacon with take', () => t.prisma.user.findMany({ where: { email: 'user1@example.com' }, take: 1 })],
    ['relation filter', () => t.prisma.post.findMany({ where: { author: { email: 'user1@example.com' } } })],
    ['relation some', () => t.prisma.user.findMany({ where: { posts: { some: { body: { contains: 'x' } } } } })],
    ['nested include where', () => t.prisma.user.findMany({ include: { posts: { where: { body: 'x' } } } })],
    ['_count filter', () => t.prisma.user.findMany({ select: { _count: { select: { posts: { where: { body: 'x' } } } } } })],
    ['orderBy', () => t.prisma.user.findMany({ orderBy: { email: 'asc' } })],
    ['orderBy list', () => t.prisma.user.findMany({ orderBy: [{ name: 'asc' }, { ssn: 'desc' }] })],
    ['orderBy relation', () => t.prisma.post.findMany({ orderBy: { author: { email: 'asc' } } })],
    ['nested include orderBy', () => t.prisma.user.findMany({ include: { posts: { orderBy: { body: 'asc' } } } })],
    ['cursor', () => t.prisma.user.findMany({ cursor: { id: 'f01', email: 'user1@example.com' } })],
    ['distinct', () => t.prisma.user.findMany({ distinct: ['email'] })],
    ['groupBy by', () => t.prisma.user.groupBy({ by: ['email'], _count: true })],
    ['groupBy having', () => t.prisma.user.groupBy({ by: ['tenantId'], having: { ssn: { _count: { gt: 1 } } } })],
    ['aggregate _min', () => t.prisma.user.aggregate({ _min: { email: true } })],
    ['aggregate _max', () => t.prisma.user.aggregate({ _max: { ssn: true } })],
  ];
  test.each(cases)('%s', async (_name, run) => {
    const err = await refused(run());
    expect(err.message).not.toMatch(/user\d+@example|s1\b/);
  });

  test('a __proto__ key from parsed JSON is treated as Prisma itself treats it, and hides no encrypted filter', async () => {
    const where = JSON.parse('{"__proto__": {"id": "f01"}, "name": "n1"}') as { name: string };
    const outcome = (p: Promise<unknown[]>) => p.then((rows) => rows.length, (e: unknown) => (e as Error).name);
    expect(await outcome(t.prisma.user.findMany({ where }))).toEqual(await outcome(t.base.user.findMany({ where })));
    // An encrypted-field condition under __proto__ is never evaluated against ciphertext silently.
    const hidden = JSON.parse('{"__proto__": {"email": {"contains": "user"}}}') as object;
    expect(await outcome(t.prisma.user.findMany({ where: hidden }))).toEqual(await outcome(t.base.user.findMany({ where: hidden })));
  });

  test('refusals change nothing', async () => {
    expect(await t.prisma.user.count()).toBe(24);
    expect((await t.sql(`SELECT count(*)::int AS n FROM $S.users WHERE name = 'x'`))[0].n).toBe(0);
  });

  test('aggregates that do not read encrypted values pass', async () => {
    expect((await t.prisma.user.aggregate({ _count: { email: true } }))._count.email).toBe(24);
    expect(await t.prisma.user.groupBy({ by: ['tenantId'], _count: { _all: true } })).toEqual([{ tenantId: 'acme', _count: { _all: 24 } }]);
  });
});
