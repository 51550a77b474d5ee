/**
 * The IETF JSONPath Compliance Test Suite (test/vectors/jsonpath-cts/cts.json, see its README) run
 * against fieldseal's selector subset (issue 14, item 7).
 *
 * Which cases run, and how (the rule is in test/vectors/jsonpath-cts/README.md too):
 * - every case marked invalid must be refused with InvalidSelectorError;
 * - a valid case whose selector uses a filter (`?`) or a slice (`:`) outside string literals is
 *   outside the subset: it must be refused with InvalidSelectorError (refused, never guessed);
 * - a valid case whose result is the root itself (`$`) is outside the subset (fieldseal selects
 *   members, never the whole document): it must be refused with InvalidSelectorError;
 * - every other valid case is inside the subset: the selector must select exactly the suite's
 *   result paths, compared as a set of normalized paths, because fieldseal lists each location
 *   once (RFC 9535 nodelists may repeat a node). Both evaluators are checked: the walk over the
 *   document (encrypt, beacons) and the per-path matcher (partial decrypt), the latter on every
 *   location of the document.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compileSelector, evaluateSelector, selectsPath } from '../src/lib/selector.js';
import type { PathToken } from '../src/lib/pointer.js';

interface CtsCase {
  readonly name: string;
  readonly selector: string;
  readonly document?: unknown;
  readonly result_paths?: readonly string[];
  readonly results_paths?: readonly (readonly string[])[];
  readonly invalid_selector?: boolean;
}

const cts = JSON.parse(readFileSync(new URL('../../../test/vectors/jsonpath-cts/cts.json', import.meta.url), 'utf8')) as { tests: CtsCase[] };

/** The selector's text outside its string literals (so `$['?']` is not taken for a filter). */
function outsideStrings(selector: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else {
      out += c;
    }
  }
  return out;
}

/** RFC 9535 §2.7 normalized path of a token path. */
function normalizedPath(tokens: readonly PathToken[]): string {
  let out = '$';
  for (const t of tokens) {
    if (typeof t === 'number') {
      out += `[${t}]`;
      continue;
    }
    let s = '';
    for (const ch of t) {
      const c = ch.codePointAt(0)!;
      if (ch === "'") s += "\\'";
      else if (ch === '\\') s += '\\\\';
      else if (ch === '\b') s += '\\b';
      else if (ch === '\f') s += '\\f';
      else if (ch === '\n') s += '\\n';
      else if (ch === '\r') s += '\\r';
      else if (ch === '\t') s += '\\t';
      else if (c < 0x20) s += '\\u' + c.toString(16).padStart(4, '0');
      else s += ch;
    }
    out += `['${s}']`;
  }
  return out;
}

/** Every location of a document (the root excluded), as token paths, iteratively. */
function allLocations(doc: unknown): PathToken[][] {
  const out: PathToken[][] = [];
  const stack: { v: unknown; path: PathToken[] }[] = [{ v: doc, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (path.length > 0) out.push(path);
    if (Array.isArray(v)) v.forEach((c, i) => stack.push({ v: c, path: [...path, i] }));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
  }
  return out;
}

type Kind = 'invalid' | 'outside-subset' | 'selects-root' | 'inside-subset';

function kindOf(c: CtsCase): Kind {
  if (c.invalid_selector === true) return 'invalid';
  const bare = outsideStrings(c.selector);
  if (bare.includes('?') || bare.includes(':')) return 'outside-subset';
  const paths = c.result_paths ?? c.results_paths![0]!;
  if (paths.includes('$')) return 'selects-root';
  return 'inside-subset';
}

const refuses = (selector: string): boolean => {
  try {
    compileSelector(selector);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_FIELDSEAL_INVALID_SELECTOR';
  }
};

describe('IETF JSONPath Compliance Test Suite', () => {
  const counts: Record<Kind, number> = { invalid: 0, 'outside-subset': 0, 'selects-root': 0, 'inside-subset': 0 };
  for (const c of cts.tests) counts[kindOf(c)]++;

  test('the suite is the vendored one and the subset rule keeps most valid cases', () => {
    expect(cts.tests.length).toBe(703);
    // Fails loudly if a change to the rule (or the suite) silently drops cases.
    expect(counts.invalid).toBeGreaterThanOrEqual(247);
    expect(counts['inside-subset']).toBeGreaterThanOrEqual(107);
    expect(counts.invalid + counts['outside-subset'] + counts['selects-root'] + counts['inside-subset']).toBe(cts.tests.length);
  });

  test.each(cts.tests.filter((c) => kindOf(c) !== 'inside-subset').map((c) => [c.name, c] as const))('refused: %s', (_name, c) => {
    expect(refuses(c.selector)).toBe(true);
  });

  test.each(cts.tests.filter((c) => kindOf(c) === 'inside-subset').map((c) => [c.name, c] as const))('selects exactly the result paths: %s', (_name, c) => {
    const expected = new Set(c.result_paths ?? c.results_paths![0]!);
    if (c.results_paths !== undefined) for (const alt of c.results_paths) expect(new Set(alt)).toEqual(expected);
    const compiled = compileSelector(c.selector);
    const walked = evaluateSelector(compiled, c.document, undefined, true).map(normalizedPath);
    expect(new Set(walked).size).toBe(walked.length);
    expect(new Set(walked)).toEqual(expected);
    if (compiled.singular) expect(evaluateSelector(compiled, c.document).map(normalizedPath)).toEqual(walked);
    const matched = allLocations(c.document)
      .filter((p) => selectsPath(compiled, c.document, p.map(String)))
      .map(normalizedPath);
    expect(new Set(matched)).toEqual(expected);
  });
});
