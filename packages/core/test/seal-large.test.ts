import { describe, expect, test } from 'vitest';
import { LocalKeyring, type JsonObject } from '@fieldseal/core';
import { LARGE_FIELD_BYTES } from '../src/lib/backend/types.js';
import { decryptWith } from '../src/decrypt.js';
import { encryptWith } from '../src/encrypt.js';
import { nodeBackend, webBackend } from './helpers/backends.js';

// Fields of LARGE_FIELD_BYTES or more are sealed by the node backend's sealToBase64url, which
// encodes the IV, the body cut to a multiple of 3 bytes and the rest with the tag separately
// instead of one blob. It must give exactly the text sealMany's blob gives, for every length mod 3.

const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
const iv = new Uint8Array(12).map((_, i) => 200 - i);
const aad = new TextEncoder().encode('fieldseal test aad');

async function viaBlob(plaintext: Uint8Array, backend = nodeBackend): Promise<string> {
  const [blob] = await backend.sealMany(key, [{ aad, plaintext, iv }]);
  return backend.base64urlEncode(blob!);
}

describe('sealToBase64url: the pieces encode to the blob\'s text', () => {
  test('every length around the threshold and small ones, each remainder mod 3, against node\'s and WebCrypto\'s blob', async () => {
    const lengths = [0, 1, 2, 3, 4, 5, LARGE_FIELD_BYTES - 1, LARGE_FIELD_BYTES, LARGE_FIELD_BYTES + 1, LARGE_FIELD_BYTES + 2, (1 << 20) + 1];
    for (const n of lengths) {
      const plaintext = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      const text = nodeBackend.sealToBase64url!(key, { aad, plaintext, iv });
      expect(text, `length ${n}`).toBe(await viaBlob(plaintext));
      expect(text, `length ${n} (web)`).toBe(await viaBlob(plaintext, webBackend));
    }
  });

  test('without a fixed IV each call draws a fresh one, and the result opens', async () => {
    const plaintext = new Uint8Array(LARGE_FIELD_BYTES + 1).fill(65);
    const a = nodeBackend.sealToBase64url!(key, { aad, plaintext });
    const b = nodeBackend.sealToBase64url!(key, { aad, plaintext });
    expect(a.slice(0, 16)).not.toBe(b.slice(0, 16));
    const [opened] = await nodeBackend.openMany(key, [{ aad, blob: nodeBackend.base64urlDecode(a)! }]);
    expect(opened).toEqual(plaintext);
  });
});

describe('documents with large fields', () => {
  test('sealed on node (large fields through the pieces) open on both backends, and the other way round; tampering is caught', async () => {
    const keyring = await LocalKeyring.generate({ name: 'large' });
    const doc: JsonObject = {
      a: 'x'.repeat(LARGE_FIELD_BYTES - 1),
      b: 'é'.repeat(LARGE_FIELD_BYTES / 2 + 1),
      c: 'y'.repeat(LARGE_FIELD_BYTES + 1),
      d: { nested: 'z'.repeat(LARGE_FIELD_BYTES * 2) },
      small: 'short',
    };
    const paths = ['$.a', '$.b', '$.c', '$.d', '$.small'];
    for (const [from, to] of [[nodeBackend, webBackend], [webBackend, nodeBackend], [nodeBackend, nodeBackend]] as const) {
      const sealed = await encryptWith(from, doc, { keyring, paths, context: { t: '1' } });
      expect(await decryptWith(to, sealed, { keyring, context: { t: '1' } })).toEqual(doc);
      const c = sealed.c as string;
      const at = Math.floor(c.length / 2);
      const tampered = { ...sealed, c: c.slice(0, at) + (c[at] === 'A' ? 'B' : 'A') + c.slice(at + 1) };
      await expect(decryptWith(to, tampered, { keyring, context: { t: '1' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
    }
  });
});
