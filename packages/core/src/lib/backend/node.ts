import { isAscii } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomFillSync, timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto';
import { DecryptionFailedError } from '../../errors.js';
import { IV_LENGTH, TAG_LENGTH, type Backend, type OpenItem, type SealItem } from './types.js';
import { eachUtf8Slice } from '../utf8-slices.js';

// IVs come from a pooled CSPRNG buffer: one randomFillSync per 4 KiB instead of one call per
// field. Each IV is handed out once; the pool is refilled, never rewound. A process or VM snapshot
// copies the pool, so clones restored from one snapshot repeat up to 4 KiB of it: only IVs (under
// per-document keys, see ARCHITECTURE.md) are drawn here, never data keys or message ids.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let poolOffset = POOL_SIZE;
let poolDraws = 0;

/** @internal How many values were taken from the IV pool so far (tests check what uses it). */
export function pooledRandomDraws(): number {
  return poolDraws;
}

/** Fill the first `length` bytes of `target` from the pool (length <= POOL_SIZE / 4). */
function takeRandomInto(target: Buffer, length: number): void {
  poolDraws++;
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  pool.copy(target, 0, poolOffset, poolOffset + length);
  pool.fill(0, poolOffset, poolOffset + length);
  poolOffset += length;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toUint8(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/*
 * A large field's IV, ciphertext pieces and tag are copied into one buffer that is kept and reused
 * for the next large field, then base64url-encoded from it. A fresh megabyte per document (what
 * Buffer.concat gives) is external memory V8 counts toward its next full collection, and memory the
 * allocator returns to the system and takes back, one page fault at a time: W2 (one 1 MiB field)
 * took ~30 page faults per document with a fresh buffer and ~15 with this one, and page faults
 * cost tens of microseconds each on a virtual machine (issue 18). It holds ciphertext only, which
 * is not secret, and nothing after the copy reads it. Larger outputs are not kept (a process keeps
 * at most ASSEMBLY_MAX_BYTES).
 */
/** @internal The largest large-field output whose assembly buffer is kept (tests go past it). */
export const ASSEMBLY_MAX_BYTES = 4 * 1024 * 1024;
let assembly: Buffer | undefined;

/** base64url of `pieces` concatenated, without allocating their concatenation when it is small enough to reuse a buffer. */
function piecesToBase64url(pieces: readonly Uint8Array[]): string {
  let total = 0;
  for (const p of pieces) total += p.length;
  if (total > ASSEMBLY_MAX_BYTES) return Buffer.concat(pieces, total).toString('base64url');
  if (assembly === undefined || assembly.length < total) assembly = Buffer.allocUnsafeSlow(Math.min(ASSEMBLY_MAX_BYTES, Math.max(total, 2 * (assembly?.length ?? 0))));
  let offset = 0;
  for (const p of pieces) {
    assembly.set(p, offset);
    offset += p.length;
  }
  return assembly.toString('base64url', 0, total);
}

const BASE64URL_VALUES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Strict, canonical base64url (no padding) on Buffer's lenient decoder, which skips characters
 * outside its alphabet, reads other scripts by their low byte, also accepts '+' and '/', stops at
 * '=' and ignores nonzero trailing bits. Non-ASCII text, '+', '/' and '=' are refused outright.
 * Every skipped character would remove 6 bits, which always shortens the output for a length that
 * is not 1 mod 4, so a full-length output proves that every character was base64url; the last
 * character's unused bits must be zero. This is several times cheaper than re-encoding and
 * comparing on a 1 MiB field (W2), and is checked against that definition by a property test.
 */
export function strictBase64urlDecode(text: string): Uint8Array | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  // Non-ASCII first: the decoder reads a two-byte string's characters by their low byte ('Ł' as 'A').
  if (Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  if (text.includes('+') || text.includes('/') || text.includes('=')) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== Math.floor((text.length * 3) / 4)) return undefined;
  if (rest !== 0) {
    const last = BASE64URL_VALUES.indexOf(text[text.length - 1]!);
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  return toUint8(bytes);
}

/**
 * RFC 5869 HKDF-SHA256. hkdfSync, not HMACs chained on createHmac: both were measured on an idle
 * machine (issue 18), and for the 96 bytes of a document's keys hkdfSync took 12 µs of CPU against
 * 16 µs, for the 44 bytes of a local wrap about the same (11 µs); under load the order can flip.
 */
function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** node:crypto backend: synchronous primitives behind the async seam. */
export const backend: Backend = {
  name: 'node',
  randomBytes(length) {
    // Data keys, message ids, salts and key ids: a fresh draw each, never the IV pool (which a
    // snapshot would replay), in an ArrayBuffer of their own (not Node's shared 8 KiB Buffer pool,
    // where a DEK kept by a CachingKeyring would leak through any neighbour's `.buffer`).
    return randomFillSync(new Uint8Array(length));
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdfSha256(ikm, salt, info, length);
  },
  async hmacSha256(key, data) {
    return toUint8(createHmac('sha256', key).update(data).digest());
  },
  async sealMany(key, items: readonly SealItem[]) {
    // A raw key goes straight to OpenSSL; a KeyObject per call would only add an allocation.
    const out: Uint8Array[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const blob = Buffer.allocUnsafe(IV_LENGTH + item.plaintext.length + TAG_LENGTH);
      if (item.iv === undefined) takeRandomInto(blob, IV_LENGTH);
      else asBuffer(item.iv).copy(blob, 0);
      const cipher = createCipheriv('aes-256-gcm', key, blob.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
      cipher.setAAD(item.aad);
      let offset = IV_LENGTH + cipher.update(item.plaintext).copy(blob, IV_LENGTH);
      offset += cipher.final().copy(blob, offset);
      cipher.getAuthTag().copy(blob, offset);
      out[i] = toUint8(blob);
    }
    return out;
  },
  sealToBase64url(key, item: SealItem) {
    const iv = Buffer.allocUnsafe(IV_LENGTH);
    if (item.iv === undefined) takeRandomInto(iv, IV_LENGTH);
    else asBuffer(item.iv).copy(iv, 0);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(item.aad);
    const body = cipher.update(item.plaintext);
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    // base64 of a concatenation is the concatenation of the parts' base64 wherever a part ends on a
    // multiple of 3 bytes: the 12-byte IV does, so does the body cut to a multiple of 3; the last
    // 0-2 body bytes go with the tag. The body is encoded where it lies, not copied into a blob.
    const cut = body.length - (body.length % 3);
    return iv.toString('base64url') + body.toString('base64url', 0, cut) + Buffer.concat([body.subarray(cut), final, tag]).toString('base64url');
  },
  sealTextToBase64url(key, aad, tag, text) {
    const iv = Buffer.allocUnsafe(IV_LENGTH);
    takeRandomInto(iv, IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(aad);
    // GCM's update answers as many bytes as it is given, so the pieces are the ciphertext in order.
    const pieces: Buffer[] = [iv, cipher.update(Uint8Array.of(tag))];
    eachUtf8Slice(text, (bytes) => {
      pieces.push(cipher.update(bytes));
    });
    pieces.push(cipher.final(), cipher.getAuthTag());
    return piecesToBase64url(pieces);
  },
  utf8Length(text) {
    return eachUtf8Slice(text);
  },
  async openMany(key, items: readonly OpenItem[]) {
    // A raw key goes straight to OpenSSL; a KeyObject per call would only add an allocation. The
    // cipher takes the key, IV, AAD, tag and ciphertext as any Uint8Array: no Buffer view is made
    // of them (one per field and key was a measurable share of a two-column row; issue 18).
    const out: Uint8Array[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const blob = item.blob;
      if (blob.length < IV_LENGTH + TAG_LENGTH) throw new DecryptionFailedError();
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
      decipher.setAAD(item.aad);
      decipher.setAuthTag(blob.subarray(blob.length - TAG_LENGTH));
      const head = decipher.update(blob.subarray(IV_LENGTH, blob.length - TAG_LENGTH));
      let tail: Buffer;
      try {
        tail = decipher.final();
      } catch {
        head.fill(0);
        throw new DecryptionFailedError();
      }
      out[i] = toUint8(tail.length === 0 ? head : Buffer.concat([head, tail]));
    }
    return out;
  },
  timingSafeEqual(a, b) {
    return a.length === b.length && nodeTimingSafeEqual(a, b);
  },
  base64urlEncode(bytes) {
    return asBuffer(bytes).toString('base64url');
  },
  base64urlDecode(text) {
    return strictBase64urlDecode(text);
  },
  utf8Encode(text) {
    return toUint8(Buffer.from(text, 'utf8'));
  },
  utf8Decode(bytes) {
    // ASCII (simdutf's check) needs no UTF-8 validation: a one-byte copy is ~4x faster than the
    // validating decoder on a 1 MiB field, and twice as fast on a short one.
    const buffer = asBuffer(bytes);
    if (isAscii(buffer)) return buffer.toString('latin1');
    return utf8Decoder.decode(bytes);
  },
};
