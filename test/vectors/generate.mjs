// Generates test/vectors/format-v1-suite2.json: positive cases (sealed documents with every input an
// independent implementation needs) and negative cases (tampered documents that must fail with a
// named error code), in the suite encrypt writes (2: key groups bound into the key wraps, FORMAT.md
// §5.1). Run with `npm run vectors` (it builds first). Checked by test/format-vectors.test.ts.
//
// test/vectors/format-v1.json holds the same cases in suite 1, as this script wrote them before
// suite 2 existed (commit b30436c, local wraps of version 1); it is kept as it is, because readers
// must open suite 1 documents for ever, and is no longer regenerated.
import { writeFileSync } from 'node:fs';
import { LocalKeyring } from '../../packages/core/dist/index.js';
import { encryptWith } from '../../packages/core/dist/encrypt.js';
import { CURRENT_SUITE, SUITE_V1 } from '../../packages/core/dist/lib/format/constants.js';
import { decodeHeader } from '../../packages/core/dist/lib/format/header.js';
import { DEFAULT_LIMITS } from '../../packages/core/dist/lib/limits.js';
import { backend as nodeBackend } from '../../packages/core/dist/lib/backend/node.js';
import { deterministicBackend, drbg } from './deterministic-backend.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
const b64 = (b) => Buffer.from(b).toString('base64url');
const fromB64 = (s) => new Uint8Array(Buffer.from(s, 'base64url'));

// Fixed KEK material, derived from a label so the file is reproducible. Test-only keys.
function keyFile(name, label) {
  const random = drbg(`fieldseal test vectors KEK ${label}`);
  return { type: 'fieldseal-local-keyring', formatVersion: 1, name, primary: 1, keys: [{ version: 1, key: b64(random(32)), createdAt: '2026-01-01T00:00:00.000Z' }] };
}
const keyFiles = { k1: keyFile('vectors', 'k1'), k2: keyFile('restricted', 'k2') };
const keyrings = Object.fromEntries(Object.entries(keyFiles).map(([id, f]) => [id, LocalKeyring.fromKeyFile(f)]));

/** A keyring that draws the DEK from the case's stream (recorded in the vector) and wraps with a local key. */
function recordingKeyring(id, random, dataKeys, group) {
  const inner = keyrings[id];
  return {
    async wrap(req) {
      const dataKey = req.dataKey ?? random(32);
      dataKeys[group] = hex(dataKey);
      return inner.wrap({ dataKey, context: req.context });
    },
    unwrap: (req) => inner.unwrap(req),
  };
}

const cases = [];
async function positive(id, description, flags, input) {
  const random = drbg(`fieldseal test vectors case ${id}`);
  const backend = deterministicBackend(nodeBackend, random);
  const dataKeys = {};
  const groups = (input.groups ?? []).map((g) => ({ name: g.name, keyring: recordingKeyring(g.keyring, random, dataKeys, g.name), paths: g.paths }));
  const options = {
    ...(input.paths ? { keyring: input.multi ? multi(input.multi, random, dataKeys) : recordingKeyring(input.keyring ?? 'k1', random, dataKeys, 'default'), paths: input.paths } : {}),
    ...(groups.length ? { groups } : {}),
    ...(input.context ? { context: input.context } : {}),
    ...(input.requiredContext ? { requiredContext: input.requiredContext } : {}),
    ...(input.headerName ? { headerName: input.headerName } : {}),
  };
  const sealed = await encryptWith(backend, input.plaintext, options, CURRENT_SUITE);
  const header = decodeHeader(nodeBackend, sealed[input.headerName ?? '_fieldseal'], DEFAULT_LIMITS);
  const c = {
    id,
    description,
    result: 'valid',
    flags,
    plaintext: input.plaintext,
    encrypt: { paths: input.paths ?? [], groups: input.groups ?? [], context: input.context ?? {}, requiredContext: input.requiredContext ?? {}, ...(input.headerName ? { headerName: input.headerName } : {}) },
    keyrings: input.keyringsForDecrypt ?? { default: input.keyring ?? 'k1', ...Object.fromEntries((input.groups ?? []).map((g) => [g.name, g.keyring])) },
    decryptContext: { ...(input.context ?? {}), ...(input.requiredContext ?? {}) },
    messageId: hex(header.messageId),
    dataKeys,
    rngSeed: `fieldseal test vectors case ${id}`,
    sealed,
  };
  cases.push(c);
  return c;
}

