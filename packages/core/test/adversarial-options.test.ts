/**
 * Red-team suite: hostile option values never escape as untyped errors (TypeError, RangeError).
 */
import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring, decrypt, encrypt, reencrypt, rewrap } from '@fieldseal/core';

async function code(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  throw new Error('expected a rejection');
}

describe('hostile options', () => {
  test('null, numbers and strings where objects are expected give INVALID_ARGUMENT', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encrypt({ a: 'x' }, { keyring, paths: ['$.a'] });
    const bad: unknown[] = [null, 5, 'x', true];
    for (const v of bad) {
      expect(await code(() => encrypt({ a: 'x' }, { keyring, paths: ['$.a'], limits: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(sealed, { keyring, limits: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => rewrap(sealed, { keyring, to: keyring, limits: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => reencrypt(sealed, { keyring, to: keyring, limits: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(sealed, { keyring, context: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(sealed, { keyring, paths: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(sealed, { keyring, groups: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(sealed, { keyrings: v as never }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(await code(() => decrypt(v as never, { keyring }))).toMatch(/MALFORMED|INVALID_ARGUMENT/);
    }
  });
});
