import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runChild } from './helpers/child.js';
import { keyrings, sealMany } from './helpers/data.js';
import { writeRepeated } from './helpers/ndjson-file.js';

const CHILD = new URL('./fixtures/memory-child.mjs', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  // dist/ is built once for the whole suite by test/setup/build.mjs (vitest globalSetup).
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-mem-'));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rotate(records: number): Promise<{ maxRssBytes: number; scanned: number; rotated: number; fileBytes: number }> {
  const { v1 } = await keyrings();
  const path = join(dir, `m-${records}.ndjson`);
  await writeRepeated(path, await sealMany(50, v1), records);
  const fileBytes = (await stat(path)).size;
  // A young generation of 1 MiB semi-spaces: with the default (up to 16 MiB each) when a scavenge
  // happens moves the peak RSS by more than the bound below, from run to run of the same file.
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=1`.trim();
  const run = await runChild(CHILD, { FIELDSEAL_MEMORY_CHILD: JSON.stringify({ path, transform: 'marker' }), NODE_OPTIONS: nodeOptions });
  expect(run.code, run.stderr).toBe(0);
  const text = await readFile(path, 'utf8');
  // Every line was rewritten through the store (the marker is the record's line number).
  expect(text.endsWith(`"rotatedAt":"${records}"}\n`)).toBe(true);
  await rm(path);
  return { ...(run.report as unknown as { maxRssBytes: number; scanned: number; rotated: number }), fileBytes };
}

describe('bounded memory', () => {
  // Sizes are kept small for CI time; `npm run bench:1m -w @fieldseal/rotation` runs the real
  // rewrap over 1,000,000 records (figures in the README).
  test('peak RSS of an NDJSON rotation does not grow with the file (25k vs 75k records)', async () => {
    // One after the other: two children at once on two cores made each one's peak depend on the other.
    const small = await rotate(25_000);
    const large = await rotate(75_000);
    expect(small).toMatchObject({ scanned: 25_000, rotated: 25_000 });
    expect(large).toMatchObject({ scanned: 75_000, rotated: 75_000 });
    // 50,000 more records: keeping each one's text adds about 97 MiB (measured), parsed more.
    const grownFile = large.fileBytes - small.fileBytes;
    const grownRss = large.maxRssBytes - small.maxRssBytes;
    expect(grownFile).toBeGreaterThan(25 * 2 ** 20);
    expect(grownRss).toBeLessThan(24 * 2 ** 20);
  }, 90_000);
});
