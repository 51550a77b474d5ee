import type { SelectorSegment, SelectorStep } from '@fieldseal/core';

/** A location in a log object: member names and array indices from the root. */
export type LogPath = readonly (string | number)[];

/** Deeper than this, a log object is cut off: the subtree is replaced whole, never walked or leaked. */
export const MAX_LOG_DEPTH = 64;
export const TOO_DEEP = '[fieldseal: too deep to redact]';

function isContainer(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const tag = Object.prototype.toString.call(value);
  return tag === '[object Object]' || tag === '[object Error]';
}

/** Own members a log serializer would write: enumerable string keys, plus an Error's message and cause. */
function memberKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (value instanceof Error) {
    for (const k of ['message', 'cause']) if (!keys.includes(k) && Object.prototype.hasOwnProperty.call(value, k)) keys.push(k);
  }
  return keys;
}

function read(container: object, key: string | number): unknown {
  try {
    return (container as Record<string | number, unknown>)[key];
  } catch {
    return undefined;
  }
}

function children(node: unknown): [string | number, unknown][] {
  if (!isContainer(node)) return [];
  if (Array.isArray(node)) return node.map((v, i) => [i, v]);
  return memberKeys(node).map((k) => [k, read(node, k)]);
}

function applyStep(node: unknown, step: SelectorStep, path: LogPath, out: { value: unknown; path: LogPath }[]): void {
  if (!isContainer(node)) return;
  if (step.kind === 'wildcard') {
    for (const [k, v] of children(node)) out.push({ value: v, path: [...path, k] });
  } else if (step.kind === 'index') {
    if (!Array.isArray(node)) return;
    const i = step.index < 0 ? node.length + step.index : step.index;
    if (i >= 0 && i < node.length) out.push({ value: node[i], path: [...path, i] });
  } else if (!Array.isArray(node) && memberKeys(node).includes(step.name)) {
    out.push({ value: read(node, step.name), path: [...path, step.name] });
  }
}

/**
 * Every location a selector selects in a log object (RFC 9535 semantics over plain objects,
 * arrays and Errors). Iterative, cycle-safe, and bounded by {@link MAX_LOG_DEPTH}: a subtree below
 * that depth is reported in `tooDeep` so the caller replaces it whole.
 */
export function selectLocations(root: unknown, segments: readonly SelectorSegment[], tooDeep: Map<string, LogPath>): LogPath[] {
  let nodes: { value: unknown; path: LogPath }[] = [{ value: root, path: [] }];
  for (const segment of segments) {
    const next: { value: unknown; path: LogPath }[] = [];
    for (const node of nodes) {
      const visit = segment.descendant ? descendants(node, tooDeep) : [node];
      for (const n of visit) for (const step of segment.selectors) applyStep(n.value, step, n.path, next);
    }
    nodes = next;
  }
  return nodes.map((n) => n.path);
}

function descendants(start: { value: unknown; path: LogPath }, tooDeep: Map<string, LogPath>): { value: unknown; path: LogPath }[] {
  const out: { value: unknown; path: LogPath }[] = [];
  const seen = new WeakSet<object>();
  const stack = [start];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isContainer(node.value)) {
      if (seen.has(node.value)) continue;
      seen.add(node.value);
    }
    out.push(node);
    if (node.path.length >= MAX_LOG_DEPTH) {
      if (isContainer(node.value)) tooDeep.set(JSON.stringify(node.path), node.path);
      continue;
    }
    const kids = children(node.value);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ value: kids[i]![1], path: [...node.path, kids[i]![0]] });
  }
  return out;
}

function copyContainer(value: object): object {
  if (Array.isArray(value)) return value.slice();
  // Same prototype and every own property (Symbol keys included: winston keeps its state there).
  return Object.create(Object.getPrototypeOf(value), Object.getOwnPropertyDescriptors(value));
}

function setMember(container: object, key: string | number, value: unknown): void {
  const previous = Object.getOwnPropertyDescriptor(container, key);
  Object.defineProperty(container, key, { value, enumerable: previous?.enumerable ?? true, writable: true, configurable: true });
}

/**
 * A copy of `root` in which every location selected by any of `selectorSegments` holds
 * `replace(value, path)`. Containers are copied only along the replaced paths (copy on write): the
 * caller's objects are never modified.
 */
export function replaceSelected(root: unknown, selectorSegments: readonly (readonly SelectorSegment[])[], replace: (value: unknown, path: LogPath) => unknown): unknown {
  const tooDeep = new Map<string, LogPath>();
  const targets = new Map<string, LogPath>();
  for (const segments of selectorSegments) for (const p of selectLocations(root, segments, tooDeep)) if (p.length > 0) targets.set(JSON.stringify(p), p);
  if (targets.size === 0 && tooDeep.size === 0) return root;
  const copies = new Map<object, object>();
  const writable = (original: object): object => {
    let copy = copies.get(original);
    if (copy === undefined) {
      copy = copyContainer(original);
      copies.set(original, copy);
    }
    return copy;
  };
  const rootCopy = isContainer(root) ? writable(root) : root;
  const assign = (path: LogPath, value: (old: unknown) => unknown): void => {
    let original: unknown = root;
    let copy = rootCopy as object;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      original = read(original as object, key);
      if (!isContainer(original)) return;
      const childCopy = writable(original);
      setMember(copy, key, childCopy);
      copy = childCopy;
    }
    const last = path[path.length - 1]!;
    setMember(copy, last, value(read(original as object, last)));
  };
  // Deepest first, so that a selected ancestor (`$..user` over `$..email`) is written last and wins.
  const work: [LogPath, (old: unknown) => unknown][] = [];
  for (const p of targets.values()) work.push([p, (old) => replace(old, p)]);
  for (const p of tooDeep.values()) work.push([p, () => TOO_DEEP]);
  work.sort((a, b) => b[0].length - a[0].length);
  for (const [p, value] of work) assign(p, value);
  return rootCopy;
}
