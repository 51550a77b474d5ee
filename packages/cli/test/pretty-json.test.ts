import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openOutput, writeJsonPretty } from '../src/io.js';
import { prettyJsonChunks } from '../src/lib/pretty-json.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-pretty-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cases: unknown[] = [
  {},
  [],
  { a: 1, b: 'x', c: null, d: true, e: [], f: {}, g: [1, [2, [3, [4, { h: 'deep\n"quoted"' }]]]], 'k\u00e9y "q"': { '': 0 } },
  { u: undefined, fn: () => 1, arr: [undefined, () => 1, Symbol('s'), 2], date: new Date(0), nested: { toJSON: () => 'custom' }, n: -0, big: 1e300 },
  Object.assign(Object.create(null) as object, { x: { y: { z: { w: [1, 2] } } } }),
  { customers: Array.from({ length: 50 }, (_, i) => ({ id: i, ssn: `fs1.x${i}`, tags: i % 2 ? [] : ['a', { b: [i] }] })), _fieldseal: { v: 1, groups: [{ keys: [{ p: 'local' }] }] } },
];

describe('the CLI writes a JSON document in pieces, byte-for-byte what JSON.stringify(doc, null, 2) gives', () => {
  test.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, value) => {
    expect([...prettyJsonChunks(value)].join('')).toBe(JSON.stringify(value, null, 2));
    for (const depth of [0, 1, 2, 5]) expect([...prettyJsonChunks(value, depth)].join('')).toBe(JSON.stringify(value, null, 2));
  });

  test('to a file (atomic output) and to stdout, with a trailing newline; a document larger than one piece arrives whole', async () => {
    const big = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, s: 'x'.repeat(40) })) };
    const path = join(dir, 'out.json');
    const file = await openOutput(path);
    await writeJsonPretty(file, big);
    await file.commit();
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify(big, null, 2) + '\n');
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    await writeJsonPretty(await openOutput(undefined, stdout), big);
    expect(text).toBe(JSON.stringify(big, null, 2) + '\n');
  });

  test('the pieces are bounded: a 5 MB document is written in many writes of at most about 64 KiB', async () => {
    const big = { rows: Array.from({ length: 50_000 }, (_, i) => ({ i, s: 'x'.repeat(80) })) };
    const sizes: number[] = [];
    await writeJsonPretty({ write: async (t: string) => void sizes.push(t.length) }, big);
    expect(sizes.length).toBeGreaterThan(50);
    expect(Math.max(...sizes)).toBeLessThan(70_000);
  });
});
