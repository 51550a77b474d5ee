/**
 * Red-team suite: partial decrypt (`paths`, `groups`) on documents an attacker shaped.
 */
import { describe, expect, test } from 'vitest';
import { LocalKeyring, MultiKeyring, type JsonObject } from '@fieldseal/core';
import { encryptWith } from '../src/encrypt.js';
import { decryptWith } from '../src/decrypt.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('adversarial partial decrypt (%s backend)', (_name, backend) => {
  test('paths together with groups never open a field of another group (least privilege is not widened)', async () => {
    const contact = await LocalKeyring.generate({ name: 'c' });
    const restricted = await LocalKeyring.generate({ name: 'r' });
    const plain = { email: 'e@x', ssn: '078-05-1120', note: 'n' };
    const sealed = await encryptWith(backend, plain, { keyring: contact, paths: ['$.email'], groups: [{ name: 'restricted', keyring: restricted, paths: ['$.ssn'] }] });
    // A service whose keyring happens to reach both KEKs, asking for the contact group only.
    const both = new MultiKeyring([contact, restricted]);
    for (const paths of [['$.*'], ['$.ssn', '$.email'], ['$..*']]) {
      const out = await decryptWith(backend, sealed, { keyring: both, paths, groups: ['default'] });
      expect(out.email).toBe('e@x');
      expect(out.ssn).toBe(sealed.ssn);
      expect(out._fieldseal).toBe(sealed._fieldseal);
    }
    // strict: a selector that only reaches excluded groups matched nothing the caller may open
    await expect(decryptWith(backend, sealed, { keyring: both, paths: ['$.ssn'], groups: ['default'], strict: true })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' });
    // an unknown group name is refused with paths too
    await expect(decryptWith(backend, sealed, { keyring: both, paths: ['$.email'], groups: ['nope'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    // all groups named: a full decrypt
    expect(await decryptWith(backend, sealed, { keyring: both, paths: ['$.*'], groups: ['default', 'restricted'] })).toEqual(plain);
  });

  test('paths matching many listed fields stay linear (no quadratic dedupe)', async () => {
    const keyring = await LocalKeyring.generate({ name: 'k' });
    const doc: Record<string, string> = {};
    for (let i = 0; i < 40_000; i++) doc['f' + i] = 'v';
    const sealed: JsonObject = await encryptWith(backend, doc, { keyring, paths: ['$.*'] });
    let t0 = performance.now();
    await decryptWith(backend, sealed, { keyring });
    const full = performance.now() - t0;
    t0 = performance.now();
    const out = await decryptWith(backend, sealed, { keyring, paths: ['$.*', '$..*'] });
    const partial = performance.now() - t0;
    expect(out).toEqual(doc);
    // Choosing the targets must cost about what opening them costs, not O(fields^2).
    console.log(`adversarial-partial: full ${full.toFixed(0)} ms, with paths ${partial.toFixed(0)} ms`);
    expect(partial).toBeLessThan(full * 4 + 500);
  }, 60_000);
});