function multi(ids, random, dataKeys) {
  const [first, ...rest] = ids.map((id) => keyrings[id]);
  return {
    async wrap(req) {
      const dataKey = random(32);
      dataKeys.default = hex(dataKey);
      const a = await first.wrap({ dataKey, context: req.context });
      const others = await Promise.all(rest.map((k) => k.wrap({ dataKey, context: req.context })));
      return { dataKey: a.dataKey, wrapped: [...a.wrapped, ...others.flatMap((o) => o.wrapped)] };
    },
    unwrap: (req) => first.unwrap(req),
  };
}

function negative(id, description, flags, base, sealed, expectedCode, overrides = {}) {
  cases.push({ id, description, result: 'invalid', flags, expectedCode, keyrings: overrides.keyrings ?? base.keyrings, decryptContext: overrides.decryptContext ?? base.decryptContext, sealed });
}

function flipHeaderByte(sealed, offset) {
  const bytes = fromB64(sealed._fieldseal.slice(5));
  const i = offset < 0 ? bytes.length + offset : offset;
  bytes[i] ^= 0x01;
  return { ...sealed, _fieldseal: 'fs1h.' + b64(bytes) };
}

function headerWithByte(sealed, offset, value) {
  const bytes = fromB64(sealed._fieldseal.slice(5));
  bytes[offset] = value;
  return { ...sealed, _fieldseal: 'fs1h.' + b64(bytes) };
}

const customer = { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }, { number: '5500000000000004' }] };

const c1 = await positive(1, 'one string field, no context', ['string'], { plaintext: { id: 1, ssn: '078-05-1120' }, paths: ['$.ssn'] });
await positive(2, 'every JSON type selected', ['types'], {
  plaintext: { s: 'text', i: 42, f: -1.5e-7, big: 9007199254740991, t: true, fa: false, n: null, o: { a: [1, 'x', null] }, a: [[1, 2], [3, [4]]], e: '', eo: {}, ea: [] },
  paths: ['$.s', '$.i', '$.f', '$.big', '$.t', '$.fa', '$.n', '$.o', '$.a', '$.e', '$.eo', '$.ea'],
});
const c3 = await positive(3, 'customer record with stored context', ['context'], { plaintext: customer, paths: ['$.email', '$.ssn', '$.cards[*].number'], context: { tenant: 'acme', table: 'customers' } });
await positive(4, 'non-ASCII context keys and values (sorted by UTF-8 bytes)', ['context', 'non-ascii'], { plaintext: { note: 'Grüße 🌍' }, paths: ['$.note'], context: { 'Größe': 'ä', '😀': 'smile', 'ﬀ': 'lig', Z: 'upper', a: 'ü' } });
const c5 = await positive(5, 'required-but-not-stored context key', ['context', 'required'], { plaintext: customer, paths: ['$.ssn'], context: { tenant: 'acme' }, requiredContext: { rowId: '42' } });
const c6 = await positive(6, 'two key groups with different KEKs', ['groups'], { plaintext: customer, paths: ['$.email'], groups: [{ name: 'restricted', keyring: 'k2', paths: ['$.ssn', '$.cards[*].number'] }], context: { tenant: 'acme' } });
const c7 = await positive(7, 'nested arrays selected element-wise', ['arrays'], { plaintext: { matrix: [[1, 2], [3, 4]], list: ['a', 'b', 'c'] }, paths: ['$.matrix[*][*]', '$.list[1]'] });
await positive(8, 'descendant selector', ['selector'], { plaintext: { ssn: '1', a: { ssn: '2', b: [{ ssn: '3' }] } }, paths: ['$..ssn'] });
await positive(9, '__proto__ and constructor keys are plain data; pointer escaping of "/" and "~"', ['hostile', 'pointer'], {
  plaintext: JSON.parse('{"__proto__": {"x": "1"}, "constructor": "c", "a/b": "slash", "m~n": "tilde"}'),
  paths: ['$.__proto__.x', '$.constructor', "$['a/b']", "$['m~n']"],
});
await positive(10, 'a string with a lone surrogate is stored as JSON text (type j)', ['types', 'surrogate'], { plaintext: { s: 'a\ud800b', t: 'é漢字🎉' }, paths: ['$.s', '$.t'] });
await positive(11, 'two wrapped keys in one group (multi-keyring)', ['multi'], { plaintext: { ssn: '078-05-1120' }, paths: ['$.ssn'], multi: ['k1', 'k2'], keyringsForDecrypt: { default: 'k2' } });
await positive(12, 'custom header property name', ['header'], { plaintext: { ssn: '1' }, paths: ['$.ssn'], headerName: '$enc' });
const c13 = await positive(13, 'a second customer record under the same keys and context as case 3', ['context'], { plaintext: { ...customer, id: 43, ssn: '219-09-9999' }, paths: ['$.email', '$.ssn', '$.cards[*].number'], context: { tenant: 'acme', table: 'customers' } });

