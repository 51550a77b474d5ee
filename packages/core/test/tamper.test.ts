import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { backends } from './helpers/backends.js';

const record: JsonObject = { id: 1, ssn: '078-05-1120', cards: ['4111111111111111', '5500000000000004'], email: 'a@b.c', note: 'public' };
const CONTEXT = { tenant: 't1' };
const FULL = { tenant: 't1', row: '1' };

async function expectTypedRejection(p: Promise<unknown>, codes?: readonly string[]): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    const code = (err as FieldsealError).code;
    if (codes) expect(codes).toContain(code);
    return code;
  }
  throw new Error('expected a rejection, got a result');
}

function flipBit(b64: string, bit: number, decode: (s: string) => Uint8Array | undefined, encode: (b: Uint8Array) => string): string {
  const bytes = decode(b64)!.slice();
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return encode(bytes);
}

describe.each(backends)('tamper matrix (%s backend)', (_name, backend) => {
  test('every bit of a field blob and of the header, flipped one at a time, is rejected with a typed error', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const small = { a: 'x', b: 'keep' };
    const sealed = await encryptWith(backend, small, { keyring, paths: ['$.a'], context: CONTEXT, requiredContext: { row: '1' } });
    const dec = (s: string) => backend.base64urlDecode(s);
    const enc = (b: Uint8Array) => backend.base64urlEncode(b);
    const field = (sealed.a as string).slice(4);
    const header = (sealed._fieldseal as string).slice(5);
    const fieldBits = dec(field)!.length * 8;
    const headerBits = dec(header)!.length * 8;
    const codes = new Set<string>();
    for (let bit = 0; bit < fieldBits; bit++) {
      const tampered = { ...sealed, a: 'fs1.' + flipBit(field, bit, dec, enc) };
      codes.add(await expectTypedRejection(decryptWith(backend, tampered, { keyring, context: FULL })));
    }
    for (let bit = 0; bit < headerBits; bit++) {
      const tampered = { ...sealed, _fieldseal: 'fs1h.' + flipBit(header, bit, dec, enc) };
      codes.add(await expectTypedRejection(decryptWith(backend, tampered, { keyring, context: FULL })));
    }
    // Sanity: the untouched document still opens, so the rejections above are due to the flips.
    expect(await decryptWith(backend, sealed, { keyring, context: FULL })).toEqual(small);
    expect([...codes].every((c) => c.startsWith('ERR_FIELDSEAL_'))).toBe(true);
    expect(codes.has('ERR_FIELDSEAL_DECRYPTION_FAILED')).toBe(true);
  }, 120_000);

  test('structural attacks each get their typed error', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const other = await LocalKeyring.generate({ name: 'other' });
    const opts = { keyring, paths: ['$.ssn', '$.cards[*]', '$.email'], context: CONTEXT, requiredContext: { row: '1' } };
    const sealed = await encryptWith(backend, record, opts);
    const sealed2 = await encryptWith(backend, record, opts);
    const open = (doc: JsonObject, context: Record<string, string> = FULL) => decryptWith(backend, doc, { keyring, context });
    const cards = sealed.cards as string[];

    // moved to another path
    await expectTypedRejection(open({ ...sealed, email: sealed.ssn! }), ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
    // moved to another array index (swap)
    await expectTypedRejection(open({ ...sealed, cards: [cards[1]!, cards[0]!] }), ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
    // moved from another document (same keyring, same context)
    await expectTypedRejection(open({ ...sealed, ssn: sealed2.ssn! }), ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
    // removed
    const { ssn: _removed, ...withoutSsn } = sealed;
    await expectTypedRejection(open(withoutSsn), ['ERR_FIELDSEAL_INCOMPLETE']);
    // replaced by plaintext (downgrade)
    await expectTypedRejection(open({ ...sealed, ssn: '078-05-1120' }), ['ERR_FIELDSEAL_INCOMPLETE']);
    // duplicated to an unlisted place
    await expectTypedRejection(open({ ...sealed, note: sealed.ssn! }), ['ERR_FIELDSEAL_INCOMPLETE']);
    await expectTypedRejection(open({ ...sealed, extra: { deep: [sealed.ssn!] } }), ['ERR_FIELDSEAL_INCOMPLETE']);
    // header of another document
    await expectTypedRejection(open({ ...sealed, _fieldseal: sealed2._fieldseal! }), ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
    // header removed
    const { _fieldseal: _h, ...noHeader } = sealed;
    await expectTypedRejection(open(noHeader), ['ERR_FIELDSEAL_INCOMPLETE']);
    // a context value changed / omitted / extra
    await expectTypedRejection(open(sealed, { tenant: 't2', row: '1' }), ['ERR_FIELDSEAL_CONTEXT_MISMATCH']);
    await expectTypedRejection(open(sealed, { tenant: 't1' }), ['ERR_FIELDSEAL_CONTEXT_MISMATCH']);
    await expectTypedRejection(open(sealed, { tenant: 't1', row: '1', extra: 'x' }), ['ERR_FIELDSEAL_CONTEXT_MISMATCH']);
    // a wrong value for the required (not stored) key: the local KEK refuses, as would a KMS
    await expectTypedRejection(open(sealed, { tenant: 't1', row: '2' }), ['ERR_FIELDSEAL_KEY_UNAVAILABLE', 'ERR_FIELDSEAL_DECRYPTION_FAILED']);
    // a keyring that was not used
    await expectTypedRejection(decryptWith(backend, sealed, { keyring: other, context: FULL }), ['ERR_FIELDSEAL_KEY_UNAVAILABLE']);
    // not a header
    await expectTypedRejection(open({ ...sealed, _fieldseal: 'hello' }), ['ERR_FIELDSEAL_MALFORMED']);
    await expectTypedRejection(open({ ...sealed, _fieldseal: 42 as never }), ['ERR_FIELDSEAL_MALFORMED']);
    // a malformed field blob
    await expectTypedRejection(open({ ...sealed, ssn: 'fs1.' + '!'.repeat(60) }), ['ERR_FIELDSEAL_MALFORMED', 'ERR_FIELDSEAL_INCOMPLETE']);
  });

  test('moving a field between key groups fails, and each group opens only with its keyring', async () => {
    const contact = await LocalKeyring.generate({ name: 'contact' });
    const restricted = await LocalKeyring.generate({ name: 'restricted' });
    const sealed = await encryptWith(backend, record, { keyring: contact, paths: ['$.email'], groups: [{ name: 'restricted', keyring: restricted, paths: ['$.ssn'] }] });
    // least privilege: the contact keyring opens the email and leaves the ssn sealed
    const partial = await decryptWith(backend, sealed, { keyring: contact, groups: ['default'] });
    expect(partial.email).toBe(record.email);
    expect(partial.ssn).toBe(sealed.ssn);
    await expectTypedRejection(decryptWith(backend, sealed, { keyring: contact }), ['ERR_FIELDSEAL_KEY_UNAVAILABLE']);
    const full = await decryptWith(backend, sealed, { keyrings: { default: contact, restricted } });
    expect(full).toEqual(record);
    // swap the ciphertexts of the two groups
    await expectTypedRejection(decryptWith(backend, { ...sealed, email: sealed.ssn!, ssn: sealed.email! }, { keyrings: { default: contact, restricted } }), ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
  });

  test('a wrapped key list over the cap is refused before any keyring call', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    let calls = 0;
    const many = {
      async wrap(req: { dataKey?: Uint8Array; context: Record<string, string> }) {
        const r = await keyring.wrap(req);
        return { dataKey: r.dataKey, wrapped: Array.from({ length: 17 }, () => r.wrapped[0]!) };
      },
      async unwrap(req: never) {
        calls++;
        return keyring.unwrap(req);
      },
    };
    await expectTypedRejection(encryptWith(backend, record, { keyring: many, paths: ['$.ssn'] }), ['ERR_FIELDSEAL_LIMIT_EXCEEDED']);
    const sealed = await encryptWith(backend, record, { keyring: many, paths: ['$.ssn'], limits: { maxWrappedKeys: 17 } });
    await expectTypedRejection(decryptWith(backend, sealed, { keyring: many }), ['ERR_FIELDSEAL_LIMIT_EXCEEDED']);
    expect(calls).toBe(0);
    expect((await decryptWith(backend, sealed, { keyring: many, limits: { maxWrappedKeys: 17 } })).ssn).toBe(record.ssn);
  });
});
