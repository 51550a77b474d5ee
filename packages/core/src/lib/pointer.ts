/** A path into a JSON document: object member names and array indices. */
export type PathToken = string | number;

/** RFC 6901 JSON Pointer string of a token path (`~` -> `~0`, `/` -> `~1`). */
export function toPointer(tokens: readonly PathToken[]): string {
  let out = '';
  for (const t of tokens) {
    if (typeof t === 'number') out += '/' + String(t);
    else if (t.includes('~') || t.includes('/')) out += '/' + t.replace(/~/g, '~0').replace(/\//g, '~1');
    else out += '/' + t;
  }
  return out;
}

/** Parse an RFC 6901 pointer into raw tokens (all strings); undefined when malformed. */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  // Hot path (decrypt parses every listed pointer): without '~' there is nothing to unescape, and
  // a scan with slice is about twice as fast as slice(1).split('/') on V8.
  if (!pointer.includes('~')) {
    const out: string[] = [];
    let start = 1;
    for (let i = 1; i < pointer.length; i++) {
      if (pointer.charCodeAt(i) === 0x2f) {
        out.push(pointer.slice(start, i));
        start = i + 1;
      }
    }
    out.push(pointer.slice(start));
    return out;
  }
  const parts = pointer.slice(1).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (/~[^01]|~$/.test(p)) return undefined;
    out.push(p.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return out;
}

/** RFC 6901 array index: "0" or no leading zeros. */
export function isArrayIndexToken(token: string): boolean {
  return /^(0|[1-9][0-9]{0,15})$/.test(token);
}

/** Own data property lookup that never touches the prototype chain or invokes getters. */
export function getOwn(container: unknown, token: string): { found: boolean; value?: unknown } {
  if (Array.isArray(container)) {
    if (!isArrayIndexToken(token)) return { found: false };
    const i = Number(token);
    return i < container.length ? { found: true, value: container[i] } : { found: false };
  }
  if (container !== null && typeof container === 'object' && Object.prototype.hasOwnProperty.call(container, token)) {
    return { found: true, value: (container as Record<string, unknown>)[token] };
  }
  return { found: false };
}

/** Resolve a pointer in a (cloned, validated) document. */
export function resolvePointer(doc: unknown, tokens: readonly string[]): { found: boolean; value?: unknown } {
  let cur: unknown = doc;
  for (const t of tokens) {
    const r = getOwn(cur, t);
    if (!r.found) return r;
    cur = r.value;
  }
  return { found: true, value: cur };
}

/** Set a value in a document we own (a clone). `__proto__` is written as a plain own property. */
export function setOwn(container: Record<string, unknown> | unknown[], token: string | number, value: unknown): void {
  if (Array.isArray(container)) {
    container[Number(token)] = value;
  } else if (token === '__proto__') {
    Object.defineProperty(container, token, { value, enumerable: true, writable: true, configurable: true });
  } else {
    container[token as string] = value;
  }
}
