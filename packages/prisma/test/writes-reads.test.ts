import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FieldsealError } from '@fieldseal/core';
import { assertActive } from '../src/index.js';
import { setup } from './helpers/db.js';

let t: Awaited<ReturnType<typeof setup>>;
beforeAll(async () => {
  t = await setup();
});
afterAll(async () => {
  await t?.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  return (err as FieldsealError).code;
}

/** Every value of every row of a table, as text: the plaintext must not be in it. */
async function dump(table: string): Promise<string> {
  return JSON.stringify(await t.sql(`SELECT * FROM $S.${table}`));
}

// born has codec "date": a Date goes in and comes out, while Prisma's generated type says string.
const asString = (d: Date) => d as unknown as string;
const user = (n: string, extra: Record<string, unknown> = {}) => ({ tenantId: 'acme', name: `n-${n}`, email: `${n}@example.com`, ssn: `ssn-${n}`, born: asString(new Date('1990-01-02T03:04:05.000Z')), ...extra });

describe('writes seal, reads open', () => {
  test('create: the row holds ciphertext, a header and a beacon; findUnique opens it', async () => {
    const created = await t.prisma.user.create({ data: user('ada') });
    expect(created).toMatchObject({ email: 'ada@example.com', ssn: 'ssn-ada', name: 'n-ada' });
    expect(created.born).toEqual(new Date('1990-01-02T03:04:05.000Z'));
    const [row] = await t.sql('SELECT * FROM $S.users WHERE id = $1', [created.id]);
    expect(row.email).toMatch(/^fs1\./);
    expect(row.ssn_enc).toMatch(/^fs1\./);
    expect(row.born).toMatch(/^fs1\./);
    expect(row.fs_header).toMatch(/^fs1h\./);
    expect(row.email_bidx).toMatch(/^b1:/);
    expect(await dump('users')).not.toMatch(/ada@example|ssn-ada|1990-01-02/);
    const found = await t.prisma.user.findUnique({ where: { id: created.id } });
    expect(found).toEqual(created);
    expect(await t.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).toEqual(created);
  });

  test('a ciphertext copied by SQL to another row fails to open', async () => {
    const a = await t.prisma.user.create({ data: user('copy-a') });
    const b = await t.prisma.user.create({ data: user('copy-b') });
    await t.sql('UPDATE $S.users SET ssn_enc = (SELECT ssn_enc FROM $S.users WHERE id = $1) WHERE id = $2', [a.id, b.id]);
    expect(await code(t.prisma.user.findUnique({ where: { id: b.id } }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // Also a whole row's ciphertexts and header moved to another id.
    await t.sql('UPDATE $S.users SET email = x.email, ssn_enc = x.ssn_enc, born = x.born, fs_header = x.fs_header FROM (SELECT * FROM $S.users WHERE id = $1) x WHERE users.id = $2', [a.id, b.id]);
    // (The local keyring binds its wrapped data key to the context too, so the unwrap is what fails.)
    expect(['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE']).toContain(await code(t.prisma.user.findMany({ where: { id: b.id } })));
    // And a changed context column (tenant) breaks the seal.
    await t.sql(`UPDATE $S.users SET tenant_id = 'evil' WHERE id = $1`, [a.id]);
    expect(['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE']).toContain(await code(t.prisma.user.findFirst({ where: { id: a.id } })));
    await t.sql('DELETE FROM $S.users WHERE id = ANY($1)', [[a.id, b.id]]);
  });

  test('plaintext written around the extension is an error, never returned', async () => {
    const a = await t.prisma.user.create({ data: user('plain') });
    await t.sql(`UPDATE $S.users SET ssn_enc = 'injected' WHERE id = $1`, [a.id]);
    expect(await code(t.prisma.user.findUnique({ where: { id: a.id } }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    await t.sql(`INSERT INTO $S.users (id, tenant_id, name, email) VALUES ('raw1', 'acme', 'r', 'raw@example.com')`);
    expect(await code(t.prisma.user.findUnique({ where: { id: 'raw1' } }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    await t.sql(`DELETE FROM $S.users WHERE id = ANY($1)`, [[a.id, 'raw1']]);
  });

  test('createMany and createManyAndReturn seal every row', async () => {
    expect(await t.prisma.user.createMany({ data: [user('m1'), user('m2')] })).toEqual({ count: 2 });
    const returned = await t.prisma.user.createManyAndReturn({ data: [user('m3'), user('m4')], select: { id: true, email: true } });
    expect(returned.map((r) => r.email).sort()).toEqual(['m3@example.com', 'm4@example.com']);
    expect(Object.keys(returned[0]!).sort()).toEqual(['email', 'id']);
    expect(await dump('users')).not.toMatch(/m[1-4]@example|ssn-m/);
    const all = await t.prisma.user.findMany({ where: { name: { startsWith: 'n-m' } }, orderBy: { name: 'asc' } });
    expect(all.map((u) => u.ssn)).toEqual(['ssn-m1', 'ssn-m2', 'ssn-m3', 'ssn-m4']);
  });

  test('createMany of more rows than are sealed at once (64) seals each of them, in order', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `big${String(i).padStart(3, '0')}`);
    expect(await t.prisma.user.createMany({ data: ids.map((id) => user(id)) })).toEqual({ count: 150 });
    expect(await dump('users')).not.toMatch(/big\d{3}@example|ssn-big/);
    const all = await t.prisma.user.findMany({ where: { name: { startsWith: 'n-big' } }, orderBy: { name: 'asc' } });
    expect(all.map((u) => u.ssn)).toEqual(ids.map((id) => `ssn-${id}`));
    expect(all.map((u) => u.email)).toEqual(ids.map((id) => `${id}@example.com`));
    await t.sql(`DELETE FROM $S.users WHERE id = ANY($1)`, [all.map((u) => u.id)]);
  });

  test('update reads the row, reseals every column, and keeps the beacon current', async () => {
    const a = await t.prisma.user.create({ data: user('upd') });
    const [before] = await t.sql('SELECT * FROM $S.users WHERE id = $1', [a.id]);
    const updated = await t.prisma.user.update({ where: { id: a.id }, data: { email: { set: 'new@example.com' }, name: 'renamed' } });
    expect(updated).toMatchObject({ email: 'new@example.com', ssn: 'ssn-upd', name: 'renamed' });
    const [after] = await t.sql('SELECT * FROM $S.users WHERE id = $1', [a.id]);
    expect(after.fs_header).not.toBe(before.fs_header);
    expect(after.ssn_enc).not.toBe(before.ssn_enc);
    expect(after.email_bidx).toBe(await t.beacons.beacon('User.email', 'new@example.com'));
    expect(JSON.stringify(after)).not.toMatch(/new@example|ssn-upd/);
    // Changing a context field reseals under the new value.
    await t.prisma.user.update({ where: { id: a.id }, data: { tenantId: 'globex' } });
    expect(await t.prisma.user.findUnique({ where: { id: a.id }, select: { ssn: true, tenantId: true } })).toEqual({ ssn: 'ssn-upd', tenantId: 'globex' });
    // Set to null: the column is NULL, the beacon too.
    await t.prisma.user.update({ where: { id: a.id }, data: { email: null } });
    const [nulled] = await t.sql('SELECT email, email_bidx FROM $S.users WHERE id = $1', [a.id]);
    expect(nulled).toEqual({ email: null, email_bidx: null });
    expect((await t.prisma.user.findUnique({ where: { id: a.id } }))!.email).toBeNull();
    // A non-encrypted update passes through.
    expect((await t.prisma.user.update({ where: { id: a.id }, data: { name: 'x' }, select: { name: true, ssn: true } }))).toEqual({ name: 'x', ssn: 'ssn-upd' });
    // A missing row fails as Prisma fails it.
    await expect(t.prisma.user.update({ where: { id: 'nope' }, data: { ssn: 's' } })).rejects.toMatchObject({ code: 'P2025' });
  });

  test('concurrent updates of one row both land: the loser of the header compare-and-swap reads again and reseals', async () => {
    const a = await t.prisma.user.create({ data: user('cas') });
    const other = t.base.$extends((await import('../src/index.js')).fieldseal({ keyring: t.keyring, beacons: t.beacons, models: (await import('./helpers/db.js')).models() }));
    await Promise.all([
      t.prisma.user.update({ where: { id: a.id }, data: { ssn: 'ssn-cas-2' } }),
      other.user.update({ where: { id: a.id }, data: { email: 'cas2@example.com' } }),
      t.prisma.user.update({ where: { id: a.id }, data: { born: asString(new Date('2000-01-01T00:00:00.000Z')) } }),
    ]);
    const row = await t.prisma.user.findUnique({ where: { id: a.id } });
    expect(row).toMatchObject({ ssn: 'ssn-cas-2', email: 'cas2@example.com', born: new Date('2000-01-01T00:00:00.000Z') });
  });

  test('upsert seals the create branch and reseals the update branch', async () => {
    const created = await t.prisma.user.upsert({ where: { id: 'ups1' }, create: { id: 'ups1', ...user('ups') }, update: { ssn: 'never' } });
    expect(created.ssn).toBe('ssn-ups');
    const updated = await t.prisma.user.upsert({ where: { id: 'ups1' }, create: { id: 'ups1', ...user('ups') }, update: { ssn: 'ssn-ups2' } });
    expect(updated.ssn).toBe('ssn-ups2');
    expect(await dump('users')).not.toMatch(/ssn-ups/);
  });

  test('updateMany of encrypted fields reads, reseals and compare-and-swaps each row in one transaction', async () => {
    await t.prisma.user.createMany({ data: [{ id: 'um1', ...user('um1'), tenantId: 'um' }, { id: 'um2', ...user('um2'), tenantId: 'um' }, { id: 'um3', ...user('um3'), tenantId: 'um-other' }] });
    const before = await t.sql(`SELECT id, fs_header FROM $S.users WHERE id LIKE 'um%' ORDER BY id`);
    expect(await t.prisma.user.updateMany({ where: { tenantId: 'um' }, data: { ssn: 'ssn-shared', email: 'shared@example.com' } })).toEqual({ count: 2 });
    const after = await t.sql(`SELECT id, email, ssn_enc, fs_header, email_bidx FROM $S.users WHERE id LIKE 'um%' ORDER BY id`);
    expect(after[0].fs_header).not.toBe(before[0].fs_header);
    expect(after[2].fs_header).toBe(before[2].fs_header);
    expect(after[0].email_bidx).toBe(await t.beacons.beacon('User.email', 'shared@example.com'));
    // Equal plaintexts, different ciphertexts, each bound to its own row.
    expect(after[0].ssn_enc).not.toBe(after[1].ssn_enc);
    expect(JSON.stringify(after)).not.toMatch(/ssn-shared|shared@example/);
    expect((await t.prisma.user.findMany({ where: { id: { startsWith: 'um' } }, orderBy: { id: 'asc' }, select: { ssn: true } })).map((u) => u.ssn)).toEqual(['ssn-shared', 'ssn-shared', 'ssn-um3']);
    const returned = await t.prisma.user.updateManyAndReturn({ where: { tenantId: 'um' }, data: { ssn: 'ssn-r' }, select: { id: true, ssn: true } });
    returned.sort((x, y) => x.id.localeCompare(y.id));
    expect(returned).toEqual([{ id: 'um1', ssn: 'ssn-r' }, { id: 'um2', ssn: 'ssn-r' }]);
    // In an interactive transaction it joins it; a throw rolls every row back.
    await expect(
      t.prisma.$transaction(async (tx) => {
        expect((await tx.user.updateMany({ where: { tenantId: 'um' }, data: { ssn: 'ssn-rolled' } })).count).toBe(2);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await t.prisma.user.findUnique({ where: { id: 'um1' } }))!.ssn).toBe('ssn-r');
    // A batch transaction cannot hold the reads: refused.
    expect(await code(t.prisma.$transaction([t.prisma.user.updateMany({ where: { tenantId: 'um' }, data: { ssn: 'x' } })]))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    expect(await code(t.prisma.user.updateMany({ data: { emailBidx: 'b1:0' } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  });

  test('other updateMany passes through; delete opens the deleted row', async () => {
    const a = await t.prisma.user.create({ data: user('del') });
    expect((await t.prisma.user.updateMany({ where: { id: a.id }, data: { name: 'n-del2' } })).count).toBe(1);
    const returned = await t.prisma.user.updateManyAndReturn({ where: { id: a.id }, data: { name: 'n-del3' } });
    expect(returned[0]!.ssn).toBe('ssn-del');
    const deleted = await t.prisma.user.delete({ where: { id: a.id } });
    expect(deleted).toMatchObject({ email: 'del@example.com', name: 'n-del3' });
  });

  test('a create whose id the database would assign is refused and writes nothing', async () => {
    expect(await code(t.prisma.note.create({ data: { text: 'secret note' } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    expect(await t.sql('SELECT * FROM $S."Note"')).toEqual([]);
    const n = await t.prisma.note.create({ data: { id: 41, text: 'secret note' } });
    expect(n.text).toBe('secret note');
    expect(await dump('"Note"')).not.toContain('secret note');
  });

  test('header and beacon fields are written by fieldseal only', async () => {
    expect(await code(t.prisma.user.create({ data: { ...user('hdr'), fieldseal: 'x' } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    expect(await code(t.prisma.user.create({ data: { ...user('hdr'), emailBidx: 'b1:0' } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  });
});

describe('nested writes, includes, select, omit, fluent API', () => {
  test('nested create, createMany, connectOrCreate and upsert inside relations are sealed', async () => {
    const u = await t.prisma.user.create({
      data: { ...user('nest'), posts: { create: [{ title: 't1', body: 'body one', tags: { create: [{ label: 'x' }] } }, { title: 't2', body: 'body two' }] }, profile: { create: { bio: 'bio nest' } } },
      include: { posts: { include: { tags: true }, orderBy: { title: 'asc' } }, profile: true },
    });
    expect(u.posts.map((p) => p.body)).toEqual(['body one', 'body two']);
    expect(u.posts[0]!.tags[0]!.label).toBe('x');
    expect(u.profile!.bio).toBe('bio nest');
    expect(await dump('"Post"')).not.toMatch(/body one|body two/);
    expect(await dump('"Profile"')).not.toMatch(/bio nest/);
    const [p] = await t.sql('SELECT body, fs FROM $S."Post" WHERE title = $1', ['t1']);
    expect(p.body).toMatch(/^fs1\./);
    await t.prisma.user.update({
      where: { id: u.id },
      data: {
        posts: {
          createMany: { data: [{ title: 't3', body: 'body three' }] },
          connectOrCreate: { where: { id: 'post-x' }, create: { id: 'post-x', title: 't4', body: 'body four' } },
          upsert: { where: { id: 'post-y' }, create: { id: 'post-y', title: 't5', body: 'body five' }, update: { title: 'never' } },
        },
      },
    });
    expect(await dump('"Post"')).not.toMatch(/body (three|four|five)/);
    const again = await t.prisma.user.findUnique({ where: { id: u.id }, include: { posts: { orderBy: { title: 'asc' } } } });
    expect(again!.posts.map((x) => x.body)).toEqual(['body one', 'body two', 'body three', 'body four', 'body five']);
    // A ciphertext copied by SQL between rows written by nested creates fails to open.
    await t.sql(`UPDATE $S."Post" SET body = (SELECT body FROM $S."Post" WHERE id = 'post-x') WHERE id = 'post-y'`);
    expect(await code(t.prisma.post.findUnique({ where: { id: 'post-y' } }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(await code(t.prisma.user.findUnique({ where: { id: u.id }, include: { posts: true } }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    await t.sql(`DELETE FROM $S."Post" WHERE id = 'post-y'`);
    // A nested update of a non-encrypted field passes.
    await t.prisma.user.update({ where: { id: u.id }, data: { posts: { update: { where: { id: 'post-x' }, data: { title: 't4b' } } } } });
    expect((await t.sql(`SELECT title FROM $S."Post" WHERE id = 'post-x'`))[0].title).toBe('t4b');
  });

  test('nested update and upsert of encrypted fields read the related row in the transaction and reseal it', async () => {
    const u = await t.prisma.user.create({ data: { ...user('nupd'), posts: { create: [{ id: 'nu-1', title: 'a', body: 'old body' }] }, profile: { create: { bio: 'old bio' } } } });
    const [beforePost] = await t.sql(`SELECT body, fs FROM $S."Post" WHERE id = 'nu-1'`);
    const out = await t.prisma.user.update({
      where: { id: u.id },
      data: {
        posts: { update: { where: { id: 'nu-1' }, data: { body: 'new body' } }, upsert: { where: { id: 'nu-2' }, create: { id: 'nu-2', title: 'b', body: 'created body' }, update: { body: 'never' } } },
        profile: { update: { bio: 'new bio' } },
      },
      include: { posts: { orderBy: { id: 'asc' } }, profile: true },
    });
    expect(out.posts.map((p) => p.body)).toEqual(['new body', 'created body']);
    expect(out.profile!.bio).toBe('new bio');
    const [afterPost] = await t.sql(`SELECT body, fs FROM $S."Post" WHERE id = 'nu-1'`);
    expect(afterPost.fs).not.toBe(beforePost.fs);
    expect(await dump('"Post"')).not.toMatch(/new body|created body/);
    expect(await dump('"Profile"')).not.toMatch(/new bio/);
    // The upsert's update branch, on a row that exists now; and a to-one upsert.
    await t.prisma.user.update({ where: { id: u.id }, data: { posts: { upsert: { where: { id: 'nu-2' }, create: { title: 'x', body: 'never' }, update: { body: 'upserted body' } } }, profile: { upsert: { create: { bio: 'never' }, update: { bio: 'upserted bio' } } } } });
    const again = await t.prisma.user.findUniqueOrThrow({ where: { id: u.id }, include: { posts: { orderBy: { id: 'asc' } }, profile: true } });
    expect(again.posts.map((p) => p.body)).toEqual(['new body', 'upserted body']);
    expect(again.profile!.bio).toBe('upserted bio');
    expect(await dump('"Post"')).not.toMatch(/upserted body/);
    // A post of another user is not found through this user: Prisma fails the update, nothing is written.
    const other = await t.prisma.user.create({ data: { ...user('nupd-other'), posts: { create: [{ id: 'nu-3', title: 'c', body: 'other body' }] } } });
    await expect(t.prisma.user.update({ where: { id: u.id }, data: { posts: { update: { where: { id: 'nu-3' }, data: { body: 'stolen' } } } } })).rejects.toThrow();
    expect((await t.prisma.post.findUnique({ where: { id: 'nu-3' } }))!.body).toBe('other body');
    // Under a nested updateMany: refused (each row needs its own read and reseal).
    expect(await code(t.prisma.user.update({ where: { id: u.id }, data: { posts: { updateMany: { where: {}, data: { body: 'x' } } } } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    // From the other side: a post updates its author's encrypted field.
    await t.prisma.post.update({ where: { id: 'nu-3' }, data: { author: { update: { ssn: 'ssn-via-post' } } } });
    expect((await t.prisma.user.findUnique({ where: { id: other.id } }))!.ssn).toBe('ssn-via-post');
  });

  test('select, nested select, omit and _count return what was asked, opened', async () => {
    const u = await t.prisma.user.create({ data: { ...user('sel'), posts: { create: [{ title: 's1', body: 'sel body' }] } } });
    expect(await t.prisma.user.findUnique({ where: { id: u.id }, select: { email: true } })).toEqual({ email: 'sel@example.com' });
    expect(await t.prisma.user.findUnique({ where: { id: u.id }, select: { name: true } })).toEqual({ name: 'n-sel' });
    expect(await t.prisma.user.findUnique({ where: { id: u.id }, select: { ssn: true, posts: { select: { body: true } }, _count: { select: { posts: true } } } })).toEqual({ ssn: 'ssn-sel', posts: [{ body: 'sel body' }], _count: { posts: 1 } });
    const omitted = await t.prisma.user.findUnique({ where: { id: u.id }, omit: { fieldseal: true, ssn: true, tenantId: true } });
    expect(omitted).not.toHaveProperty('fieldseal');
    expect(omitted).not.toHaveProperty('ssn');
    expect(omitted).not.toHaveProperty('tenantId');
    expect(omitted!.email).toBe('sel@example.com');
    const onlyPlain = await t.prisma.user.findUnique({ where: { id: u.id }, omit: { email: true, ssn: true, born: true } });
    expect(onlyPlain).toMatchObject({ name: 'n-sel' });
    expect(onlyPlain).not.toHaveProperty('email');
    const post = await t.prisma.post.findFirst({ where: { authorId: u.id }, include: { author: { select: { email: true } } } });
    expect(post).toMatchObject({ body: 'sel body', author: { email: 'sel@example.com' } });
  });

  test('fluent API: user.findUnique().posts() and post.findFirst().author() come back opened', async () => {
    const u = await t.prisma.user.create({ data: { ...user('flu'), posts: { create: [{ title: 'f1', body: 'fluent body' }] }, profile: { create: { bio: 'fluent bio' } } } });
    const posts = await t.prisma.user.findUnique({ where: { id: u.id } }).posts();
    expect(posts!.map((p) => p.body)).toEqual(['fluent body']);
    const profile = await t.prisma.user.findUniqueOrThrow({ where: { id: u.id } }).profile();
    expect(profile!.bio).toBe('fluent bio');
    const author = await t.prisma.post.findFirst({ where: { authorId: u.id } }).author();
    expect(author).toMatchObject({ email: 'flu@example.com', ssn: 'ssn-flu' });
    const selected = await t.prisma.user.findUnique({ where: { id: u.id } }).posts({ select: { body: true } });
    expect(selected).toEqual([{ body: 'fluent body' }]);
  });
});

describe('transactions', () => {
  test('batch $transaction seals and opens each call', async () => {
    const [a, b, found] = await t.prisma.$transaction([
      t.prisma.user.create({ data: { id: 'tb1', ...user('tb1') } }),
      t.prisma.user.create({ data: { id: 'tb2', ...user('tb2') } }),
      t.prisma.user.findMany({ where: { id: { in: ['tb1', 'tb2'] } }, orderBy: { id: 'asc' } }),
    ]);
    expect([a.ssn, b.ssn]).toEqual(['ssn-tb1', 'ssn-tb2']);
    expect(found.map((u) => u.email)).toEqual(['tb1@example.com', 'tb2@example.com']);
    expect(await dump('users')).not.toMatch(/ssn-tb/);
  });

  test('batch $transaction with updates: each reads its row before the batch and writes with compare-and-swap', async () => {
    const a = await t.prisma.user.create({ data: user('tbu') });
    const [updated, found] = await t.prisma.$transaction([t.prisma.user.update({ where: { id: a.id }, data: { ssn: 'ssn-tbu2' } }), t.prisma.user.findMany({ where: { email: 'tbu@example.com' } })]);
    expect(updated.ssn).toBe('ssn-tbu2');
    expect(found.map((u) => u.id)).toEqual([a.id]);
    expect((await t.prisma.user.findUnique({ where: { id: a.id } }))!.ssn).toBe('ssn-tbu2');
    expect(await dump('users')).not.toMatch(/ssn-tbu2/);
  });

  test('interactive $transaction: an update sees the row the transaction created; a throw rolls back', async () => {
    const out = await t.prisma.$transaction(async (tx) => {
      const u = await tx.user.create({ data: user('itx') });
      const v = await tx.user.update({ where: { id: u.id }, data: { ssn: 'ssn-itx2' } });
      return { id: u.id, ssn: v.ssn, read: (await tx.user.findUnique({ where: { id: u.id } }))!.ssn };
    });
    expect(out).toMatchObject({ ssn: 'ssn-itx2', read: 'ssn-itx2' });
    expect((await t.prisma.user.findUnique({ where: { id: out.id } }))!.ssn).toBe('ssn-itx2');
    await expect(
      t.prisma.$transaction(async (tx) => {
        await tx.user.create({ data: { id: 'itx-rb', ...user('itx-rb') } });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await t.sql(`SELECT id FROM $S.users WHERE id = 'itx-rb'`)).toEqual([]);
  });
});

describe('raw queries and the misuse guard', () => {
  test('$queryRaw passes through untouched: it sees ciphertext', async () => {
    const u = await t.prisma.user.create({ data: user('raw') });
    const rows = await t.prisma.$queryRawUnsafe<{ email: string }[]>(`SELECT email FROM "${t.schema}".users WHERE id = $1`, u.id);
    expect(rows[0]!.email).toMatch(/^fs1\./);
  });

  test('assertActive tells the extended client from the discarded one', () => {
    expect(assertActive(t.prisma)).toMatchObject({ active: true, mode: 'strict', models: ['User', 'Post', 'Profile', 'Note'] });
    expect(() => assertActive(t.base)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(t.prisma.$fieldseal.active).toBe(true);
  });
});
