import { hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { backends } from './helpers/backends.js';

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

// The node backend computes HKDF from HMACs (cheaper than hkdfSync); both backends must stay RFC 5869.
describe.each(backends)('HKDF-SHA256 (%s backend)', (_name, backend) => {
  test('RFC 5869 test cases 1 and 3 (no salt, no info)', async () => {
    const ikm = hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');
    expect(Buffer.from(await backend.hkdfSha256(ikm, hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42)).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    expect(Buffer.from(await backend.hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42)).toString('hex')).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  test('equals node:crypto hkdfSync for random keys, salts, infos and lengths, including whole blocks', async () => {
    for (let n = 0; n < 200; n++) {
      const ikm = randomBytes(randomInt(1, 80));
      const salt = randomBytes(randomInt(0, 80));
      const info = randomBytes(randomInt(0, 100));
      const length = n < 8 ? [1, 31, 32, 33, 44, 64, 96, 255 * 32][n]! : randomInt(1, 300);
      const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
      expect(Buffer.from(await backend.hkdfSha256(new Uint8Array(ikm), new Uint8Array(salt), new Uint8Array(info), length)).equals(expected)).toBe(true);
    }
  });
});

describe.each(backends)('a document\'s group keys (%s backend)', (_name, backend) => {
  test('zeroing the encryption and MAC keys leaves no key byte in the derivation\'s memory, only the public commitment', async () => {
    const { deriveGroupKeys } = await import('../src/lib/format/document-keys.js');
    const { zeroize } = await import('../src/lib/bytes.js');
    const keys = await deriveGroupKeys(backend, new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32)), 'default', 2);
    const commitment = Uint8Array.from(keys.commitment);
    expect(keys.encryptionKey.some((b) => b !== 0) && keys.macKey.some((b) => b !== 0)).toBe(true);
    zeroize(keys.encryptionKey, keys.macKey);
    // The keys and the commitment share the derivation's buffer; once the two keys are zeroed, all
    // that is left in it is the public commitment (the 32 bytes after them).
    expect(keys.macKey.buffer).toBe(keys.encryptionKey.buffer);
    const derived = new Uint8Array(keys.encryptionKey.buffer);
    const commitmentAt = keys.encryptionKey.byteOffset + 64;
    derived.forEach((b, i) => {
      if (i >= commitmentAt && i < commitmentAt + 32) expect(b).toBe(commitment[i - commitmentAt]);
      else expect(b, `byte ${i}`).toBe(0);
    });
    expect(keys.commitment).toEqual(commitment);
  });
});
