/**
 * Red-team suite: inputs that encrypt must refuse rather than write a header the decoder would parse
 * differently (u16 length prefixes wrap silently in a DataView).
 */
import { describe, expect, test } from 'vitest';
import { FieldsealError, LocalKeyring } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('adversarial encode (%s backend)', (_name, backend) => {
  test('a selected member name whose pointer exceeds 65,535 UTF-8 bytes is refused, not written with a wrapped length', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    // Largest pointer the u16 length can carry: "/" + 65,534 bytes. It round-trips.
    const fits = 'n'.repeat(65_534);
    const ok = await encryptWith(backend, { [fits]: 'v', s: 'w' }, { keyring, paths: ['$.*'] });
    expect(await decryptWith(backend, ok, { keyring })).toEqual({ [fits]: 'v', s: 'w' });
    // One byte more (and a length that wraps to a tiny, parseable value) must fail typed at encrypt.
    for (const name of ['n'.repeat(65_535), 'n'.repeat(65_536 + 2), 'é'.repeat(40_000)]) {
      let caught: unknown;
      try {
        await encryptWith(backend, { [name]: 'v', s: 'w' }, { keyring, paths: ['$.*'] });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(FieldsealError);
      expect((caught as FieldsealError).code).toBe('ERR_FIELDSEAL_LIMIT_EXCEEDED');
      expect((caught as Error).message).not.toContain('nnnn');
    }
  });
});
