import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, type JsonObject, type Keyring, type LocalKeyFile } from '@fieldseal/core';
import { encryptWith } from '../packages/core/src/encrypt.js';
import { decryptWith } from '../packages/core/src/decrypt.js';
import { decodeHeader } from '../packages/core/src/lib/format/header.js';
import { DEFAULT_LIMITS } from '../packages/core/src/lib/limits.js';
import { backends } from '../packages/core/test/helpers/backends.js';
// @ts-expect-error plain JS test helper shared with the generator script
import { deterministicBackend, drbg } from './vectors/deterministic-backend.mjs';

interface VectorCase {
  id: number;
  description: string;
  result: 'valid' | 'invalid';
  flags: string[];
  plaintext?: JsonObject;
  encrypt?: { paths: string[]; groups: { name: string; keyring: string; paths: string[] }[]; context: Record<string, string>; requiredContext: Record<string, string>; headerName?: string };
  keyrings: Record<string, string>;
  decryptContext: Record<string, string>;
  dataKeys?: Record<string, string>;
  rngSeed?: string;
  expectedCode?: string;
  sealed: JsonObject;
}
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

// format-v1.json: suite 1, as written before suite 2 (frozen); format-v1-suite2.json: what encrypt writes now.
describe.each([['format-v1.json', 1], ['format-v1-suite2.json', 2]] as const)('published format vectors: %s', (file, suite) => {
  const vectors = JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as { keyFiles: Record<string, LocalKeyFile>; cases: VectorCase[] };
  const keyrings = Object.fromEntries(Object.entries(vectors.keyFiles).map(([id, f]) => [id, LocalKeyring.fromKeyFile(f)]));
  const keyringsOf = (c: VectorCase) => Object.fromEntries(Object.entries(c.keyrings).map(([group, id]) => [group, keyrings[id]!]));
  const label = (c: VectorCase) => `${file} case ${c.id}: ${c.description}`;

  test(`every valid case of ${file} is in suite ${suite}`, () => {
    for (const c of vectors.cases.filter((x) => x.result === 'valid')) {
      expect(decodeHeader(backends[0]![1], c.sealed[c.encrypt!.headerName ?? '_fieldseal'], DEFAULT_LIMITS).suite, label(c)).toBe(suite);
    }
  });

  test('the vector file has at least 10 valid and 10 invalid cases', () => {
    expect(vectors.cases.filter((c) => c.result === 'valid').length).toBeGreaterThanOrEqual(10);
    expect(vectors.cases.filter((c) => c.result === 'invalid').length).toBeGreaterThanOrEqual(10);
  });

  for (const [name, backend] of backends) {
    describe(`${name} backend`, () => {
      for (const c of vectors.cases.filter((x) => x.result === 'valid')) {
        test(`${label(c)} decrypts to its plaintext and re-encrypts byte for byte`, async () => {
          const headerName = c.encrypt!.headerName;
          const opened = await decryptWith(backend, c.sealed, { keyrings: keyringsOf(c), context: c.decryptContext, ...(headerName ? { headerName } : {}) });
          expect(JSON.stringify(opened)).toBe(JSON.stringify(c.plaintext));
          // Replay: the same random stream, recorded data keys and wrapped keys give the same bytes.
          const random = drbg(c.rngSeed!);
          const header = decodeHeader(backend, c.sealed[headerName ?? '_fieldseal'], DEFAULT_LIMITS);
          const replay = (group: string): Keyring => ({
            async wrap() {
              random(32);
              return { dataKey: fromHex(c.dataKeys![group]!), wrapped: header.groups.find((g) => g.name === group)!.wrapped };
            },
            unwrap: () => Promise.reject(new Error('not used')),
          });
          const e = c.encrypt!;
          const again = await encryptWith(deterministicBackend(backend, random), c.plaintext!, {
            ...(e.paths.length ? { keyring: replay('default'), paths: e.paths } : {}),
            groups: e.groups.map((g) => ({ name: g.name, keyring: replay(g.name), paths: g.paths })),
            context: e.context,
            requiredContext: e.requiredContext,
            ...(headerName ? { headerName } : {}),
          }, header.suite);
          expect(JSON.stringify(again)).toBe(JSON.stringify(c.sealed));
        });
      }
      for (const c of vectors.cases.filter((x) => x.result === 'invalid')) {
        test(`${label(c)} fails with ${c.expectedCode}`, async () => {
          const err = await decryptWith(backend, c.sealed, { keyrings: keyringsOf(c), context: c.decryptContext }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, label(c)).toBeInstanceOf(FieldsealError);
          expect((err as FieldsealError).code, label(c)).toBe(c.expectedCode);
        });
      }
    });
  }
});
