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
    expect(inspect(doc, { headerName: 'fs_header' }).groups[0]!.wrappedKeys[0]!.keyId).toBe('app/v2');
  }
  const reader = t.base.$extends(fieldseal({ keyring: v2, beacons: t.beacons, models: models() }));
  for (const u of users) expect(await reader.user.findUnique({ where: { id: u.id } })).toEqual({ ...u, fieldseal: expect.stringMatching(/^fs1h\./) });
  expect((await reader.user.findMany({ where: { email: 'rot5@example.com' } })).map((u) => u.ssn)).toEqual(['rot-ssn-5']);
});
