// The mandatory-cryptography floor of one document: what fieldseal would cost if it did nothing but
// the work its security properties require. Encrypt: one HKDF-SHA256 per document, one AES-256-GCM
// seal per value with pooled IVs, one HMAC-SHA256 over a header-sized input. Decrypt: one HKDF,
// one HMAC, one base64url decode and AES-256-GCM open per value.
// Not a fieldseal implementation: it skips binding, validation, the header and the cache on purpose.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';

/**
 * Floor `{ encrypt, decrypt }` over the given string values (one document each call). With
 * `freshDataKey` (W3), each document also draws a data key and wraps it, or unwraps it, the way a
 * local wrap of version 2 must (docs/FORMAT.md §7): one HKDF of 44 bytes and one AES-256-GCM
 * operation on the 32-byte key; encrypt draws the key and the wrap's salt unpooled.
 */
export function makeFloor(strings, { freshDataKey = false } = {}) {
  const dek = randomBytes(32);
  const info = Buffer.from('fieldseal/v1/keys\0\x01\x07default');
  const aad = randomBytes(140);
  const pool = Buffer.alloc(4096);
  let offset = pool.length;
  const takeIv = () => {
    if (offset + 12 > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const iv = Buffer.from(pool.subarray(offset, offset + 12));
    offset += 12;
    return iv;
  };
  const values = strings.map((v) => Buffer.from(v));
  const kek = randomBytes(32);
  const wrapInfo = Buffer.from('fieldseal/v1/local-wrap-key\0');
  const wrapAad = randomBytes(120);
  const wrapDataKey = () => {
    const dataKey = randomBytes(32);
    const salt = randomBytes(16);
    const okm = Buffer.from(hkdfSync('sha256', kek, salt, wrapInfo, 44));
    const c = createCipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32, 44));
    c.setAAD(wrapAad);
    return { dataKey, wrapped: Buffer.concat([salt, c.update(dataKey), c.final(), c.getAuthTag()]) };
  };
  const unwrapDataKey = ({ wrapped }) => {
    const okm = Buffer.from(hkdfSync('sha256', kek, wrapped.subarray(0, 16), wrapInfo, 44));
    const d = createDecipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32, 44));
    d.setAAD(wrapAad);
    d.setAuthTag(wrapped.subarray(48));
    return Buffer.concat([d.update(wrapped.subarray(16, 48)), d.final()]);
  };
  const sampleWrap = wrapDataKey();
  const seal = (messageId) => {
    if (freshDataKey) wrapDataKey();
    const okm = Buffer.from(hkdfSync('sha256', dek, messageId, info, 96));
    const key = okm.subarray(0, 32);
    const out = [];
    for (const v of values) {
      const iv = takeIv();
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aad);
      out.push(Buffer.concat([iv, c.update(v), c.final(), c.getAuthTag()]).toString('base64url'));
    }
    createHmac('sha256', okm.subarray(32, 64)).update(aad).update(aad).digest();
    return out;
  };
  // Decrypt opens values sealed under one message id; a copy of it stands in for reading it.
  const sampleId = randomBytes(32);
  const sealedValues = seal(sampleId);
  const decrypt = async () => {
    const messageId = Buffer.from(sampleId);
    if (freshDataKey) unwrapDataKey(sampleWrap);
    const okm = Buffer.from(hkdfSync('sha256', dek, messageId, info, 96));
    createHmac('sha256', okm.subarray(32, 64)).update(aad).update(aad).digest();
    const key = okm.subarray(0, 32);
    const out = [];
    for (const s of sealedValues) {
      const blob = Buffer.from(s, 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
      d.setAAD(aad);
      d.setAuthTag(blob.subarray(blob.length - 16));
      out.push(d.update(blob.subarray(12, blob.length - 16), undefined, 'utf8') + d.final('utf8'));
    }
    return out;
  };
  return { encrypt: async () => seal(randomBytes(32)), decrypt };
}
