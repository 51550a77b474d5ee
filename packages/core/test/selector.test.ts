import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { compileSelector, evaluateSelector } from '../src/lib/selector.js';
import { toPointer } from '../src/lib/pointer.js';

const doc: JsonObject = {
  a: { b: 1, 'odd key': 2, "it's": 3 },
  items: [{ x: 1, ssn: 's1' }, { x: 2 }, { x: 3, nested: { ssn: 's2' } }],
  ssn: 's0',
  'a/b~c': 4,
};
const pointers = (sel: string) => evaluateSelector(compileSelector(sel), doc).map(toPointer);

describe('selectors (RFC 9535 subset)', () => {
  test.each([
    ['$.a.b', ['/a/b']],
    ["$['a']['odd key']", ['/a/odd key']],
    ['$["a"]["it\'s"]', ["/a/it's"]],
    ["$.a['it\\'s']", ["/a/it's"]],
    ['$.items[0]', ['/items/0']],
    ['$.items[-1].x', ['/items/2/x']],
    ['$.items[*].x', ['/items/0/x', '/items/1/x', '/items/2/x']],
    ['$.items[5]', []],
    ['$.missing.deeper', []],
    ['$..ssn', ['/ssn', '/items/0/ssn', '/items/2/nested/ssn']],
    ["$['a/b~c']", ['/a~1b~0c']],
    ["$['a','ssn']", ['/a', '/ssn']],
    ['$.items[0,2].x', ['/items/0/x', '/items/2/x']],
    ['$.a.*', ['/a/b', '/a/odd key', "/a/it's"]],
    ['$ .a [ "b" ]', ['/a/b']],
  ])('%s', (sel, expected) => {
    expect(pointers(sel)).toEqual(expected);
  });

  test.each(['', 'a.b', '$.', '$[', "$['unterminated]", '$.a[?(@.x)]', '$.items[1:2]', '$.1abc', '$[01]', '$[-0]', '$..', '$', '$.a b', '$ . a', "$['\\q']", 123 as unknown as string])(
    'invalid selector %j is a typed error naming the selector',
    (sel) => {
      expect(() => compileSelector(sel)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' }));
    },
  );

  test('strict mode makes a selector matching nothing an error; default ignores it', async () => {
    const keyring = await LocalKeyring.generate();
    const sealed = await encrypt(doc, { keyring, paths: ['$.nope', '$.ssn'] });
    expect(sealed.ssn).toMatch(/^fs1\./);
    await expect(encrypt(doc, { keyring, paths: ['$.nope'], strict: true })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR', selector: '$.nope' });
  });

  test('overlapping selections and a field claimed by two groups are refused', async () => {
    const keyring = await LocalKeyring.generate();
    await expect(encrypt(doc, { keyring, paths: ['$.a', '$.a.b'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' });
    await expect(encrypt(doc, { keyring, paths: ['$.items[0]', '$..ssn'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' });
    await expect(encrypt(doc, { keyring, paths: ['$.ssn'], groups: [{ name: 'g', keyring, paths: ['$..ssn'] }] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' });
  });

  test('partial decrypt with selectors opens only the matching fields and keeps the header', async () => {
    const keyring = await LocalKeyring.generate();
    const sealed = await encrypt(doc, { keyring, paths: ['$..ssn', '$.a.b'] });
    const partial = await decrypt(sealed, { keyring, paths: ['$.ssn'] });
    expect(partial.ssn).toBe('s0');
    expect((partial.a as JsonObject).b).toMatch(/^fs1\./);
    expect(typeof partial._fieldseal).toBe('string');
    // the rest can still be opened from the partial result
    const rest = await decrypt(partial, { keyring, paths: ['$.a.b', '$.items..ssn'] });
    expect((rest.a as JsonObject).b).toBe(1);
    await expect(decrypt(sealed, { keyring, paths: ['$.a.odd'], strict: true })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' });
  });
});
