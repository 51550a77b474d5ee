// Writes test/vectors/beacons.json: known-answer vectors for fieldseal beacons (docs/BEACONS.md, "Format").
//
// Independent of the library on purpose: it implements the spec directly over node:crypto, so the
// vector test checks @fieldseal/core against the written format, not against itself. Deterministic:
// the root keys are SHA-256 of fixed labels (test keys, never for real data), so re-running it
// reproduces the file byte for byte.
//
//   node test/vectors/generate-beacons.mjs
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const out = new URL('./beacons.json', import.meta.url);
const testKey = (label) => createHash('sha256').update(`fieldseal beacon test vector key: ${label}`).digest();

const WS = /^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]+|[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]+$/g;
const WS_RUN = /[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]+/g;
const STEPS = {
  nfc: (s) => s.normalize('NFC'),
  nfkc: (s) => s.normalize('NFKC'),
  trim: (s) => s.replace(WS, ''),
  'collapse-whitespace': (s) => s.replace(WS_RUN, ' '),
  lowercase: (s) => s.toLowerCase(),
  'ascii-lowercase': (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase()),
  digits: (s) => s.replace(/[^0-9]/g, ''),
};
const PRESETS = { email: ['nfc', 'trim', 'lowercase'], phone: ['nfkc', 'digits'], ssn: ['nfkc', 'digits'], exact: ['nfc'] };

const hex = (b) => Buffer.from(b).toString('hex');
const fieldKey = (root, field) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), Buffer.concat([Buffer.from('fieldseal/v1/beacon-field\0'), Buffer.from(field, 'utf8')]), 32));
// Canonical context (docs/FORMAT.md): u32 count, then per pair u32 length + UTF-8 key, u32 length +
// UTF-8 value, pairs sorted by the UTF-8 bytes of their keys.
function canonicalContext(context) {
  const pairs = Object.entries(context).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')]).sort((a, b) => Buffer.compare(a[0], b[0]));
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  return Buffer.concat([u32(pairs.length), ...pairs.flatMap(([k, v]) => [u32(k.length), k, u32(v.length), v])]);
}
function keyCheck(root, id, context) {
  const checkKey = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), Buffer.from('fieldseal/v1/beacon-check\0'), 32));
  const idBytes = Buffer.from(id, 'utf8');
  return createHmac('sha256', checkKey).update(Buffer.concat([Buffer.from([idBytes.length]), idBytes, canonicalContext(context)])).digest().subarray(0, 16);
}

function beacon(root, keyId, field, bits, steps, input) {
  const normalized = steps.reduce((s, step) => STEPS[step](s), input);
  const fk = fieldKey(root, field);
  const tag = createHmac('sha256', fk).update(Buffer.from(normalized, 'utf8')).digest();
  const digits = (tag.readBigUInt64BE(0) >> BigInt(64 - bits)).toString(16).padStart(Math.ceil(bits / 4), '0');
  return { normalized, fieldKey: hex(fk), hmac: hex(tag), beacon: `${keyId}:${digits}` };
}

