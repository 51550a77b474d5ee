import { describe, expect, test } from 'vitest';
import { LocalKeyring, type JsonObject, type Keyring } from '@fieldseal/core';
import { LARGE_FIELD_BYTES } from '../src/lib/backend/types.js';
import { SLICE_UNITS } from '../src/lib/utf8-slices.js';
import { ASSEMBLY_MAX_BYTES } from '../src/lib/backend/node.js';
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

describe('sealTextToBase64url: a large string sealed slice by slice', () => {
  const TYPE_STRING = 0x73;
  test('opens to the type byte and the UTF-8 of the text, on node and WebCrypto, across slice boundaries and surrogate pairs', async () => {
    const texts = [
      'a'.repeat(SLICE_UNITS - 1) + '😀' + 'b'.repeat(SLICE_UNITS),
      'é'.repeat(SLICE_UNITS * 2 + 1),
      '😀'.repeat(SLICE_UNITS + 1),
      'x'.repeat(LARGE_FIELD_BYTES) + '€',
      'y'.repeat(3 * SLICE_UNITS),
    ];
    for (const text of texts) {
      const sealed = nodeBackend.sealTextToBase64url!(key, aad, TYPE_STRING, text);
      const expected = new Uint8Array([TYPE_STRING, ...new TextEncoder().encode(text)]);
      for (const backend of [nodeBackend, webBackend]) {
        const [opened] = await backend.openMany(key, [{ aad, blob: backend.base64urlDecode(sealed)! }]);
        expect(Buffer.from(opened!).equals(Buffer.from(expected)), `${backend.name}, ${text.length} units`).toBe(true);
      }
    }
  });

  test('the reused assembly buffer: results made before a later, smaller or larger one are unchanged, and outputs past its size (not kept) open too', async () => {
    const open = async (sealed: string) => {
      const [opened] = await nodeBackend.openMany(key, [{ aad, blob: nodeBackend.base64urlDecode(sealed)! }]);
      return Buffer.from(opened!).subarray(1).toString('utf8');
    };
    // Growing, shrinking, then past ASSEMBLY_MAX_BYTES and back: each result is checked after all
    // the others were made, so a later call that wrote over an earlier one's bytes is caught.
    const texts = [
      'a'.repeat(LARGE_FIELD_BYTES),
      'b'.repeat(3 * LARGE_FIELD_BYTES + 7),
      'c'.repeat(LARGE_FIELD_BYTES + 1),
      'd'.repeat(ASSEMBLY_MAX_BYTES),
      'é'.repeat(ASSEMBLY_MAX_BYTES / 2 + 5),
      'e'.repeat(LARGE_FIELD_BYTES + 2),
    ];
    const sealed = texts.map((t) => nodeBackend.sealTextToBase64url!(key, aad, TYPE_STRING, t));
    for (let i = 0; i < texts.length; i++) expect(await open(sealed[i]!), `text ${i}`).toBe(texts[i]);
  });

  test('each call draws a fresh IV', () => {
    const text = 'z'.repeat(LARGE_FIELD_BYTES);
    expect(nodeBackend.sealTextToBase64url!(key, aad, TYPE_STRING, text).slice(0, 16)).not.toBe(nodeBackend.sealTextToBase64url!(key, aad, TYPE_STRING, text).slice(0, 16));
  });
});

describe('documents with large fields', () => {
  test('the header is built and checked before any field is sealed: a header over maxHeaderBytes costs no encryption, and an abort before the seal costs none either', async () => {
    const keyring = await LocalKeyring.generate({ name: 'large' });
    let seals = 0;
    const counting = {
      ...nodeBackend,
      sealMany: (k: Uint8Array, items: Parameters<typeof nodeBackend.sealMany>[1]) => {
        seals++;
        return nodeBackend.sealMany(k, items);
      },
      sealTextToBase64url: (k: Uint8Array, a: Uint8Array, tag: number, text: string) => {
        seals++;
        return nodeBackend.sealTextToBase64url!(k, a, tag, text);
      },
    };
    const doc: JsonObject = { big: 'x'.repeat(LARGE_FIELD_BYTES), small: 'y' };
    await expect(encryptWith(counting, doc, { keyring, paths: ['$.big', '$.small'], limits: { maxHeaderBytes: 64 } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED', limit: 'maxHeaderBytes' });
    expect(seals).toBe(0);
    const sealed = await encryptWith(counting, doc, { keyring, paths: ['$.big', '$.small'] });
    expect(seals).toBe(2);
    expect(await decryptWith(webBackend, sealed, { keyring })).toEqual(doc);
  });

  test('a large string over maxFieldBytes in UTF-8 (but not in code units) is refused with a typed error before any key is used', async () => {
    const keyring = await LocalKeyring.generate({ name: 'large' });
    let wraps = 0;
    const counting: Keyring = {
      wrap: (request) => {
        wraps++;
        return keyring.wrap(request);
      },
      unwrap: (request) => keyring.unwrap(request),
    };
    const doc: JsonObject = { big: '€'.repeat(LARGE_FIELD_BYTES) };
    for (const backend of [nodeBackend, webBackend]) {
      await expect(encryptWith(backend, doc, { keyring: counting, paths: ['$.big'], limits: { maxFieldBytes: LARGE_FIELD_BYTES * 2 } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED', limit: 'maxFieldBytes' });
    }
    expect(wraps).toBe(0);
    // Exactly at the limit it is sealed.
    const sealed = await encryptWith(nodeBackend, doc, { keyring, paths: ['$.big'], limits: { maxFieldBytes: LARGE_FIELD_BYTES * 3 } });
    expect(await decryptWith(webBackend, sealed, { keyring, limits: { maxFieldBytes: LARGE_FIELD_BYTES * 3 } })).toEqual(doc);
  });

  test('a keyring is told a large string\'s size in UTF-8 bytes (a caching keyring counts them against its limit)', async () => {
    const inner = await LocalKeyring.generate({ name: 'large' });
    const told: (number | undefined)[] = [];
    const observing: Keyring = {
      wrap: (request) => {
        told.push(request.plaintextBytes);
        return inner.wrap(request);
      },
      unwrap: (request) => inner.unwrap(request),
    };
    const text = 'é'.repeat(LARGE_FIELD_BYTES) + '😀';
    for (const backend of [nodeBackend, webBackend]) await encryptWith(backend, { t: text, s: 'ab' }, { keyring: observing, paths: ['$.t', '$.s'] });
    expect(told).toEqual([LARGE_FIELD_BYTES * 2 + 4 + 2, LARGE_FIELD_BYTES * 2 + 4 + 2]);
  });

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
