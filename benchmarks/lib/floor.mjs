// The mandatory-cryptography floor of one document: what fieldseal would cost if it did nothing but
// the work its security properties require. Encrypt: one HKDF-SHA256 per document, one AES-256-GCM
// seal per value with pooled IVs, one HMAC-SHA256 over a header-sized input. Decrypt: one HKDF,
// one HMAC, one base64url decode and AES-256-GCM open per value.
// Not a fieldseal implementation: it skips binding, validation, the header and the cache on purpose.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

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

/**
 * The floor of encrypting a document whose one selected value is a long string (W2), written the
 * way (a) writes it: the text goes to AES-256-GCM as a string (`update(text, 'utf8')`) and the
 * result is joined and encoded at once. On top of (a) it does only what the format requires: the
 * value's exact UTF-8 length before any key is used (the size limit and a caching keyring's byte
 * budget are checked first; counted through a 64 KiB buffer with TextEncoder.encodeInto, the
 * fastest exact count on Node 20: Buffer.byteLength took 2.4x as long on a 1 MiB string), one
 * HKDF, the type byte, one HMAC over a header-sized input. Returns `encrypt()` over `record`'s
 * `data` member.
 */
export function makeTextFloor(record) {
  const dek = randomBytes(32);
  const info = Buffer.from('fieldseal/v1/keys\0\x02\x07default');
  const aad = randomBytes(140);
  const scratch = new Uint8Array(65536);
  const units = Math.floor(scratch.length / 3);
  const encoder = new TextEncoder();
  const utf8Length = (text) => {
    let n = 0;
    for (let i = 0; i < text.length; i += units) n += encoder.encodeInto(text.slice(i, i + units), scratch).written;
    return n;
  };
  const typeByte = Buffer.of(0x73);
  const encrypt = async () => {
    const text = record.data;
    if (utf8Length(text) > 16 * 1024 * 1024) throw new Error('too large');
    const okm = Buffer.from(hkdfSync('sha256', dek, randomBytes(32), info, 96));
    createHmac('sha256', okm.subarray(32, 64)).update(aad).digest();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', okm.subarray(0, 32), iv);
    c.setAAD(aad);
    const head = c.update(typeByte);
    const body = c.update(text, 'utf8');
    const data = `fs1.${Buffer.concat([iv, head, body, c.final(), c.getAuthTag()]).toString('base64url')}`;
    return { ...record, data, _fieldseal: 'h' };
  };
  return { encrypt };
}

/**
 * The floor of one verified rewrap of a stored record (the rotation job's unit of work), with local
 * keys: the record's line is parsed; its header decoded; the data key unwrapped (HKDF of 44 bytes,
 * AES-256-GCM); the document keys derived (HKDF of 96 bytes) and the stored header MAC checked
 * (HMAC-SHA256); the data key wrapped under the target (a fresh salt, HKDF, AES-256-GCM); the new
 * header MAC'd and encoded; then the verification that rotation requires before a write: the new
 * wrapped key unwrapped again and compared, the new MAC checked, every field opened; and the
 * record serialised. Input and output are NDJSON lines shaped like `rewrap-bench.mjs`'s records
 * (three sealed values, a 321-character header). Not fieldseal: no validation, no real header.
 */
