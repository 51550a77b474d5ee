import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LocalKeyring, type JsonObject, type JsonValue } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { backends } from './helpers/backends.js';

type Path = (string | number)[];

function allPaths(value: JsonValue, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), allPaths(v, [...prefix, i], out)));
  else if (value !== null && typeof value === 'object') for (const k of Object.keys(value)) out.push([...prefix, k]), allPaths(value[k]!, [...prefix, k], out);
  return out;
}

/** A selector for one concrete path, in bracket notation with JSON string escaping. */
function selectorOf(path: Path): string {
  return '$' + path.map((t) => (typeof t === 'number' ? `[${t}]` : `[${JSON.stringify(t)}]`)).join('');
}

const isPrefix = (a: Path, b: Path) => a.length < b.length && a.every((t, i) => t === b[i]);

/** Arbitrary document plus a non-overlapping selection of its paths, split over two groups. */
const docWithSelection = fc
  .dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), { maxKeys: 6 })
  .filter((d) => !Object.prototype.hasOwnProperty.call(d, '_fieldseal'))
  .chain((doc) => {
    const paths = allPaths(doc as JsonValue).filter((p) => p.every((t) => typeof t === 'number' || t.isWellFormed()));
    return fc.tuple(fc.constant(doc as JsonObject), fc.subarray(paths), fc.array(fc.boolean(), { minLength: paths.length, maxLength: paths.length }));
  })
  .map(([doc, picked, groupBits]) => {
    const chosen: Path[] = [];
    for (const p of picked) if (!chosen.some((c) => isPrefix(c, p) || isPrefix(p, c))) chosen.push(p);
    return { doc, chosen, inSecond: chosen.map((_, i) => groupBits[i] === true) };
  })
  .filter(({ doc }) => !JSON.stringify(doc).includes('fs1.'));

describe('round trip of arbitrary JSON (property-based)', () => {
  for (const [sealName, sealBackend] of backends) {
    for (const [openName, openBackend] of backends) {
      test(`sealed with ${sealName}, opened with ${openName}: every value and type restored exactly`, async () => {
        const a = await LocalKeyring.generate({ name: 'a' });
        const b = await LocalKeyring.generate({ name: 'b' });
        await fc.assert(
          fc.asyncProperty(docWithSelection, fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.startsWith('fieldseal:')), fc.string({ maxLength: 6 }), { maxKeys: 3 }), async ({ doc, chosen, inSecond }, context) => {
            const first = chosen.filter((_, i) => !inSecond[i]).map(selectorOf);
            const second = chosen.filter((_, i) => inSecond[i]).map(selectorOf);
            const sealed = await encryptWith(sealBackend, doc, { keyring: a, paths: first, groups: [{ name: 'second', keyring: b, paths: second }], context, strict: true });
            for (const p of chosen) {
              let v: unknown = sealed;
              for (const t of p) v = (v as Record<string, unknown>)[t as string];
              expect(v).toMatch(/^fs1\./);
            }
            const opened = await decryptWith(openBackend, sealed, { keyrings: { default: a, second: b }, context });
            expect(JSON.stringify(opened)).toBe(JSON.stringify(doc));
          }),
          { numRuns: 60 },
        );
      }, 60_000);
    }
  }
});
