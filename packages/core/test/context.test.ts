import { describe, expect, test } from 'vitest';
import { decrypt, encodeContext, encrypt, FieldsealError, LocalKeyring } from '@fieldseal/core';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('canonical encryption context (security property 7)', () => {
  test('any number of pairs, in any insertion order, encodes in UTF-8 byte order (short lists are sorted in place)', () => {
    const alphabet = ['a', 'B', 'é', '😀', 'ﬀ', 'Z', 'ä', '0', '~', 'aa', 'a\u0000', 'ＡＢ', '\uFFFF'];
    let seed = 7;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 200; round++) {
      const size = 1 + (round % 24);
      const ctx: Record<string, string> = {};
      while (Object.keys(ctx).length < size) ctx[alphabet[next(alphabet.length)]! + alphabet[next(alphabet.length)]! + String(next(50))] = String(next(1000));
      const expected = Object.keys(ctx).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const parts: Buffer[] = [Buffer.from([0, 0, 0, size])];
      for (const k of expected) {
        for (const b of [Buffer.from(k), Buffer.from(ctx[k]!)]) {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(b.length);
          parts.push(len, b);
        }
      }
      expect(hex(encodeContext(ctx))).toBe(Buffer.concat(parts).toString('hex'));
    }
  });

  test('known answer: sorted by UTF-8 bytes (not UTF-16, not locale), length-prefixed', () => {
    // Computed independently (Python: sorted by key.encode("utf-8"), struct ">I" prefixes).
    const ctx = { b: '2', a: '1', é: 'x', '😀': 'smile', ﬀ: 'lig', Z: 'upper', ä: 'ü' };
    expect(hex(encodeContext(ctx))).toBe(
      '00000007000000015a000000057570706572000000016100000001310000000162000000013200000002c3a400000002c3bc00000002c3a9000000017800000003efac80000000036c696700000004f09f988000000005736d696c65',
    );
    // UTF-16 code-unit order would put U+1F600 (a surrogate pair, 0xD83D…) before U+FB00.
    expect(['ﬀ', '😀'].sort()).toEqual(['😀', 'ﬀ']);
  });

  test('the empty context and insertion order', () => {
    expect(hex(encodeContext({}))).toBe('00000000');
    expect(hex(encodeContext({ x: '1', y: '2' }))).toBe(hex(encodeContext({ y: '2', x: '1' })));
  });

  test('reserved prefix, non-string values and lone surrogates are refused', () => {
    expect(() => encodeContext({ 'fieldseal:x': '1' })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_CONTEXT_MISMATCH' }));
    expect(() => encodeContext({ a: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => encodeContext({ a: '\ud800' })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => encodeContext({ '': 'v' })).toThrow(FieldsealError);
  });

  test('non-ASCII context keys bind: a document sealed under one value does not open under another', async () => {
    const keyring = await LocalKeyring.generate();
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: { 'mandant/Größe': 'ä' }, requiredContext: { '行': '1' } });
    expect((await decrypt(sealed, { keyring, context: { 'mandant/Größe': 'ä', '行': '1' } })).a).toBe('x');
    await expect(decrypt(sealed, { keyring, context: { 'mandant/Größe': 'a', '行': '1' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_CONTEXT_MISMATCH' });
    await expect(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: { 'fieldseal:tenant': 't' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_CONTEXT_MISMATCH' });
    await expect(encrypt({ a: 'x' }, { keyring, paths: ['$.a'], context: { k: 'v' }, requiredContext: { k: 'v' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });
});
