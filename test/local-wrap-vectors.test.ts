import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { encodeContext, LocalKeyring, type LocalKeyFile } from '@fieldseal/core';
import { localUnwrap, localWrap } from '../packages/core/src/lib/local-wrap.js';
import { backends } from '../packages/core/test/helpers/backends.js';

interface WrapCase {
  id: number;
  description: string;
  result: 'valid' | 'invalid';
  version?: 1 | 2;
  keyFile: string;
  keyId: string;
  context: Record<string, string>;
  canonicalContext?: string;
  dataKey?: string;
  salt?: string;
  expectedCode?: string;
  ciphertext: string;
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/local-wrap-v2.json', import.meta.url), 'utf8')) as { keyFiles: Record<string, LocalKeyFile>; cases: WrapCase[] };
const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const label = (c: WrapCase) => `local-wrap-v2.json case ${c.id}: ${c.description}`;
const kekOf = (f: LocalKeyFile) => new Uint8Array(Buffer.from(f.keys.find((k) => k.version === f.primary)!.key, 'base64url'));

describe('published local-wrap vectors', () => {
  test('the vector file has version 1 and version 2 cases, valid and invalid', () => {
    expect(vectors.cases.filter((c) => c.result === 'valid' && c.version === 2).length).toBeGreaterThanOrEqual(3);
    expect(vectors.cases.filter((c) => c.result === 'valid' && c.version === 1).length).toBeGreaterThanOrEqual(1);
    expect(vectors.cases.filter((c) => c.result === 'invalid').length).toBeGreaterThanOrEqual(5);
  });

  for (const c of vectors.cases) {
    const keyring = LocalKeyring.fromKeyFile(vectors.keyFiles[c.keyFile]!);
    const wrapped = [{ provider: 'local', keyId: c.keyId, ciphertext: hex(c.ciphertext) }];
    if (c.result === 'valid') {
      test(`${label(c)}: LocalKeyring unwraps it, and its key id is the one the key file gives`, async () => {
        expect(keyring.keyIds[0]).toBe(c.keyId);
        expect(Buffer.from(encodeContext(c.context)).toString('hex')).toBe(c.canonicalContext);
        expect(Buffer.from(await keyring.unwrap({ wrapped, context: c.context })).toString('hex')).toBe(c.dataKey);
      });
      for (const [name, backend] of backends) {
        test(`${label(c)}: ${name} backend opens it${c.version === 2 ? ' and rewraps it byte for byte' : ''}`, async () => {
          const kek = kekOf(vectors.keyFiles[c.keyFile]!);
          const canonical = hex(c.canonicalContext!);
          expect(Buffer.from(await localUnwrap(backend, kek, c.keyId, canonical, hex(c.ciphertext))).toString('hex')).toBe(c.dataKey);
          if (c.version === 2) expect(Buffer.from(await localWrap(backend, kek, c.keyId, canonical, hex(c.dataKey!), hex(c.salt!))).toString('hex')).toBe(c.ciphertext);
        });
      }
    } else {
      test(`${label(c)}: refused with ${c.expectedCode}`, async () => {
        await expect(keyring.unwrap({ wrapped, context: c.context })).rejects.toMatchObject({ code: c.expectedCode });
      });
    }
  }

  test('LocalKeyring writes version 2 (65 bytes, a fresh salt each time) and opens what it wrote', async () => {
    const keyring = LocalKeyring.fromKeyFile(vectors.keyFiles.k1!);
    const a = (await keyring.wrap({ context: { t: '1' } })).wrapped[0]!;
    const b = (await keyring.wrap({ context: { t: '1' } })).wrapped[0]!;
    expect([a.ciphertext.length, a.ciphertext[0]]).toEqual([65, 2]);
    expect(Buffer.from(a.ciphertext.subarray(1, 17)).equals(Buffer.from(b.ciphertext.subarray(1, 17)))).toBe(false);
    expect(await keyring.unwrap({ wrapped: [a], context: { t: '1' } })).toHaveLength(32);
  });
});
