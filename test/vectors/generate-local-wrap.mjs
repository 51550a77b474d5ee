// Writes test/vectors/local-wrap-v2.json: known-answer vectors for LocalKeyring's wrapped keys
// (docs/FORMAT.md §7): version 2 (per-wrap key and IV from HKDF-SHA256 over a random salt) and one
// version 1 case (random IV under the KEK itself), which is only ever opened now.
//
// Independent of the library on purpose: it implements the spec directly over node:crypto, so the
// vector test checks @fieldseal/core against the written format, not against itself. Deterministic:
// KEKs, data keys, salts and IVs are SHA-256 of fixed labels (test keys, never for real data), so
// re-running it reproduces the file byte for byte.
//
//   node test/vectors/generate-local-wrap.mjs
import { createCipheriv, createHash, hkdfSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const out = new URL('./local-wrap-v2.json', import.meta.url);
const bytes = (label, n) => createHash('sha256').update(`fieldseal local-wrap test vector: ${label}`).digest().subarray(0, n);
const hex = (b) => Buffer.from(b).toString('hex');
const b64u = (b) => Buffer.from(b).toString('base64url');
const u16 = (n) => Buffer.from([n >> 8, n & 255]);
const u32 = (n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

// Canonical context (docs/FORMAT.md §3): u32 count, then per pair sorted by the UTF-8 bytes of the
// key: u32 length + UTF-8 key, u32 length + UTF-8 value.
function canonical(context) {
  const pairs = Object.entries(context).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')]);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([u32(pairs.length), ...pairs.flatMap(([k, v]) => [u32(k.length), k, u32(v.length), v])]);
}
const aad = (label, keyId, context) => {
  const id = Buffer.from(keyId, 'utf8');
  return Buffer.concat([Buffer.from(label, 'latin1'), u16(id.length), id, canonical(context)]);
};
function gcm(key, iv, additional, plaintext) {
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(additional);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

const keyFiles = {
  k1: { type: 'fieldseal-local-keyring', formatVersion: 1, name: 'vectors', primary: 1, keys: [{ version: 1, id: b64u(bytes('k1 id', 8)), key: b64u(bytes('k1 KEK', 32)), createdAt: '2026-12-01T00:00:00.000Z' }] },
  // A key file written before key ids: its key id is `<name>/v<version>`.
  k2: { type: 'fieldseal-local-keyring', formatVersion: 1, name: 'legacy', primary: 3, keys: [{ version: 3, key: b64u(bytes('k2 KEK', 32)), createdAt: '2026-01-01T00:00:00.000Z' }] },
};
const keyIdOf = (f) => {
  const k = f.keys.find((e) => e.version === f.primary);
  return k.id ? `${f.name}/${k.id}/v${k.version}` : `${f.name}/v${k.version}`;
};
const kekOf = (f) => Buffer.from(f.keys.find((e) => e.version === f.primary).key, 'base64url');

const cases = [];
function v2(id, description, keyFile, context, overrides = {}) {
  const kek = kekOf(keyFiles[keyFile]);
  const keyId = overrides.keyId ?? keyIdOf(keyFiles[keyFile]);
  const dataKey = bytes(`case ${id} data key`, 32);
  const salt = bytes(`case ${id} salt`, 16);
  const okm = Buffer.from(hkdfSync('sha256', kek, salt, Buffer.from('fieldseal/v1/local-wrap-key\0', 'latin1'), 44));
  const additional = aad('fieldseal/v1/local-wrap2\0', keyId, context);
  const ciphertext = Buffer.concat([Buffer.from([0x02]), salt, gcm(okm.subarray(0, 32), okm.subarray(32), additional, dataKey)]);
  const c = { id, description, result: 'valid', version: 2, keyFile, keyId, context, canonicalContext: hex(canonical(context)), dataKey: hex(dataKey), salt: hex(salt), wrapKey: hex(okm.subarray(0, 32)), iv: hex(okm.subarray(32)), aad: hex(additional), ciphertext: hex(ciphertext) };
  cases.push(c);
  return c;
}
function v1(id, description, keyFile, context) {
  const kek = kekOf(keyFiles[keyFile]);
  const keyId = keyIdOf(keyFiles[keyFile]);
  const dataKey = bytes(`case ${id} data key`, 32);
  const iv = bytes(`case ${id} iv`, 12);
  const additional = aad('fieldseal/v1/local-wrap\0', keyId, context);
  cases.push({ id, description, result: 'valid', version: 1, keyFile, keyId, context, canonicalContext: hex(canonical(context)), dataKey: hex(dataKey), iv: hex(iv), aad: hex(additional), ciphertext: hex(Buffer.concat([iv, gcm(kek, iv, additional, dataKey)])) });
}
function invalid(id, description, base, changes) {
  cases.push({ id, description, result: 'invalid', expectedCode: 'ERR_FIELDSEAL_KEY_UNAVAILABLE', keyFile: base.keyFile, keyId: changes.keyId ?? base.keyId, context: changes.context ?? base.context, ciphertext: changes.ciphertext ?? base.ciphertext });
}
const flip = (h, i) => {
  const b = Buffer.from(h, 'hex');
  b[i < 0 ? b.length + i : i] ^= 0x01;
  return hex(b);
};

const c1 = v2(1, 'version 2, empty context', 'k1', {});
const c2 = v2(2, 'version 2, context with non-ASCII keys (sorted by UTF-8 bytes)', 'k1', { tenant: 'acme', 'Größe': 'ä', '😀': 'smile', rowId: '42' });
v2(3, 'version 2 under a key file without key ids (key id legacy/v3)', 'k2', { tenant: 'acme' });
v1(4, 'version 1 (written before version 2): IV ‖ ct ‖ tag under the KEK itself; still opens', 'k1', { tenant: 'acme' });
invalid(101, 'a bit of the salt flipped', c2, { ciphertext: flip(c2.ciphertext, 1) });
invalid(102, 'the version byte changed to 3', c2, { ciphertext: '03' + c2.ciphertext.slice(2) });
invalid(103, 'a bit of the tag flipped', c2, { ciphertext: flip(c2.ciphertext, -1) });
invalid(104, 'truncated by one byte', c2, { ciphertext: c2.ciphertext.slice(0, -2) });
invalid(105, 'another context', c2, { context: { ...c2.context, rowId: '43' } });
invalid(106, 'the key id relabelled without the key id part (vectors/v1): the AAD differs', c1, { keyId: 'vectors/v1' });
invalid(107, 'a version 2 wrapped key with its version byte removed (64 bytes)', c1, { ciphertext: c1.ciphertext.slice(2) });

const file = {
  description: 'fieldseal LocalKeyring wrapped keys (docs/FORMAT.md §7). valid: unwrap gives dataKey, and wrapping dataKey with the salt (v2) reproduces ciphertext byte for byte. invalid: unwrap fails with expectedCode. Test-only keys.',
  keyFiles,
  cases,
};
writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
console.log(`wrote ${out.pathname}: ${cases.length} cases`);