// Negative cases: each must fail with its code, on every backend.
const ssn1 = c1.sealed.ssn;
const flipped = fromB64(ssn1.slice(4));
flipped[flipped.length - 1] ^= 0x80;
negative(101, 'a bit of the field tag flipped', ['tamper', 'field'], c1, { ...c1.sealed, ssn: 'fs1.' + b64(flipped) }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(102, 'a bit of the header MAC flipped', ['tamper', 'header'], c1, flipHeaderByte(c1.sealed, -1), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
const h1 = decodeHeader(nodeBackend, c1.sealed._fieldseal, DEFAULT_LIMITS);
const raw1 = fromB64(c1.sealed._fieldseal.slice(5));
const commitmentOffset = Buffer.from(raw1).indexOf(Buffer.from(h1.groups[0].commitment));
negative(103, 'a bit of the key commitment flipped', ['tamper', 'commitment'], c1, flipHeaderByte(c1.sealed, commitmentOffset), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(104, 'a ciphertext moved to another path', ['binding', 'path'], c3, { ...c3.sealed, email: c3.sealed.ssn }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(105, 'array elements swapped', ['binding', 'index'], c7, { ...c7.sealed, matrix: [[c7.sealed.matrix[0][1], c7.sealed.matrix[0][0]], c7.sealed.matrix[1]] }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
const { ssn: _removed, ...withoutSsn } = c3.sealed;
negative(106, 'an encrypted field removed', ['completeness'], c3, withoutSsn, 'ERR_FIELDSEAL_INCOMPLETE');
negative(107, 'an encrypted field replaced by plaintext (downgrade)', ['completeness'], c3, { ...c3.sealed, ssn: '078-05-1120' }, 'ERR_FIELDSEAL_INCOMPLETE');
negative(108, 'an encrypted field duplicated to an unlisted place', ['completeness'], c3, { ...c3.sealed, name: c3.sealed.ssn }, 'ERR_FIELDSEAL_INCOMPLETE');
negative(109, 'a stored context value expected differently', ['context'], c3, c3.sealed, 'ERR_FIELDSEAL_CONTEXT_MISMATCH', { decryptContext: { tenant: 'globex', table: 'customers' } });
negative(110, 'a required context key not supplied', ['context', 'required'], c5, c5.sealed, 'ERR_FIELDSEAL_CONTEXT_MISMATCH', { decryptContext: { tenant: 'acme' } });
negative(111, 'a wrong value for a required context key', ['context', 'required'], c5, c5.sealed, 'ERR_FIELDSEAL_KEY_UNAVAILABLE', { decryptContext: { tenant: 'acme', rowId: '43' } });
negative(112, 'unsupported format version', ['version'], c1, headerWithByte(c1.sealed, 0, 2), 'ERR_FIELDSEAL_UNSUPPORTED_VERSION');
negative(113, 'unsupported algorithm suite', ['version'], c1, headerWithByte(c1.sealed, 1, 9), 'ERR_FIELDSEAL_UNSUPPORTED_VERSION');
negative(114, 'the header of another document (same keys and context)', ['binding', 'document'], c3, { ...c3.sealed, _fieldseal: c13.sealed._fieldseal }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(119, 'a field from another document (same keys, context and path)', ['binding', 'document'], c3, { ...c3.sealed, ssn: c13.sealed.ssn }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(115, 'fields swapped between key groups', ['binding', 'group'], c6, { ...c6.sealed, email: c6.sealed.ssn, ssn: c6.sealed.email }, 'ERR_FIELDSEAL_DECRYPTION_FAILED');
negative(116, 'a KEK the document was not wrapped under', ['keyring'], c1, c1.sealed, 'ERR_FIELDSEAL_KEY_UNAVAILABLE', { keyrings: { default: 'k2' } });
{
  // 17 wrapped keys in one group, validly authenticated: over the default cap of 16.
  const random = drbg('fieldseal test vectors case 117');
  const many = {
    async wrap(req) {
      const r = await keyrings.k1.wrap({ dataKey: random(32), context: req.context });
      return { dataKey: r.dataKey, wrapped: Array.from({ length: 17 }, () => r.wrapped[0]) };
    },
    unwrap: (req) => keyrings.k1.unwrap(req),
  };
  const sealed = await encryptWith(deterministicBackend(nodeBackend, random), { ssn: '1' }, { keyring: many, paths: ['$.ssn'], limits: { maxWrappedKeys: 17 } });
  negative(117, 'more wrapped keys than the cap (16)', ['limits'], c1, sealed, 'ERR_FIELDSEAL_LIMIT_EXCEEDED');
}
negative(118, 'header truncated', ['malformed'], c1, { ...c1.sealed, _fieldseal: c1.sealed._fieldseal.slice(0, 60) }, 'ERR_FIELDSEAL_MALFORMED');

// Suite 2: each group's wrap is bound to its name. Two groups under one KEK, so only that binding
// tells their wrapped keys apart before any key is derived.
const c14 = await positive(14, 'two key groups under the same KEK', ['groups', 'suite2'], {
  plaintext: customer,
  paths: ['$.email'],
  groups: [{ name: 'restricted', keyring: 'k1', paths: ['$.ssn'] }],
  context: { tenant: 'acme' },
});
{
  const header = decodeHeader(nodeBackend, c14.sealed._fieldseal, DEFAULT_LIMITS);
  const raw = Buffer.from(fromB64(c14.sealed._fieldseal.slice(5)));
  const [a, b] = header.groups.map((g) => Buffer.from(g.wrapped[0].ciphertext));
  // Same length (one KEK, one wrap version): swap the two wrapped keys in place.
  const ia = raw.indexOf(a);
  const ib = raw.indexOf(b);
  const swapped = Buffer.from(raw);
  a.copy(swapped, ib);
  b.copy(swapped, ia);
  negative(120, "a group's wrapped key given to another group under the same KEK", ['binding', 'group', 'suite2'], c14, { ...c14.sealed, _fieldseal: 'fs1h.' + b64(swapped) }, 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
}
negative(121, 'the suite byte lowered from 2 to 1 (downgrade)', ['version', 'suite2'], c14, headerWithByte(c14.sealed, 1, SUITE_V1), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');

const out = {
  description: 'fieldseal format v1 test vectors, algorithm suite 2. Generated by test/vectors/generate.mjs; specified by docs/FORMAT.md. Test-only keys: never use them.',
  formatVersion: 1,
  suite: CURRENT_SUITE,
  keyFiles,
  cases,
};
writeFileSync(new URL('./format-v1-suite2.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${cases.filter((c) => c.result === 'valid').length} valid and ${cases.filter((c) => c.result === 'invalid').length} invalid cases`);
