import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeContext } from '@fieldseal/core';
import { ByteWriter, allocPublic, utf8Bytes, utf8String } from '../src/lib/bytes.js';
import { fieldAad, fieldAadPrefix, fieldAads } from '../src/lib/format/document-keys.js';
import { backends } from './helpers/backends.js';

const reference = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a fatal TextDecoder gives: the string, or 'throws'. */
function decodedOrThrows(decode: (b: Uint8Array) => string, bytes: Uint8Array): string {
  try {
    return `ok:${decode(bytes)}`;
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
    return 'throws';
  }
}

describe('utf8String: the fast UTF-8 decoder equals a fatal TextDecoder', () => {
  test('edge cases: empty, ASCII, a BOM, invalid and overlong sequences, both sides of the 64-byte switch', () => {
    const cases = [
      [],
      [0x61],
      [0x00, 0x7f],
      [0xef, 0xbb, 0xbf, 0x61],
      [0x80],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x9f, 0x98, 0x80],
      [0x61, 0xff],
      Array(64).fill(0x61),
      Array(65).fill(0x61),
      [...Array(63).fill(0x61), 0xc3],
      [...Array(63).fill(0x61), 0xc3, 0xa9],
    ];
    for (const c of cases) {
      const bytes = Uint8Array.from(c);
      expect(decodedOrThrows(utf8String, bytes), JSON.stringify(c.slice(0, 8))).toBe(decodedOrThrows((b) => fatalDecoder.decode(b), bytes));
    }
  });

  test('property: any bytes, and the UTF-8 of any string, decode as the fatal TextDecoder decodes them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => reference.encode(s))), (bytes) => {
        expect(decodedOrThrows(utf8String, bytes)).toBe(decodedOrThrows((b) => fatalDecoder.decode(b), bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('utf8Bytes: the fast UTF-8 encoder equals TextEncoder.encode', () => {
  test('edge cases: empty, ASCII, 2/3/4-byte sequences, lone surrogates (U+FFFD), both sides of the 256-unit switch', () => {
    const cases = [
      '',
      'a',
      '/cards/1/number',
      '\u007f\u0080',
      'é',
      'ﬀ',
      '😀',
      '\ud800',
      'x\udc00y',
      'a'.repeat(256),
      'a'.repeat(257),
      'a'.repeat(255) + 'é',
      'a'.repeat(300) + 'é',
      'é'.repeat(300),
      '\ud83d'.repeat(400),
    ];
    for (const s of cases) expect(Array.from(utf8Bytes(s)), JSON.stringify(s.slice(0, 20))).toEqual(Array.from(reference.encode(s)));
  });

  test('property: any string, including lone surrogates', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ unit: 'grapheme', maxLength: 400 })), (s) => {
        expect(Array.from(utf8Bytes(s))).toEqual(Array.from(reference.encode(s)));
      }),
    );
  });
});

describe('allocPublic and ByteWriter on slab memory', () => {
  test('every allocation is zeroed and disjoint from every other, across slab refills', () => {
    const taken: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const b = allocPublic((i * 37) % 700);
      expect(b.every((x) => x === 0)).toBe(true);
      b.fill(0xa5);
      taken.push(b);
    }
    // Writing every allocation did not overwrite any other one.
    for (const b of taken) expect(b.every((x) => x === 0xa5)).toBe(true);
    const big = allocPublic(100_000);
    expect(big.length).toBe(100_000);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(100_000);
  });

  test('ByteWriter grows past its capacity and keeps earlier output intact', () => {
    const first = new ByteWriter(4).u32(0xdeadbeef).finish();
    const w = new ByteWriter(2);
    for (let i = 0; i < 1000; i++) w.u8(i & 0xff).u16(i).u32(i * 65_537);
    w.bytes(new Uint8Array(5000).fill(7));
    const out = w.finish();
    expect(out.length).toBe(1000 * 7 + 5000);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0; i < 1000; i++) {
      expect(view.getUint8(i * 7)).toBe(i & 0xff);
      expect(view.getUint16(i * 7 + 1)).toBe(i);
      expect(view.getUint32(i * 7 + 3)).toBe((i * 65_537) >>> 0);
    }
    expect(out.subarray(7000).every((x) => x === 7)).toBe(true);
    expect(Array.from(first)).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  test('fieldAads builds the same bytes as one fieldAad per pointer', () => {
    const prefix = fieldAadPrefix(new Uint8Array(32).fill(9), 'default', encodeContext({ tenant: 't1' }), 2);
    const pointers = ['/a', '/cards/0/number', '/é~1x', ''];
    const all = fieldAads(prefix, pointers);
    pointers.forEach((p, i) => expect(Array.from(all[i]!)).toEqual([...prefix, ...reference.encode(p)]));
    expect(Array.from(fieldAad(prefix, '/a'))).toEqual(Array.from(all[0]!));
  });

  test('encodeContext hands the caller its own buffer, not a view of shared memory', () => {
    const bytes = encodeContext({ tenant: 't1' });
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });
});

describe('backends: strict base64url and UTF-8 decoding agree with their definitions', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const noise = [...alphabet, '+', '/', '=', ' ', '\n', '.', '\u0000', 'Ł', 'é', '\u0141', '😀', '\ud800', 'ー'];
  /** Canonical unpadded base64url: the alphabet only, a length that is not 1 mod 4, and re-encoding gives it back. */
  const canonical = (text: string): Uint8Array | undefined => {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
    const bytes = Buffer.from(text, 'base64url');
    return bytes.toString('base64url') === text ? new Uint8Array(bytes) : undefined;
  };
  const texts = fc.oneof(
    fc.array(fc.constantFrom(...noise), { maxLength: 40 }).map((cs) => cs.join('')),
    // A valid encoding with one character replaced: the near misses a lenient decoder lets through.
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(...noise)).map(([b, i, c]) => {
      const t = Buffer.from(b).toString('base64url');
      const at = i % t.length;
      return t.slice(0, at) + c + t.slice(at + 1);
    }),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
  );

  for (const [name, backend] of backends) {
    test(`${name}: base64urlDecode accepts exactly the canonical language`, () => {
      for (const t of ['', 'AA', 'AAA', 'AAAA', 'AB', 'AAB', 'A', 'AAAA' + 'Ł' + 'AAA', 'AA==', 'A+/A', 'AA AA']) {
        const want = canonical(t);
        const got = backend.base64urlDecode(t);
        expect(got === undefined ? undefined : Array.from(got), JSON.stringify(t)).toEqual(want === undefined ? undefined : Array.from(want));
      }
      fc.assert(
        fc.property(texts, (t) => {
          const want = canonical(t);
          const got = backend.base64urlDecode(t);
          expect(got === undefined ? undefined : Array.from(got)).toEqual(want === undefined ? undefined : Array.from(want));
        }),
        { numRuns: 3000 },
      );
    });

    test(`${name}: utf8Decode is strict UTF-8 (ASCII fast path included)`, () => {
      const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      const outcome = (f: () => string) => {
        try {
          return { text: f() };
        } catch {
          return { error: true };
        }
      };
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => x & 0x7f)), fc.string({ unit: 'grapheme' }).map((s) => reference.encode(s))), (bytes) => {
          expect(outcome(() => backend.utf8Decode(bytes))).toEqual(outcome(() => strict.decode(bytes)));
        }),
        { numRuns: 2000 },
      );
      expect(backend.utf8Decode(reference.encode('\ufeffBOM kept'))).toBe('\ufeffBOM kept');
    });
  }
});