const k1 = testKey('k1');
const k2 = testKey('k2');
const valid = [
  ['email preset folds case and whitespace', k1, 'b1', 'email', 16, 'email', '  Alice@Example.COM\n'],
  ['same value, same beacon as the previous case', k1, 'b1', 'email', 16, 'email', 'alice@example.com'],
  ['another field name gives an unrelated beacon for the same value', k1, 'b1', 'contact_email', 16, 'email', 'alice@example.com'],
  ['another root key gives an unrelated beacon', k2, 'b2', 'email', 16, 'email', 'alice@example.com'],
  ['NFC: decomposed e + combining acute', k1, 'b1', 'email', 16, 'email', 'jose\u0301@example.com'],
  ['NFC: precomposed e-acute (same beacon as the previous case)', k1, 'b1', 'email', 16, 'email', 'jos\u00e9@example.com'],
  ['Unicode lowercase of non-ASCII letters', k1, 'b1', 'name', 20, ['nfc', 'trim', 'collapse-whitespace', 'lowercase'], '  ÅSA   Öberg\u3000'],
  ['ascii-lowercase leaves non-ASCII alone', k1, 'b1', 'name', 20, ['ascii-lowercase'], 'ÅSA Öberg'],
  ['phone preset keeps digits only', k1, 'b1', 'phone', 12, 'phone', '+1 (555) 010-9999'],
  ['phone preset: full-width digits become ASCII under NFKC', k1, 'b1', 'phone', 12, 'phone', '\uff0b\uff11 555 010 9999'],
  ['ssn preset', k1, 'b1', 'ssn', 10, 'ssn', '078-05-1120'],
  ['bits = 1', k1, 'b1', 'flag', 1, 'exact', 'x'],
  ['bits = 7 (odd: 2 hex digits, top digit < 8)', k1, 'b1', 'code', 7, 'exact', 'ABC-123'],
  ['bits = 32', k1, 'k_2026-01', 'id', 32, 'exact', 'customer 00042'],
  ['bits = 64 (the whole first 8 bytes)', k1, 'k_2026-01', 'id', 64, 'exact', 'customer 00042'],
  ['non-BMP characters (UTF-8 of a surrogate pair)', k1, 'b1', 'handle', 24, 'exact', 'emoji \u{1F600} handle'],
  ['field names may contain . _ -', k2, 'Z9', 'customer.contact_e-mail', 16, 'email', 'bob@example.org'],
  ['exact keeps case and spaces', k2, 'Z9', 'code', 16, 'exact', ' Case Sensitive '],
].map(([description, root, keyId, field, bits, normalize, input]) => {
  const steps = typeof normalize === 'string' ? PRESETS[normalize] : normalize;
  return { description, result: 'valid', rootKey: hex(root), keyId, field, bits, normalize, steps, input, ...beacon(root, keyId, field, bits, steps, input) };
});

const invalid = [
  ['lone high surrogate', 'email', 'abc\ud800@example.com', 'ERR_FIELDSEAL_MALFORMED'],
  ['lone low surrogate', 'exact', '\udc00', 'ERR_FIELDSEAL_MALFORMED'],
  ['normalizes to the empty string', 'ssn', 'n/a', 'ERR_FIELDSEAL_MALFORMED'],
  ['whitespace only', 'email', ' \u00a0\u2003 ', 'ERR_FIELDSEAL_MALFORMED'],
  ['longer than 65,536 UTF-16 code units', 'exact', 'x'.repeat(65_537), 'ERR_FIELDSEAL_LIMIT_EXCEEDED'],
].map(([description, normalize, input, code]) => ({ description, result: 'invalid', rootKey: hex(k1), keyId: 'b1', field: 'f', bits: 16, normalize, steps: PRESETS[normalize], input, code }));

const file = {
  description:
    'fieldseal beacon vectors (docs/BEACONS.md, "Format"). field key = HKDF-SHA256(root key, salt = empty, info = "fieldseal/v1/beacon-field" 0x00 UTF-8(field), 32); ' +
    'hmac = HMAC-SHA256(field key, UTF-8(normalized)); beacon = keyId ":" lowercase hex of the top `bits` bits of hmac[0..8] (big-endian), ceil(bits/4) digits. ' +
    'check = HMAC-SHA256(HKDF-SHA256(root key, salt = empty, info = "fieldseal/v1/beacon-check" 0x00, 32), u8 len(id) id canonical-context)[0..16]. Root keys are test keys derived from fixed labels: never use them for data. ' +
    'Invalid cases must be refused with the given error code.',
  generatedBy: 'test/vectors/generate-beacons.mjs',
  keyChecks: [
    [k1, 'b1', {}],
    [k1, 'b2', {}],
    [k1, 'b1', { app: 'crm' }],
    [k2, 'k_2026-01', { tenant: 't1', 'région': 'eu-ouest', Zeta: 'z' }],
  ].map(([root, id, context]) => ({ rootKey: hex(root), id, context, check: hex(keyCheck(root, id, context)) })),
  cases: [...valid, ...invalid],
};
writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
console.log(`wrote ${file.cases.length} cases to ${out.pathname}`);
