import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { JsonObject } from '@fieldseal/core';
import { sameJson, sameMembers } from '../src/lib/json-equal.js';

const text = (v: unknown) => JSON.stringify(v);
function without(o: JsonObject, skip: string): JsonObject {
  const { [skip]: _dropped, ...rest } = o;
  return rest;
}

/** A JSON value and a near copy: the same, or one member, element or scalar changed, moved or dropped. */
const pairs = fc.jsonValue({ maxDepth: 4 }).chain((v) =>
  fc.tuple(
    fc.constant(v),
    fc.oneof(
      fc.constant(JSON.parse(JSON.stringify(v)) as unknown),
      fc.jsonValue({ maxDepth: 4 }),
      fc.constant(Array.isArray(v) ? [...v].reverse() : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse()) : v),
      fc.constant(Array.isArray(v) ? v.slice(1) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).slice(1)) : v),
    ),
  ),
);

describe('sameJson: equal exactly when JSON.stringify is', () => {
  test('edge cases: order of members, 0 and -0, nested arrays, null against objects, a member only one side has', () => {
    const cases: [unknown, unknown][] = [
      [{ a: 1, b: 2 }, { b: 2, a: 1 }],
      [0, -0],
      [[[1], [2]], [[1], [2]]],
      [[1, [2]], [1, [3]]],
      [null, {}],
      [{}, []],
      [{ a: null }, {}],
      ['1', 1],
      [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'x' }] } }],
    ];
    for (const [a, b] of cases) expect(sameJson(a, b), `${text(a)} vs ${text(b)}`).toBe(text(a) === text(b));
  });

  test('property: any JSON value against a copy, a reordering, a shortening or another value', () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(sameJson(a, b)).toBe(text(a) === text(b));
      }),
      { numRuns: 3000 },
    );
  });

  test('property: sameMembers leaves out one member of both sides, wherever it is', () => {
    const objects = fc.dictionary(fc.constantFrom('_fieldseal', 'a', 'b', 'c', 'd'), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(objects, objects, fc.boolean(), (a, b, copy) => {
        const other = copy ? { ...(JSON.parse(JSON.stringify(a)) as JsonObject), _fieldseal: 'another header' } : b;
        expect(sameMembers(a as JsonObject, other as JsonObject, '_fieldseal')).toBe(text(without(a as JsonObject, '_fieldseal')) === text(without(other as JsonObject, '_fieldseal')));
      }),
      { numRuns: 3000 },
    );
  });
});
