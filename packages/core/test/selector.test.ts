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

  test.each(["$['\\uD800']", '$["\\uDC00"]', "$['a\\uD800b']", "$['\\uDBFF\\uDBFF']", "$['\\uDC00\\uD800']", '$.a\uD800', "$['\uDC00']"])('a lone surrogate in a name selector (%j) is refused (RFC 9535)', (sel) => {
    expect(() => compileSelector(sel)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' }));
  });

  test('a surrogate pair escape names the supplementary character', () => {
    expect(evaluateSelector(compileSelector("$['\\uD83D\\uDE00']"), { '\u{1F600}': 1 })).toEqual([['\u{1F600}']]);
  });

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

describe('the singular-selector fast path', () => {
  test('agrees with the general evaluator on every singular selector over random documents', async () => {
    const fc = (await import('fast-check')).default;
    const names = ['a', 'b', '__proto__', 'constructor', '_fieldseal', 'x y', 'é'];
    const doc = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.constantFrom(...names), tie('value'), { maxKeys: 4 }),
    })).object;
    const step = fc.oneof(
      fc.constantFrom(...names).map((n) => `[${JSON.stringify(n)}]`),
      fc.integer({ min: -5, max: 5 }).map((i) => `[${i}]`),
    );
    const selector = fc.array(step, { minLength: 1, maxLength: 4 }).map((steps) => '$' + steps.join(''));
    fc.assert(
      fc.property(doc, selector, fc.boolean(), (d, source, skipHeader) => {
        const compiled = compileSelector(source);
        expect(compiled.singular).toBe(true);
        const skip = skipHeader ? '_fieldseal' : undefined;
        expect(evaluateSelector(compiled, d, skip)).toEqual(evaluateSelector(compiled, d, skip, true));
      }),
      { numRuns: 2000 },
    );
  });

  test('wildcards, unions and descendants are not singular', () => {
    for (const s of ['$.*', '$[*]', "$['a','b']", '$..a', '$.a[0,1]', '$.a.*.b']) expect(compileSelector(s).singular).toBe(false);
    for (const s of ['$.a', '$.a.b[0]', "$['a']['b']", '$[-1]']) expect(compileSelector(s).singular).toBe(true);
  });
});

describe('array-index tokens (RFC 6901)', () => {
  test('isArrayIndexToken accepts exactly "0" or 1-16 digits without a leading zero', async () => {
    const fc = (await import('fast-check')).default;
    const { isArrayIndexToken } = await import('../src/lib/pointer.js');
    const definition = (t: string) => /^(0|[1-9][0-9]{0,15})$/.test(t);
    for (const t of ['', '0', '00', '01', '7', '10', '9'.repeat(16), '9'.repeat(17), '-1', '1e3', ' 1', '1 ', '١']) expect(isArrayIndexToken(t), t).toBe(definition(t));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('0', '1', '9', 'a', '-', '+', '.', ' ', '١'), { maxLength: 18 }).map((cs) => cs.join('')), (t) => {
        expect(isArrayIndexToken(t)).toBe(definition(t));
      }),
      { numRuns: 3000 },
    );
  });
});
