import { DecryptionFailedError } from '../../errors.js';
import { IV_LENGTH, TAG_LENGTH, type Backend, type OpenItem, type SealItem } from './types.js';

// WebCrypto backend for browsers and other runtimes: no Node built-ins, no Buffer.
const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const REVERSE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) REVERSE[ALPHABET.charCodeAt(i)] = i;

function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

function decodeBase64url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? REVERSE[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical form only: the unused low bits of the last character must be zero.
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

// `as BufferSource` casts: TS 5.9's DOM types want ArrayBuffer-backed views; ours always are.
async function importAesKey(key: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('raw', key as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** WebCrypto backend. */
export const backend: Backend = {
  name: 'web',
  randomBytes(length) {
    const out = new Uint8Array(length);
    // getRandomValues fills at most 65,536 bytes per call.
    for (let i = 0; i < length; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
    return out;
  },
  async hkdfSha256(ikm, salt, info, length) {
    const key = await subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveBits']);
    const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: info as BufferSource }, key, length * 8);
    return new Uint8Array(bits);
  },
  async hmacSha256(key, data) {
    const k = await subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', k, data as BufferSource));
  },
  async sealMany(key, items: readonly SealItem[]) {
    const k = await importAesKey(key);
    return Promise.all(
      items.map(async (item) => {
        const iv = item.iv ?? backend.randomBytes(IV_LENGTH);
        const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: item.aad as BufferSource, tagLength: TAG_LENGTH * 8 }, k, item.plaintext as BufferSource));
        const blob = new Uint8Array(IV_LENGTH + sealed.length);
        blob.set(iv, 0);
        blob.set(sealed, IV_LENGTH);
        return blob;
      }),
    );
  },
  async openMany(key, items: readonly OpenItem[]) {
    const k = await importAesKey(key);
    return Promise.all(
      items.map(async (item) => {
        if (item.blob.length < IV_LENGTH + TAG_LENGTH) throw new DecryptionFailedError();
        try {
          return new Uint8Array(
            await subtle.decrypt(
              { name: 'AES-GCM', iv: item.blob.subarray(0, IV_LENGTH) as BufferSource, additionalData: item.aad as BufferSource, tagLength: TAG_LENGTH * 8 },
              k,
              item.blob.subarray(IV_LENGTH) as BufferSource,
            ),
          );
        } catch {
          throw new DecryptionFailedError();
        }
      }),
    );
  },
  timingSafeEqual(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  },
  base64urlEncode: encodeBase64url,
  base64urlDecode: decodeBase64url,
  utf8Encode(text) {
    return encoder.encode(text);
  },
  utf8Decode(bytes) {
    return decoder.decode(bytes);
  },
};
