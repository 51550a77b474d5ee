/**
 * Red-team suite: attacks on the format implementation. Each test asserts the secure behaviour, so
 * it fails if the weakness exists. Several attacks need an *authenticated* crafted header (an insider
 * holding one KEK, or anyone holding an RSA public key, can produce those); `craft` builds one with
 * the library's own primitives so the decoder and the decrypt engine see hostile but valid-MAC input.
 */
import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, rewrap, type JsonObject } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import type { Backend } from '../src/lib/backend/types.js';
import { encodeEntries, type ContextEntry } from '../src/lib/context.js';
import { deriveGroupKeys, fieldAad, fieldAadPrefix, groupKeyringContext, headerMac } from '../src/lib/format/document-keys.js';
import { CURRENT_SUITE } from '../src/lib/format/constants.js';
import { encodeHeaderBody, headerToString } from '../src/lib/format/header.js';
import { backends } from './helpers/backends.js';

const enc = new TextEncoder();

async function rejectCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  throw new Error('expected a rejection, got a result');
}

function entry(key: string, value: string): ContextEntry {
  return { key, value, keyBytes: enc.encode(key), valueBytes: enc.encode(value) };
}

interface CraftGroup {
  name: string;
  keyring: LocalKeyring;
  /** pointer -> raw field plaintext (type byte ‖ payload) */
  fields: [string, Uint8Array][];
}

/** Build an authenticated sealed document from raw parts, bypassing encrypt's validation. */
async function craft(
  backend: Backend,
  base: JsonObject,
  groups: CraftGroup[],
  stored: ContextEntry[] = [],
  required: ContextEntry[] = [],
): Promise<JsonObject> {
  const messageId = backend.randomBytes(32);
  const full = [...stored, ...required].sort((a, b) => Buffer.compare(Buffer.from(a.keyBytes), Buffer.from(b.keyBytes)));
  const canonical = encodeEntries(full);
  const record: Record<string, string> = Object.create(null);
  for (const e of full) record[e.key] = e.value;
  const doc: Record<string, unknown> = structuredClone(base);
  const headerGroups = [];
  const macKeys: Uint8Array[] = [];
  for (const g of groups) {
    const dek = backend.randomBytes(32);
    // Wrap with the group's name only: what decrypt passes for an empty context (the reserved-key
    // tests fail before any unwrap, and bypass the keyring's own context checks this way).
    const { wrapped } = await g.keyring.wrap({ dataKey: dek, context: groupKeyringContext(CURRENT_SUITE, [], g.name) });
    const keys = await deriveGroupKeys(backend, dek, messageId, g.name, CURRENT_SUITE);
    macKeys.push(keys.macKey);
    const prefix = fieldAadPrefix(messageId, g.name, canonical, CURRENT_SUITE);
    for (const [pointer, plaintext] of g.fields) {
      const [blob] = await backend.sealMany(keys.encryptionKey, [{ aad: fieldAad(prefix, pointer), plaintext }]);
      const tokens = pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
      let cur = doc as Record<string, unknown>;
      for (const t of tokens.slice(0, -1)) {
        if (typeof cur[t] !== 'object' || cur[t] === null) cur[t] = {};
        cur = cur[t] as Record<string, unknown>;
      }
      cur[tokens[tokens.length - 1]!] = 'fs1.' + backend.base64urlEncode(blob!);
    }
    headerGroups.push({ name: g.name, wrapped, commitment: keys.commitment, pointers: g.fields.map(([p]) => p) });
  }
  const body = encodeHeaderBody({ suite: CURRENT_SUITE, messageId, storedContext: stored, requiredKeys: required.map((e) => e.key), groups: headerGroups });
  const macs = await Promise.all(macKeys.map((k) => headerMac(backend, k, body, canonical)));
  doc._fieldseal = headerToString(backend, body, macs);
  return doc as JsonObject;
}

const s = (text: string) => new Uint8Array([0x73, ...enc.encode(text)]);
const j = (text: string) => new Uint8Array([0x6a, ...enc.encode(text)]);