export function makeRewrapFloor({ kekFrom = randomBytes(32), kekTo = randomBytes(32) } = {}) {
  const wrapInfo = Buffer.from('fieldseal/v1/local-wrap-key\0');
  const keysInfo = Buffer.from('fieldseal/v1/keys\0\x02\x07default');
  // Fixed stand-ins (their content costs nothing), so that a worker given the same KEKs opens what
  // another instance sealed.
  const wrapAad = Buffer.alloc(60, 0x61);
  const wrap = (kek, dataKey) => {
    const salt = randomBytes(16);
    const okm = Buffer.from(hkdfSync('sha256', kek, salt, wrapInfo, 44));
    const c = createCipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32, 44));
    c.setAAD(wrapAad);
    return Buffer.concat([salt, c.update(dataKey), c.final(), c.getAuthTag()]);
  };
  const unwrap = (kek, wrapped) => {
    const okm = Buffer.from(hkdfSync('sha256', kek, wrapped.subarray(0, 16), wrapInfo, 44));
    const d = createDecipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32, 44));
    d.setAAD(wrapAad);
    d.setAuthTag(wrapped.subarray(48));
    return Buffer.concat([d.update(wrapped.subarray(16, 48)), d.final()]);
  };
  const keysOf = (dataKey, messageId) => Buffer.from(hkdfSync('sha256', dataKey, messageId, keysInfo, 96));
  const fieldAad = Buffer.alloc(80, 0x62);
  const sealValue = (key, text) => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(fieldAad);
    return `fs1.${Buffer.concat([iv, c.update(text), c.final(), c.getAuthTag()]).toString('base64url')}`;
  };
  const openValue = (key, value) => {
    const blob = Buffer.from(value.slice(4), 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(fieldAad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    return d.update(blob.subarray(12, blob.length - 16), undefined, 'utf8') + d.final('utf8');
  };
  // The header: message id (32) ‖ body (about 120 bytes) ‖ wrapped key (65) ‖ MAC (16, truncated).
  const encodeHeader = (messageId, body, wrapped, mac) => `fs1h.${Buffer.concat([messageId, body, wrapped, mac]).toString('base64url')}`;
  const decodeHeader = (text) => {
    const bytes = Buffer.from(text.slice(5), 'base64url');
    return { messageId: bytes.subarray(0, 32), body: bytes.subarray(32, 152), wrapped: bytes.subarray(152, 217), mac: bytes.subarray(217, 233) };
  };
  const mac = (key, messageId, body, wrapped) => createHmac('sha256', key).update(messageId).update(body).update(wrapped).digest().subarray(0, 16);

  const sealRecord = (i) => {
    const dataKey = randomBytes(32);
    const messageId = randomBytes(32);
    const okm = keysOf(dataKey, messageId);
    const body = randomBytes(120);
    const wrapped = Buffer.concat([Buffer.of(2), wrap(kekFrom, dataKey)]);
    const doc = {
      id: i,
      name: `customer ${i}`,
      email: sealValue(okm.subarray(0, 32), JSON.stringify(`c${i}@example.com`)),
      ssn: sealValue(okm.subarray(0, 32), JSON.stringify(`078-05-${String(i).padStart(4, '0')}`)),
      cards: [sealValue(okm.subarray(0, 32), JSON.stringify('4111111111111111'))],
      _fieldseal: encodeHeader(messageId, body, wrapped, mac(okm.subarray(32, 64), messageId, body, wrapped)),
    };
    return JSON.stringify(doc);
  };

  /**
   * The same work on a parsed document, in place: `header` names its header member and `fields`
   * the members holding one sealed value each (the column layout's row: header and sealed columns).
   */
  const rewrapDocument = (doc, header, fields) => {
    const h = decodeHeader(doc[header]);
    const dataKey = unwrap(kekFrom, h.wrapped.subarray(1));
    const okm = keysOf(dataKey, h.messageId);
    const macKey = okm.subarray(32, 64);
    if (!timingSafeEqual(mac(macKey, h.messageId, h.body, h.wrapped), h.mac)) throw new Error('header MAC');
    const wrapped = Buffer.concat([Buffer.of(2), wrap(kekTo, dataKey)]);
    doc[header] = encodeHeader(h.messageId, h.body, wrapped, mac(macKey, h.messageId, h.body, wrapped));
    // Verification: what was written opens with the target key to the same data key, MACs and fields.
    const v = decodeHeader(doc[header]);
    if (!timingSafeEqual(unwrap(kekTo, v.wrapped.subarray(1)), dataKey)) throw new Error('verify');
    if (!timingSafeEqual(mac(macKey, v.messageId, v.body, v.wrapped), v.mac)) throw new Error('verify MAC');
    const key = okm.subarray(0, 32);
    for (const f of fields) openValue(key, typeof f === 'string' ? doc[f] : f(doc));
    return doc;
  };
  const recordFields = ['email', 'ssn', (doc) => doc.cards[0]];
  const rewrapLine = (line) => JSON.stringify(rewrapDocument(JSON.parse(line), '_fieldseal', recordFields));
  return { sealRecord, rewrapLine, rewrapDocument };
}
