import type { JsonObject } from '@fieldseal/core';

/**
 * Whether two parsed JSON values serialise to the same text: the same keys in the same order, equal
 * at every depth. What comparing their `JSON.stringify` would say, without building either string
 * (for a verified rewrap, two serialisations of every record were 3-10% of its CPU; issue 18).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  return sameMembers(a as JsonObject, b as JsonObject, undefined);
}

/** {@link sameJson} of two objects leaving out the member `skip` of both (a header that is meant to differ). */
export function sameMembers(a: JsonObject, b: JsonObject, skip: string | undefined): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < ka.length && ka[i] === skip) i++;
    while (j < kb.length && kb[j] === skip) j++;
    if (i === ka.length || j === kb.length) return i === ka.length && j === kb.length;
    const key = ka[i]!;
    if (key !== kb[j] || !sameJson(a[key], b[key])) return false;
    i++;
    j++;
  }
}
