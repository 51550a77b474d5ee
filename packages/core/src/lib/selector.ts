import { InvalidSelectorError } from '../errors.js';
import type { PathToken } from './pointer.js';

/*
 * fieldseal's JSONPath subset, in RFC 9535 syntax:
 *   $                 the root (only as the start; selecting the root itself is refused)
 *   .name  ['name']  ["name"]   a member (string escapes as in RFC 9535 §2.3.1.1)
 *   [0]  [-1]         an array element (negative counts from the end)
 *   .*  [*]           every member / element
 *   ['a', 'b', 0]     a union of the above
 *   ..name  ..*  ..[...]   descendant segment: the selectors applied to every node below, and the node itself
 * Filters (?) and slices (:) are refused with a typed error, never guessed.
 */

type Selector = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };
interface Segment {
  readonly descendant: boolean;
  readonly selectors: readonly Selector[];
}

/** A parsed selector. */
export interface CompiledSelector {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** Only child segments with one name or index each (`$.a.b[0]`): at most one location. */
  readonly singular: boolean;
}

const MAX_SELECTOR_LENGTH = 4096;

// Applications pass the same few selectors on every call: parse each once. Compiled selectors are
// frozen plain data, so sharing them is safe; only successful parses are kept, and the cache is
// bounded (dropped wholesale when full) so hostile selector streams cannot grow it.
const COMPILED_CACHE_MAX = 512;
const compiledCache = new Map<string, CompiledSelector>();

/** Parse a selector, throwing InvalidSelectorError naming it on any syntax outside the subset. */
export function compileSelector(source: unknown): CompiledSelector {
  if (typeof source !== 'string') throw new InvalidSelectorError('a selector must be a string', String(source));
  const cached = compiledCache.get(source);
  if (cached !== undefined) return cached;
  const compiled = parseSelector(source);
  if (compiledCache.size >= COMPILED_CACHE_MAX) compiledCache.clear();
  compiledCache.set(source, compiled);
  return compiled;
}

function parseSelector(source: string): CompiledSelector {
  if (source.length > MAX_SELECTOR_LENGTH) throw new InvalidSelectorError(`a selector is limited to ${MAX_SELECTOR_LENGTH} characters`, source.slice(0, 64) + '…');
  const fail = (why: string, at: number): never => {
    throw new InvalidSelectorError(`invalid selector ${JSON.stringify(source)} at offset ${at}: ${why}`, source);
  };
  let i = 0;
  if (source[i] !== '$') fail('a selector starts with "$"', i);
  i++;
  const segments: Segment[] = [];
  const skipBlank = () => {
    while (i < source.length && ' \t\n\r'.includes(source[i]!)) i++;
  };
  const readShorthand = (): string => {
    const start = i;
    // RFC 9535 member-name-shorthand: name-first = ALPHA / "_" / %x80-10FFFF; name-char adds DIGIT.
    while (i < source.length && /[A-Za-z0-9_]|[^\x00-\x7f]/.test(source[i]!)) i++;
    const name = source.slice(start, i);
    if (name === '' || /^[0-9]/.test(name)) fail('expected a member name', start);
    return name;
  };
  const readQuoted = (): string => {
    const quote = source[i]!;
    const start = i;
    i++;
    let out = '';
    for (;;) {
      if (i >= source.length) fail('unterminated string', start);
      const c = source[i]!;
      if (c === quote) {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = source[i + 1];
        const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\', "'": "'", '"': '"' };
        if (e !== undefined && e in simple && (e !== "'" || quote === "'") && (e !== '"' || quote === '"')) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = source.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail('invalid \\u escape', i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          fail('invalid escape', i);
        }
      } else {
        if (c.charCodeAt(0) < 0x20) fail('control character in string', i);
        out += c;
        i++;
      }
    }
  };
  const readBracket = (): Selector[] => {
    i++; // [
    const selectors: Selector[] = [];
    for (;;) {
      skipBlank();
      const c = source[i];
      if (c === "'" || c === '"') {
        selectors.push({ kind: 'name', name: readQuoted() });
      } else if (c === '*') {
        i++;
        selectors.push({ kind: 'wildcard' });
      } else if (c !== undefined && /[-0-9]/.test(c)) {
        const m = /^-?(0|[1-9][0-9]*)/.exec(source.slice(i));
        if (!m || m[0] === '-0') fail('invalid array index', i);
        const n = Number(m![0]);
        if (!Number.isSafeInteger(n)) fail('array index out of range', i);
        i += m![0].length;
        skipBlank();
        if (source[i] === ':') fail('array slices are not supported', i);
        selectors.push({ kind: 'index', index: n });
      } else if (c === '?') {
        fail('filter expressions are not supported', i);
      } else if (c === ':') {
        fail('array slices are not supported', i);
      } else {
        fail('expected a quoted name, an index or *', i);
      }
      skipBlank();
      if (source[i] === ',') {
        i++;
        continue;
      }
      if (source[i] === ']') {
        i++;
        return selectors;
      }
      fail('expected "," or "]"', i);
    }
  };
  while (i < source.length) {
    skipBlank();
    if (i >= source.length) break;
    if (source.startsWith('..', i)) {
      i += 2;
      if (source[i] === '[') segments.push({ descendant: true, selectors: readBracket() });
      else if (source[i] === '*') {
        i++;
        segments.push({ descendant: true, selectors: [{ kind: 'wildcard' }] });
      } else segments.push({ descendant: true, selectors: [{ kind: 'name', name: readShorthand() }] });
    } else if (source[i] === '.') {
      i++;
      if (source[i] === '*') {
        i++;
        segments.push({ descendant: false, selectors: [{ kind: 'wildcard' }] });
      } else segments.push({ descendant: false, selectors: [{ kind: 'name', name: readShorthand() }] });
    } else if (source[i] === '[') {
      segments.push({ descendant: false, selectors: readBracket() });
    } else {
      fail('expected ".", ".." or "["', i);
    }
  }
  if (segments.length === 0) throw new InvalidSelectorError(`selector ${JSON.stringify(source)} selects the whole document; select members of it`, source);
  for (const seg of segments) {
    for (const sel of seg.selectors) Object.freeze(sel);
    Object.freeze(seg.selectors);
    Object.freeze(seg);
  }
  const singular = segments.every((seg) => !seg.descendant && seg.selectors.length === 1 && seg.selectors[0]!.kind !== 'wildcard');
  return Object.freeze({ source, segments: Object.freeze(segments), singular });
}