describe.each(backends)('adversarial format (%s backend)', (_name, backend) => {
  test('the crafting helper is faithful: an honest crafted document opens', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const doc = await craft(backend, { n: 1 }, [{ name: 'default', keyring, fields: [['/a', s('x')], ['/b/0', j('[1,{"c":2}]')]] }]);
    expect(await decryptWith(backend, doc, { keyring })).toEqual({ n: 1, a: 'x', b: { 0: [1, { c: 2 }] } });
  });

  test('member names with "/", "~", "" and digits round-trip, and a ciphertext cannot move between the look-alike paths', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const plain = { 'a/b': 'slash', a: { b: 'nested' }, '~1': 'tilde-one', '/': 'root-slash', '': 'empty', '0': 'zero', arr: ['i0'], obj: { '0': 'o0' } };
    const paths = ["$['a/b']", '$.a.b', "$['~1']", "$['/']", "$['']", "$['0']", '$.arr[0]', "$.obj['0']"];
    const sealed = await encryptWith(backend, plain, { keyring, paths });
    expect(await decryptWith(backend, sealed, { keyring })).toEqual(plain);
    const a = sealed.a as Record<string, string>;
    // "/a~1b" vs "/a/b"
    expect(await rejectCode(decryptWith(backend, { ...sealed, 'a/b': a.b!, a: { b: sealed['a/b'] as string } }, { keyring }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // "/~01" vs "/~1": a name "~1" must not alias "/"
    expect(await rejectCode(decryptWith(backend, { ...sealed, '~1': sealed['/'] as string, '/': sealed['~1'] as string }, { keyring }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // "" vs "0"
    expect(await rejectCode(decryptWith(backend, { ...sealed, '': sealed['0'] as string, '0': sealed[''] as string }, { keyring }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // "/arr/0" vs "/obj/0": same index, different parent
    const arr0 = (sealed.arr as string[])[0]!;
    const obj0 = (sealed.obj as Record<string, string>)['0']!;
    expect(await rejectCode(decryptWith(backend, { ...sealed, arr: [obj0], obj: { '0': arr0 } }, { keyring }))).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    // leading-zero index on an array does not resolve: "01" is not the pointer "/arr/0"
    expect(await rejectCode(decryptWith(backend, { ...sealed, arr: { '00': arr0 } }, { keyring }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
  });

  test('non-canonical base64url in a field or the header is refused (not silently accepted)', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encryptWith(backend, { a: 'x' }, { keyring, paths: ['$.a'] });
    const field = sealed.a as string; // 43 chars: 39 b64u chars, last carries 2 unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(field[field.length - 1]!);
    const variants = [
      field.slice(0, -1) + alphabet[last | 1], // nonzero unused bits (same bytes on a lenient decoder)
      field + '=',
      field.slice(0, 10) + '+' + field.slice(11),
      field.slice(0, 10) + ' ' + field.slice(10),
      field.slice(0, 10) + '\n' + field.slice(10),
    ].filter((v) => v !== field);
    for (const v of variants) {
      const code = await rejectCode(decryptWith(backend, { ...sealed, a: v }, { keyring }));
      expect(['ERR_FIELDSEAL_MALFORMED', 'ERR_FIELDSEAL_INCOMPLETE', 'ERR_FIELDSEAL_DECRYPTION_FAILED']).toContain(code);
    }
    const header = sealed._fieldseal as string;
    for (const h of [header + '=', header.slice(0, 20) + '/' + header.slice(21), header.slice(0, 20) + '\t' + header.slice(20)]) {
      expect(await rejectCode(decryptWith(backend, { ...sealed, _fieldseal: h }, { keyring }))).toMatch(/MALFORMED|DECRYPTION_FAILED/);
    }
  });

  test('authenticated headers with overlapping, array-tail, header-targeting or trailing-slash pointers fail typed', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    // "/a" holds a ciphertext whose plaintext is an object, and "/a/b" is listed too
    const overlap = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', j('{"b":"v"}')], ['/a/b', s('w')]] }]);
    expect(await rejectCode(decryptWith(backend, overlap, { keyring }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    const dash = await craft(backend, { arr: ['x'] }, [{ name: 'default', keyring, fields: [['/a', s('x')]] }]);
    // list a pointer "/arr/-" via a second crafted document
    const dashDoc = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/arr/-', s('x')]] }]);
    // the crafting helper puts it in an object member "-": make it an array
    const asArray = { ...dashDoc, arr: [(dashDoc.arr as Record<string, string>)['-']!] };
    expect(await rejectCode(decryptWith(backend, asArray, { keyring }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    expect(await decryptWith(backend, dash, { keyring })).toEqual({ arr: ['x'], a: 'x' });
    // a pointer at the header property itself
    const self = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', s('x')], ['/_fieldseal', s('y')]] }]);
    const code = await rejectCode(decryptWith(backend, self, { keyring }));
    expect(['ERR_FIELDSEAL_INCOMPLETE', 'ERR_FIELDSEAL_MALFORMED']).toContain(code);
  });

  test('a decrypted j value is data: __proto__ stays an own member, depth is bounded, non-finite numbers are refused', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const proto = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', j('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}')]] }]);
    const out = await decryptWith(backend, proto, { keyring });
    expect(Object.getPrototypeOf(out.a)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out.a, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // depth: the value at /a/b/c plus 126 levels exceeds 128
    const deep = '['.repeat(130) + ']'.repeat(130);
    const deepDoc = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a/b/c', j(deep)]] }]);
    expect(await rejectCode(decryptWith(backend, deepDoc, { keyring }))).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    // 1e999 parses to Infinity, which is not JSON data: it must not come out of decrypt
    for (const payload of ['1e999', '-1e999', '{"x":1e999}', '[1e999]']) {
      const inf = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', j(payload)]] }]);
      expect(await rejectCode(decryptWith(backend, inf, { keyring }))).toBe('ERR_FIELDSEAL_MALFORMED');
    }
    // unknown type byte, invalid UTF-8 in an s payload, invalid JSON in a j payload
    for (const pt of [new Uint8Array([0x78, 0x41]), new Uint8Array([0x73, 0xff]), new Uint8Array([0x73, 0xef, 0xbb, 0xbf, 0xed, 0xa0, 0x80]), j('{')]) {
      const bad = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', pt]] }]);
      expect(['ERR_FIELDSEAL_MALFORMED', 'ERR_FIELDSEAL_DECRYPTION_FAILED']).toContain(await rejectCode(decryptWith(backend, bad, { keyring })));
    }
    // a UTF-8 BOM is kept as data, never stripped
    const bom = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', new Uint8Array([0x73, 0xef, 0xbb, 0xbf, 0x61])]] }]);
    expect((await decryptWith(backend, bom, { keyring })).a).toBe('\ufeffa');
  });

  test('an authenticated header with reserved or empty stored/required context keys is refused as malformed', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const cases: [ContextEntry[], ContextEntry[]][] = [
      [[entry('fieldseal:x', 'v')], []],
      [[entry('', 'v')], []],
      [[], [entry('fieldseal:row', '1')]],
      [[], [entry('', '1')]],
    ];
    for (const [stored, required] of cases) {
      const doc = await craft(backend, {}, [{ name: 'default', keyring, fields: [['/a', s('x')]] }], stored, required);
      // (a caller cannot even name such a key: contextEntries refuses it; so no context is passed)
      // A KMS keyring would be handed the reserved pair: the decoder must refuse it before any keyring call.
      let calls = 0;
      const spy = { wrap: keyring.wrap.bind(keyring), unwrap: async (req: Parameters<LocalKeyring['unwrap']>[0]) => (calls++, keyring.unwrap(req)) };
      expect(await rejectCode(decryptWith(backend, doc, { keyring: spy }))).toBe('ERR_FIELDSEAL_MALFORMED');
      expect(calls).toBe(0);
    }
  });

  test('context keys that only differ in Unicode normalisation, and __proto__ keys, are distinct and bound', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const nfc = '\u00e9';
    const nfd = 'e\u0301';
    const ctx = JSON.parse(`{"__proto__":"p","${nfc}":"1"}`) as Record<string, string>;
    const sealed = await encryptWith(backend, { a: 'x' }, { keyring, paths: ['$.a'], context: ctx, requiredContext: JSON.parse(`{"${nfd}":"2"}`) });
    const full = JSON.parse(`{"__proto__":"p","${nfc}":"1","${nfd}":"2"}`) as Record<string, string>;
    expect((await decryptWith(backend, sealed, { keyring, context: full })).a).toBe('x');
    // a prototype-less expected context works the same
    const bare = Object.assign(Object.create(null) as Record<string, string>, full);
    expect((await decryptWith(backend, sealed, { keyring, context: bare })).a).toBe('x');
    // supplying the NFC key's value under the NFD name (or vice versa) does not pass
    const swapped = JSON.parse(`{"__proto__":"p","${nfc}":"2","${nfd}":"1"}`) as Record<string, string>;
    expect(await rejectCode(decryptWith(backend, sealed, { keyring, context: swapped }))).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
    // omitting __proto__ from the expected context is fine (stored), a wrong __proto__ value is not
    expect(await rejectCode(decryptWith(backend, sealed, { keyring, context: JSON.parse(`{"__proto__":"q","${nfd}":"2"}`) }))).toBe('ERR_FIELDSEAL_CONTEXT_MISMATCH');
    expect(Object.prototype).not.toHaveProperty('p');
  });

  test('group names that are Object.prototype members never pick an inherited keyring', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const other = await LocalKeyring.generate({ name: 'o' });
    const sealed = await encryptWith(backend, { a: 'x', b: 'y' }, { groups: [{ name: 'constructor', keyring, paths: ['$.a'] }, { name: '__proto__', keyring: other, paths: ['$.b'] }] });
    const keyrings = Object.create(null) as Record<string, LocalKeyring>;
    Object.defineProperty(keyrings, 'constructor', { value: keyring, enumerable: true });
    Object.defineProperty(keyrings, '__proto__', { value: other, enumerable: true });
    expect(await decryptWith(backend, sealed, { keyrings })).toEqual({ a: 'x', b: 'y' });
    expect(await rejectCode(decryptWith(backend, sealed, { keyrings: {} }))).toMatch(/KEY_UNAVAILABLE|INVALID_ARGUMENT/);
  });

  test('partial decrypt (paths/groups) on a hostile document keeps completeness for what it opens', async () => {
    const contact = await LocalKeyring.generate({ name: 'c' });
    const restricted = await LocalKeyring.generate({ name: 'r' });
    const plain = { email: 'e@x', ssn: '123', note: 'n' };
    const sealed = await encryptWith(backend, plain, { keyring: contact, paths: ['$.email'], groups: [{ name: 'restricted', keyring: restricted, paths: ['$.ssn'] }] });
    // a restricted ciphertext copied to an unlisted place is noticed even when only "default" is opened
    expect(await rejectCode(decryptWith(backend, { ...sealed, note: sealed.ssn! }, { keyring: contact, groups: ['default'] }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    expect(await rejectCode(decryptWith(backend, { ...sealed, note: sealed.ssn! }, { keyring: contact, paths: ['$.email'] }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // the email ciphertext moved over the (unopened) ssn slot: the email itself is missing -> incomplete
    expect(await rejectCode(decryptWith(backend, { ...sealed, ssn: sealed.email!, email: 'forged' }, { keyring: contact, paths: ['$.email'] }))).toBe('ERR_FIELDSEAL_INCOMPLETE');
    // a selector that reaches the header property never opens or exposes it
    const viaHeader = await decryptWith(backend, sealed, { keyring: contact, paths: ['$._fieldseal', '$.email'] });
    expect(viaHeader.email).toBe('e@x');
    expect(viaHeader._fieldseal).toBe(sealed._fieldseal);
    // an unknown group name is a typed error
    expect(await rejectCode(decryptWith(backend, sealed, { keyring: contact, groups: ['nope'] }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  test('a wrapped key with an empty or short ciphertext in an authenticated header gives KEY_UNAVAILABLE, not a crash', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encryptWith(backend, { a: 'x' }, { keyring, paths: ['$.a'] });
    // rebuild the header with the wrapped key's ciphertext cut to 0 and 5 bytes (MAC no longer matters: unwrap comes first)
    const { decodeHeader } = await import('../src/lib/format/header.js');
    const { DEFAULT_LIMITS } = await import('../src/lib/limits.js');
    const h = decodeHeader(backend, sealed._fieldseal, DEFAULT_LIMITS);
    for (const len of [0, 5, 27]) {
      const groups = h.groups.map((g) => ({ ...g, wrapped: g.wrapped.map((w) => ({ ...w, ciphertext: w.ciphertext.slice(0, len) })) }));
      const body = encodeHeaderBody({ suite: h.suite, messageId: h.messageId, storedContext: h.storedContext, requiredKeys: h.requiredKeys, groups });
      const doc = { ...sealed, _fieldseal: headerToString(backend, body, h.macs) };
      expect(await rejectCode(decryptWith(backend, doc, { keyring }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
      expect(await rejectCode(rewrap(doc, { keyring, to: keyring }))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    }
  });
});
