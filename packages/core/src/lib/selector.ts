import { InvalidSelectorError, LimitExceededError } from '../errors.js';
import { isArrayIndexToken, type PathToken } from './pointer.js';

/*
 * fieldseal's JSONPath subset, in RFC 9535 syntax:
 *   $                 the root (only as the start; selecting the root itself is refused)
 *   .name  ['name']  ["name"]   a member (string escapes as in RFC 9535 §2.3.1.1)
 *   [0]  [-1]         an array element (negative counts from the end)
 *   .*  [*]           every member / element
 *   ['a', 'b', 0]     a union of the above
 *   ..name  ..*  ..[...]   descendant segment: the selectors applied to every node below, and the node itself
 * Filters (?) and slices (:) are refused with a typed error, never guessed, and so is whatever RFC 9535
 * calls invalid (a lone surrogate, raw or as a \u escape, among others). Checked against the IETF
 * JSONPath Compliance Test Suite (test/vectors/jsonpath-cts).
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
  // RFC 9535 text is Unicode scalar values: a lone surrogate code unit is not a character.
  if (!source.isWellFormed()) throw new InvalidSelectorError('a selector must not contain a lone surrogate', source.toWellFormed());
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
        // RFC 9535 §2.3.1.1: a \u escape of a high surrogate must be followed by one of a low
        // surrogate; a lone surrogate (`$['\uD800']`) names no member a JSON text can hold.
        if (!out.isWellFormed()) fail('a \\u escape leaves a lone surrogate', start);
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


/*
 * The general evaluator runs the selector as a small automaton over one depth-first walk. A state
 * is a segment index: "the next segment to match". A child segment moves to the next state when the
 * child's name or index matches; a descendant segment also stays where it is, because every deeper
 * node is a descendant too. A node whose state set holds `segments.length` is selected. So each node
 * is visited once, whatever the selector, and the walk keeps one frame per level plus one path of
 * tokens that is copied only for a selected node: time linear in the number of nodes (times the
 * selector's size), memory bounded by depth.
 */

type States = readonly number[];

// Reused by every step: the common transition (a descendant segment that stays as it is) then
// returns its input and allocates nothing.
const scratch: number[] = [];

function selectorMatches(sel: Selector, token: PathToken | undefined, container: unknown[] | Record<string, unknown>, isArray: boolean): boolean {
  if (sel.kind === 'wildcard') return true;
  if (token === undefined) return false;
  if (isArray) {
    if (sel.kind !== 'index') return false;
    const length = (container as unknown[]).length;
    return (sel.index < 0 ? length + sel.index : sel.index) === token;
  }
  return sel.kind === 'name' && sel.name === token;
}

/**
 * The states after moving from `container` to its child `token`, given the container's states.
 * `token` undefined stands for a child that no name or index selector names (wildcards only).
 */
function step(segments: readonly Segment[], states: States, token: PathToken | undefined, container: unknown[] | Record<string, unknown>, isArray: boolean): States {
  scratch.length = 0;
  for (let k = 0; k < states.length; k++) {
    const s = states[k]!;
    const seg = segments[s];
    if (seg === undefined) continue; // the accepting state has no way on
    if (seg.descendant && !scratch.includes(s)) scratch.push(s);
    for (const sel of seg.selectors) {
      if (selectorMatches(sel, token, container, isArray)) {
        if (!scratch.includes(s + 1)) scratch.push(s + 1);
        break;
      }
    }
  }
  if (scratch.length === states.length) {
    let same = true;
    for (let k = 0; k < scratch.length && same; k++) same = states.includes(scratch[k]!);
    if (same) return states;
  }
  return scratch.length === 0 ? NONE : scratch.slice();
}

const NONE: States = Object.freeze([]);
const START: States = Object.freeze([0]);
const NO_TOKENS: readonly PathToken[] = Object.freeze([]);

/** Whether a state set can still reach a selected node further down. */
function alive(segments: readonly Segment[], states: States): boolean {
  for (let k = 0; k < states.length; k++) if (states[k]! < segments.length) return true;
  return false;
}

/** The children of a container that a name or index selector of the current states names. */
function namedChildren(segments: readonly Segment[], states: States, container: unknown[] | Record<string, unknown>, isArray: boolean): readonly PathToken[] {
  let out: PathToken[] | undefined;
  for (const s of states) {
    const seg = segments[s];
    if (seg === undefined) continue;
    for (const sel of seg.selectors) {
      let token: PathToken | undefined;
      if (isArray && sel.kind === 'index') {
        const length = (container as unknown[]).length;
        const i = sel.index < 0 ? length + sel.index : sel.index;
        if (i >= 0 && i < length) token = i;
      } else if (!isArray && sel.kind === 'name' && Object.prototype.hasOwnProperty.call(container, sel.name)) {
        token = sel.name;
      }
      if (token !== undefined) (out ??= []).push(token);
    }
  }
  return out ?? NO_TOKENS;
}