/** evaluateSelector for a singular selector: one walk, no intermediate node lists. */
function evaluateSingular(selector: CompiledSelector, doc: unknown, skipTopLevel: string | undefined): PathToken[][] {
  let cur: unknown = doc;
  const path: PathToken[] = [];
  for (const seg of selector.segments) {
    const sel = seg.selectors[0]!;
    if (Array.isArray(cur)) {
      if (sel.kind !== 'index') return [];
      const i = sel.index < 0 ? cur.length + sel.index : sel.index;
      if (i < 0 || i >= cur.length) return [];
      cur = cur[i];
      path.push(i);
    } else if (cur !== null && typeof cur === 'object') {
      if (sel.kind !== 'name' || !Object.prototype.hasOwnProperty.call(cur, sel.name)) return [];
      cur = (cur as Record<string, unknown>)[sel.name];
      path.push(sel.name);
    } else {
      return [];
    }
  }
  if (skipTopLevel !== undefined && path[0] === skipTopLevel) return [];
  return [path];
}

interface Node {
  readonly value: unknown;
  readonly path: readonly PathToken[];
}

function applySelector(node: Node, sel: Selector, out: Node[]): void {
  const v = node.value;
  if (Array.isArray(v)) {
    if (sel.kind === 'wildcard') for (let i = 0; i < v.length; i++) out.push({ value: v[i], path: [...node.path, i] });
    else if (sel.kind === 'index') {
      const i = sel.index < 0 ? v.length + sel.index : sel.index;
      if (i >= 0 && i < v.length) out.push({ value: v[i], path: [...node.path, i] });
    }
  } else if (v !== null && typeof v === 'object') {
    if (sel.kind === 'wildcard') for (const k of Object.keys(v)) out.push({ value: (v as Record<string, unknown>)[k], path: [...node.path, k] });
    else if (sel.kind === 'name' && Object.prototype.hasOwnProperty.call(v, sel.name)) out.push({ value: (v as Record<string, unknown>)[sel.name], path: [...node.path, sel.name] });
  }
}

function uniqueNodes(list: readonly Node[]): Node[] {
  const seen = new Set<string>();
  const out: Node[] = [];
  for (const n of list) {
    const key = JSON.stringify(n.path);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(n);
  }
  return out;
}

function descendants(node: Node, out: Node[], seen?: Set<string>): void {
  // Iterative, in document order: the clone already bounded depth, but stay off the call stack anyway.
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    // With several input nodes one may contain another: a location already listed was listed with
    // its whole subtree, so skip it. Without this, `$..a..a..a` over a hostile 120-deep chain
    // builds O(depth^k) nodes (seconds and gigabytes) before anything is authenticated.
    if (seen !== undefined) {
      const key = JSON.stringify(n.path);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(n);
    const v = n.value;
    const children: Node[] = [];
    if (Array.isArray(v)) v.forEach((c, i) => children.push({ value: c, path: [...n.path, i] }));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) children.push({ value: (v as Record<string, unknown>)[k], path: [...n.path, k] });
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

/**
 * Every concrete path the selector matches in `doc`, in document order, without duplicates.
 * `skipTopLevel` names a top-level member that is never matched (the header). `general` forces the
 * general evaluator for singular selectors too (tests compare the two).
 */
export function evaluateSelector(selector: CompiledSelector, doc: unknown, skipTopLevel?: string, general = false): PathToken[][] {
  if (selector.singular && !general) return evaluateSingular(selector, doc, skipTopLevel);
  let nodes: Node[] = [{ value: doc, path: [] }];
  for (const seg of selector.segments) {
    const next: Node[] = [];
    const inputs: Node[] = [];
    if (seg.descendant) {
      const seen = nodes.length > 1 ? new Set<string>() : undefined;
      for (const n of nodes) descendants(n, inputs, seen);
    } else inputs.push(...nodes);
    for (const n of inputs) for (const s of seg.selectors) applySelector(n, s, next);
    // Inputs are distinct locations, so one selector yields distinct locations; several (`[*,*]`)
    // may repeat one, and repeats would multiply segment after segment: keep first occurrences.
    nodes = seg.selectors.length > 1 ? uniqueNodes(next) : next;
  }
  // With one selector per segment every step maps distinct locations to distinct locations, so
  // only selectors with a multi-selector segment need the (costly) final de-duplication.
  const seen = selector.segments.some((seg) => seg.selectors.length > 1) ? new Set<string>() : undefined;
  const out: PathToken[][] = [];
  for (const n of nodes) {
    if (skipTopLevel !== undefined && n.path[0] === skipTopLevel) continue;
    if (seen !== undefined) {
      const key = JSON.stringify(n.path);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    // Every node's path is a fresh array of its own (built by spreading), so it is handed out as is.
    out.push(n.path as PathToken[]);
  }
  return out;
}
