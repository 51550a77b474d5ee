import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { defineRowLayout, FieldsealError, LocalKeyring, type Keyring, type LocalKeyFile, type RowLayoutSpec } from '@fieldseal/core';
import { decryptWith } from '../packages/core/src/decrypt.js';
import { openRowWith } from '../packages/core/src/rows/open-row.js';
import { sealRowWith } from '../packages/core/src/rows/seal-row.js';
import { decodeHeader } from '../packages/core/src/lib/format/header.js';
import { DEFAULT_LIMITS } from '../packages/core/src/lib/limits.js';
import { backends } from '../packages/core/test/helpers/backends.js';
// @ts-expect-error plain JS test helper shared with the generator script
import { deterministicBackend, drbg } from './vectors/deterministic-backend.mjs';

interface RowCase {
  id: number;
  description: string;
  result: 'valid' | 'invalid';
  layout: RowLayoutSpec;
  keyrings: Record<string, string>;
  rngSeed?: string;
  dataKeys?: Record<string, string>;
  plaintext?: Record<string, unknown>;
  sealed: Record<string, unknown>;
  expectedCodes?: string[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/rows-v1.json', import.meta.url), 'utf8')) as { keyFiles: Record<string, LocalKeyFile>; cases: RowCase[] };
const keyrings = Object.fromEntries(Object.entries(vectors.keyFiles).map(([id, f]) => [id, LocalKeyring.fromKeyFile(f)]));
const keyringsOf = (c: RowCase) => Object.fromEntries(Object.entries(c.keyrings).map(([group, id]) => [group, keyrings[id]!]));
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const label = (c: RowCase) => `rows-v1.json case ${c.id}: ${c.description}`;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** The JSON form the vectors use: codec values as the strings that were sealed. */
function toJsonRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? b64(v) : v]));
}
/** Back from the JSON form to application values, by the layout's codecs. */
function fromJsonRow(c: RowCase, row: Record<string, unknown>): Record<string, unknown> {
  const layout = defineRowLayout(c.layout);
  const out = { ...row };
  for (const col of layout.columns) {
    const v = out[col.property];
    if (typeof v !== 'string') continue;
    if (col.codec === 'date') out[col.property] = new Date(v);
    if (col.codec === 'bigint') out[col.property] = BigInt(v);
    if (col.codec === 'bytes') out[col.property] = new Uint8Array(Buffer.from(v, 'base64url'));
  }
  return out;
}

describe('published row vectors (FORMAT.md §9)', () => {
  test('the vector file has valid and invalid cases', () => {
    expect(vectors.cases.filter((c) => c.result === 'valid').length).toBeGreaterThanOrEqual(4);
    expect(vectors.cases.filter((c) => c.result === 'invalid').length).toBeGreaterThanOrEqual(7);
  });

  for (const [name, backend] of backends) {
    describe(`${name} backend`, () => {
      for (const c of vectors.cases.filter((x) => x.result === 'valid')) {
        test(`${label(c)} opens to its plaintext, by openRow and by the documented mapping, and re-seals byte for byte`, async () => {
          const layout = defineRowLayout(c.layout);
          const opened = await openRowWith(backend, c.sealed, layout, { keyrings: keyringsOf(c) });
          const headerName = layout.header.name;
          expect(toJsonRow({ ...opened, [headerName]: null })).toEqual(c.plaintext);

          const header = c.sealed[headerName];
          if (header === null) return;
          // The mapping written out by hand from FORMAT.md §9, without the rows code: the document
          // is the non-NULL sealed columns plus the header; ids and context columns are required context.
          const doc: Record<string, unknown> = { [headerName]: header };
          for (const col of layout.columns) if (c.sealed[col.name] !== null && c.sealed[col.name] !== undefined) doc[col.name] = c.sealed[col.name];
          const context: Record<string, string> = { ...layout.context };
          for (const b of layout.bindings) context[b.key] = String(c.sealed[b.name]);
          const plain = await decryptWith(backend, doc, { keyrings: keyringsOf(c), headerName, context });
          for (const col of layout.columns) if (col.name in plain) expect(plain[col.name]).toEqual(c.plaintext![col.name]);

          const random = drbg(c.rngSeed!);
          const decoded = decodeHeader(backend, header, DEFAULT_LIMITS);
          const replay = (group: string): Keyring => ({
            async wrap() {
              random(32);
              return { dataKey: fromHex(c.dataKeys![group]!), wrapped: decoded.groups.find((g) => g.name === group)!.wrapped };
            },
            unwrap: () => Promise.reject(new Error('not used')),
          });
          const again = await sealRowWith(deterministicBackend(backend, random), fromJsonRow(c, c.plaintext!), layout, { keyrings: Object.fromEntries(layout.groups.map((g) => [g, replay(g)])) }, decoded.suite);
          expect(JSON.stringify(toJsonRow(again))).toBe(JSON.stringify(c.sealed));
        });
      }
      for (const c of vectors.cases.filter((x) => x.result === 'invalid')) {
        test(`${label(c)} fails with ${c.expectedCodes!.join(' or ')}`, async () => {
          const err = await openRowWith(backend, c.sealed, defineRowLayout(c.layout), { keyrings: keyringsOf(c) }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, label(c)).toBeInstanceOf(FieldsealError);
          expect(c.expectedCodes, label(c)).toContain((err as FieldsealError).code);
        });
      }
    });
  }
});
