// Interop: rows written by the extension are rotated by `fieldseal rotate` over the PostgreSQL row
// store (the same row layout, by database column names), then read back through the extension.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { inspect } from '@fieldseal/core';
import { fieldseal } from '../src/index.js';
import { DATABASE_URL, models, setup } from './helpers/db.js';

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
let t: Awaited<ReturnType<typeof setup>>;
let dir: string;
beforeAll(async () => {
  t = await setup();
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-prisma-rotate-'));
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test('fieldseal rotate rewraps rows the extension wrote; the extension reads them back with the new key', async () => {
  const users = await Promise.all(
    Array.from({ length: 12 }, (_, i) => t.prisma.user.create({ data: { tenantId: i % 2 ? 'acme' : 'globex', name: `r${i}`, email: `rot${i}@example.com`, ssn: `rot-ssn-${i}`, born: i % 3 ? (new Date(Date.UTC(1980 + i, 1, 2)) as unknown as string) : null } })),
  );
  const before = await t.sql('SELECT id, email, ssn_enc, born, fs_header FROM $S.users ORDER BY id');
  const v2 = t.keyring.withNewPrimary();
  const keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
  const { stdout } = await promisify(execFile)(process.execPath, [
    bin, 'rotate',
    '--keyring', `local:${keys}`,
    '--store', DATABASE_URL,
    '--table', `${t.schema}.users`,
    '--id-column', 'id',
    '--columns', 'email,ssn_enc,born',
    '--header-column', 'fs_header',
    '--context-column', 'tenant=tenant_id',
    '--context', 'table=users',
    '--checkpoint', join(dir, 'ck.json'),
  ]);
  expect(stdout).toMatch(/complete/);
  const after = await t.sql('SELECT id, email, ssn_enc, born, fs_header FROM $S.users ORDER BY id');
  expect(after).toHaveLength(12);
  for (let i = 0; i < after.length; i++) {
    // A rewrap leaves every field ciphertext byte for byte and changes only the header.
    expect([after[i].email, after[i].ssn_enc, after[i].born]).toEqual([before[i].email, before[i].ssn_enc, before[i].born]);
    expect(after[i].fs_header).not.toBe(before[i].fs_header);
    const doc = Object.fromEntries(Object.entries(after[i]).filter(([k, v]) => k !== 'id' && v !== null)) as Record<string, string>;
    expect(inspect(doc, { headerName: 'fs_header' }).groups[0]!.wrappedKeys[0]!.keyId).toMatch(/^app\/[A-Za-z0-9_-]{11}\/v2$/);
  }
  const reader = t.base.$extends(fieldseal({ keyring: v2, beacons: t.beacons, models: models() }));
  for (const u of users) expect(await reader.user.findUnique({ where: { id: u.id } })).toEqual({ ...u, fieldseal: expect.stringMatching(/^fs1h\./) });
  expect((await reader.user.findMany({ where: { email: 'rot5@example.com' } })).map((u) => u.ssn)).toEqual(['rot-ssn-5']);
});

test('migration from prisma-field-encryption: cloak ciphertext imported by fieldseal rotate --mode import-cloak, then read in strict mode, beacons backfilled', async () => {
  const { generateKey, encryptStringSync } = await import('@47ng/cloak');
  const key = generateKey();
  // What prisma-field-encryption left: one cloak ciphertext per field, no header, no beacon.
  for (let i = 0; i < 6; i++) {
    await t.sql(`INSERT INTO $S.users (id, tenant_id, name, email, ssn_enc) VALUES ($1, 'acme', $2, $3, $4)`, [`pfe-${i}`, `pfe ${i}`, encryptStringSync(`pfe${i}@example.com`, key), i === 3 ? null : encryptStringSync(`pfe-ssn-${i}`, key)]);
  }
  // Before the import, strict mode refuses the rows (cloak ciphertext is not fieldseal ciphertext).
  await expect(t.prisma.user.findUnique({ where: { id: 'pfe-0' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INCOMPLETE' });
  const keys = join(dir, 'import-keys.json');
  await writeFile(keys, JSON.stringify(t.keyring.exportKeyFile()), { mode: 0o600 });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [bin, 'rotate', '--mode', 'import-cloak', '--keyring', `local:${keys}`, '--store', DATABASE_URL, '--table', `${t.schema}.users`, '--id-column', 'id', '--columns', 'email,ssn_enc,born', '--header-column', 'fs_header', '--context-column', 'tenant=tenant_id', '--context', 'table=users', '--checkpoint', join(dir, 'import.json')],
    { env: { ...process.env, PRISMA_FIELD_ENCRYPTION_KEY: key } },
  );
  expect(stdout).not.toContain(key);
  const stored = await t.sql(`SELECT * FROM $S.users WHERE id LIKE 'pfe-%' ORDER BY id`);
  expect(JSON.stringify(stored)).not.toMatch(/pfe\d@example|pfe-ssn|v1\.aesgcm256/);
  for (let i = 0; i < 6; i++) expect(await t.prisma.user.findUnique({ where: { id: `pfe-${i}` }, select: { email: true, ssn: true } })).toEqual({ email: `pfe${i}@example.com`, ssn: i === 3 ? null : `pfe-ssn-${i}` });
  // Beacons: the old hash columns are unkeyed; compute fieldseal beacons for the imported rows.
  for (const u of await t.prisma.user.findMany({ where: { id: { startsWith: 'pfe-' } }, select: { id: true, email: true } })) {
    await t.prisma.$executeRawUnsafe(`UPDATE "${t.schema}".users SET email_bidx = $1 WHERE id = $2`, await t.beacons.beacon('User.email', u.email!), u.id);
  }
  // (Restricted to these rows: the first test rewrapped the others to a key this client lacks.)
  expect((await t.prisma.user.findMany({ where: { email: 'pfe4@example.com', id: { startsWith: 'pfe-' } } })).map((u) => u.id)).toEqual(['pfe-4']);
});
