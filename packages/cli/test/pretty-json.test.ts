import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeJsonPretty } from '../src/io.js';
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

  test('to a file and to stdout, with a trailing newline; a document larger than one piece arrives whole', async () => {
    const big = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, s: 'x'.repeat(40) })) };
    const path = join(dir, 'out.json');
    await writeJsonPretty(path, big);
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify(big, null, 2) + '\n');
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await writeJsonPretty(undefined, big, out);
    expect(text).toBe(JSON.stringify(big, null, 2) + '\n');
  });

  test('a file that cannot be created fails with its error code, not a crash', async () => {
    await expect(writeJsonPretty(join(dir, 'missing-dir', 'out.json'), { a: 1 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
