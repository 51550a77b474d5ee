import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { hkdfSha256 } from '../src/lib/backend/node.js';
import { backend as web } from '../src/lib/backend/web.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// RFC 5869 appendix A, the SHA-256 cases (1-3): an empty salt is the one fieldseal's beacon keys use.
const RFC5869 = [
  {
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    ikm: Buffer.from(Array.from({ length: 80 }, (_, i) => i)).toString('hex'),
    salt: Buffer.from(Array.from({ length: 80 }, (_, i) => 0x60 + i)).toString('hex'),
    info: Buffer.from(Array.from({ length: 80 }, (_, i) => 0xb0 + i)).toString('hex'),
    okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  { ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', salt: '', info: '', okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8' },
];

describe('node backend HKDF-SHA256 (HMAC composition)', () => {
  test.each(RFC5869)('RFC 5869 test case ($okm)', async (c) => {
    const length = c.okm.length / 2;
    expect(toHex(hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), length))).toBe(c.okm);
    expect(toHex(await web.hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), length))).toBe(c.okm);
  });

  test('equals node:crypto hkdfSync for every length class and salt longer than the HMAC block', () => {
    for (const length of [1, 31, 32, 33, 44, 64, 96, 97, 255 * 32]) {
      for (const saltLength of [0, 16, 32, 64, 65, 200]) {
        const ikm = randomBytes(32);
        const salt = randomBytes(saltLength);
        const info = randomBytes(19);
        expect(toHex(hkdfSha256(ikm, salt, info, length))).toBe(Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex'));
      }
    }
  });

  test('refuses lengths HKDF-SHA256 cannot produce, and returns memory of its own', () => {
    for (const length of [0, -1, 255 * 32 + 1, 1.5, Number.NaN]) expect(() => hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), length)).toThrow(RangeError);
    const out = hkdfSha256(randomBytes(32), randomBytes(32), new Uint8Array(3), 96);
    expect(out.buffer.byteLength).toBe(96);
    expect(out.byteOffset).toBe(0);
  });
});
