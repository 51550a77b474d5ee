// The mandatory-cryptography floor of one document: what fieldseal would cost if it did nothing but
// the work its security properties require. Encrypt: one HKDF-SHA256 per document, one AES-256-GCM
// seal per value with pooled IVs, one HMAC-SHA256 over a header-sized input. Decrypt: one HKDF,
// one HMAC, one base64url decode and AES-256-GCM open per value.
// Not a fieldseal implementation: it skips binding, validation, the header and the cache on purpose.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';

/** Floor `{ encrypt, decrypt }` over the given string values (one document each call). */
export function makeFloor(strings) {
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
  const seal = (messageId) => {
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