interface Frame {
  readonly container: unknown[] | Record<string, unknown>;
  readonly isArray: boolean;
  /** Member names of an object (undefined for an array). */
  readonly keys: readonly string[] | undefined;
  readonly size: number;
  readonly states: States;
  /** The states of a child no selector names: computed once per container, not once per child. */
  readonly others: States;
  /** Children some name or index selector names (their states are computed one by one). */
  readonly named: readonly PathToken[];
  /** Next child to descend into. */
  next: number;
}

function frameFor(segments: readonly Segment[], value: unknown, states: States): Frame | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const isArray = Array.isArray(value);
  const container = value as unknown[] | Record<string, unknown>;
  const keys = isArray ? undefined : Object.keys(value);
  const size = isArray ? (value as unknown[]).length : keys!.length;
  return { container, isArray, keys, size, states, others: step(segments, states, undefined, container, isArray), named: namedChildren(segments, states, container, isArray), next: 0 };
}

function childStates(segments: readonly Segment[], f: Frame, token: PathToken): States {
  return f.named.length === 0 || !f.named.includes(token) ? f.others : step(segments, f.states, token, f.container, f.isArray);
}

/**
 * Every concrete path the selector matches in `doc`, without duplicates, in document order: the
 * children of a node are listed when the walk reaches the node, before anything below them (which
 * is the order RFC 9535 gives a descendant segment). `skipTopLevel` names a top-level member that is
 * never matched or entered (the header). `general` forces the general evaluator for singular
 * selectors too (tests compare the two). `maxMatches` stops the walk with LimitExceededError
 * (`maxFields`) as soon as more locations than that are selected.
 */
export function evaluateSelector(selector: CompiledSelector, doc: unknown, skipTopLevel?: string, general = false, maxMatches = Infinity): PathToken[][] {
  if (selector.singular && !general) return evaluateSingular(selector, doc, skipTopLevel);
  const segments = selector.segments;
  const accept = segments.length;
  const out: PathToken[][] = [];
  // The tokens from the root to the node of the top frame; copied only for a selected node.
  const path: PathToken[] = [];
  const root = frameFor(segments, doc, START);
  if (root === undefined) return out;
  const stack: Frame[] = [root];
  let listed = false; // whether the top frame's selected children were listed already
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const skip = stack.length === 1 ? skipTopLevel : undefined;
    if (!listed) {
      listed = true;
      // Most containers select none of their children, or all of them: decided once, not per child.
      const all = f.others.includes(accept);
      if (all || f.named.length > 0) {
        for (let i = 0; i < f.size; i++) {
          const token: PathToken = f.isArray ? i : f.keys![i]!;
          if (token === skip) continue;
          if (!all && !f.named.includes(token)) continue;
          if (!childStates(segments, f, token).includes(accept)) continue;
          if (out.length >= maxMatches) throw new LimitExceededError(`more than ${maxMatches} fields selected`, 'maxFields');
          const match = path.slice();
          match.push(token);
          out.push(match);
        }
      }
      // Nothing below can be selected: leave the container without visiting its children.
      if (f.named.length === 0 && !alive(segments, f.others)) f.next = f.size;
    }
    let child: Frame | undefined;
    while (child === undefined && f.next < f.size) {
      const i = f.next++;
      const value = f.isArray ? (f.container as unknown[])[i] : (f.container as Record<string, unknown>)[f.keys![i]!];
      if (value === null || typeof value !== 'object') continue;
      const token: PathToken = f.isArray ? i : f.keys![i]!;
      if (token === skip) continue;
      const states = childStates(segments, f, token);
      if (!alive(segments, states)) continue;
      child = frameFor(segments, value, states);
      path.push(token);
    }
    if (child !== undefined) {
      stack.push(child);
      listed = false;
    } else {
      stack.pop();
      path.pop();
    }
  }
  return out;
}

/**
 * Whether the selector selects the location at `tokens` (raw RFC 6901 tokens) in `doc`: the same
 * automaton run along one path, so its cost is the path's length, whatever the document's size.
 * A location that does not exist is not selected.
 */
export function selectsPath(selector: CompiledSelector, doc: unknown, tokens: readonly string[], skipTopLevel?: string): boolean {
  const segments = selector.segments;
  if (tokens.length === 0 || tokens[0] === skipTopLevel) return false;
  let states: States = START;
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length; i++) {
    if (!alive(segments, states)) return false;
    const raw = tokens[i]!;
    if (Array.isArray(cur)) {
      if (!isArrayIndexToken(raw)) return false;
      const index = Number(raw);
      if (index >= cur.length) return false;
      states = step(segments, states, index, cur, true);
      cur = cur[index];
    } else if (cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, raw)) {
      states = step(segments, states, raw, cur as Record<string, unknown>, false);
      cur = (cur as Record<string, unknown>)[raw];
    } else {
      return false;
    }
  }
  return states.includes(segments.length);
}
