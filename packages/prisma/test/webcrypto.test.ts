// The extension on fieldseal's WebCrypto backend: the test bundles test/webcrypto/entry.ts with
// esbuild without the "node" export condition (as a bundler for an edge runtime would), checks that
// no fieldseal module of the bundle imports a Node built-in and that core's WebCrypto backend was
// chosen, runs it in a child process against the same database, and checks rows cross over between
// the two backends in both directions.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DATABASE_URL, setup } from './helpers/db.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = fileURLToPath(new URL('./webcrypto/.bundle.mjs', import.meta.url));
let t: Awaited<ReturnType<typeof setup>>;
beforeAll(async () => {
  t = await setup();
});
afterAll(async () => {
  await t?.close();
  await rm(out, { force: true });
});

test('the extension runs on the WebCrypto backend; rows cross between backends both ways', async () => {
  const result = await esbuild.build({
    entryPoints: [`${here}webcrypto/entry.ts`],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // The conditions of a non-Node runtime (plus the monorepo's source condition); no "node".
    conditions: ['fieldseal-source', 'worker', 'browser', 'import', 'default'],
    mainFields: ['module', 'main'],
    external: ['@prisma/*', 'pg', 'node:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((p) => p.endsWith('packages/core/src/lib/backend/web.ts'))).toBe(true);
  expect(inputs.some((p) => p.endsWith('packages/core/src/lib/backend/node.ts'))).toBe(false);
  for (const [path, input] of Object.entries(result.metafile.inputs)) {
    if (!/packages\/(core|prisma)\/src\//.test(path)) continue;
    for (const imp of input.imports) expect(`${path} -> ${imp.path}`).not.toMatch(/-> (node:|crypto$|buffer$)/);
  }

  const mine = await t.prisma.user.create({ data: { tenantId: 'node', name: 'from node', email: 'node@example.com', ssn: 'node-ssn', posts: { create: [{ title: 'n', body: 'node body' }] } } });
  const { stdout } = await promisify(execFile)(process.execPath, [out, JSON.stringify({ url: DATABASE_URL, schema: t.schema, keyFile: t.keyring.exportKeyFile(), beaconKey: t.beaconDocument, readId: mine.id })]);
  const seen = JSON.parse(stdout) as { written: { id: string; ssn: string; posts: { body: string }[] }; read: { ssn: string; posts: { body: string }[] }; byBeacon: string[] };
  // The WebCrypto side opened what the node:crypto side sealed …
  expect(seen.read).toMatchObject({ ssn: 'node-ssn', posts: [{ body: 'node body' }] });
  expect(seen.written).toMatchObject({ ssn: 'edge-ssn', posts: [{ body: 'edge body' }] });
  expect(seen.byBeacon).toEqual([seen.written.id]);
  // … sealed nothing in the clear …
  expect(JSON.stringify(await t.sql('SELECT * FROM $S.users'))).not.toMatch(/edge@example|edge-ssn/);
  expect(JSON.stringify(await t.sql('SELECT * FROM $S."Post"'))).not.toContain('edge body');
  // … and the node:crypto side opens what the WebCrypto side sealed.
  expect(await t.prisma.user.findUnique({ where: { id: seen.written.id }, include: { posts: true } })).toMatchObject({ email: 'edge@example.com', ssn: 'edge-ssn', posts: [{ body: 'edge body' }] });
});
