import { NonJsonValueError, type MalformedError } from '../errors.js';
import { toPointer, type PathToken } from './pointer.js';

const MAX_NAME = 64;

interface Found {
  path: PathToken[];
  found: string;
}

/**
 * Turn the error of a failed document copy into one that names where the offending value is. Walks
 * the document again with the copy's rules (plain data only, own data properties, depth-bounded);
 * returns `err` unchanged if nothing is found (the copy failed for a reason this walk does not see).
 */
export function nonJsonValueError(err: MalformedError, doc: unknown, maxDepth: number, what: string): MalformedError {
  let hit: Found | undefined;
  try {
    hit = locate(doc, [], 1, maxDepth);
  } catch {
    // A Proxy trap that throws, or a depth past the call stack: keep the error the copy gave.
    return err;
  }
  if (hit === undefined) return err;
  // Member names are structure, not values (the format's field list stores them in clear), but a
  // hostile document may use huge ones: cut each so the message stays small.
  const path = hit.path.map((t) => (typeof t === 'string' && t.length > MAX_NAME ? `${t.slice(0, MAX_NAME)}…` : t));
  return new NonJsonValueError({ what, pointer: toPointer(path), found: hit.found });
}

function describe(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  const ctor = typeof proto === 'object' && proto !== null ? Object.getOwnPropertyDescriptor(proto, 'constructor')?.value : undefined;
  const name = typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name.slice(0, MAX_NAME) : undefined;
  return name === undefined ? 'an object with a custom prototype' : `a ${name}`;
}

function locate(value: unknown, path: PathToken[], depth: number, maxDepth: number): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, found: 'a non-finite number' };
    case 'undefined':
      return { path, found: 'undefined' };
    case 'object': {
      if (value === null || depth > maxDepth) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const d = Object.getOwnPropertyDescriptor(value, i);
          if (d === undefined) return { path: [...path, i], found: 'a hole in an array' };
          if (!('value' in d)) return { path: [...path, i], found: 'an accessor property' };
          const hit = locate(d.value, [...path, i], depth + 1, maxDepth);
          if (hit) return hit;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return { path, found: describe(value) };
      for (const key of Object.keys(value)) {
        const d = Object.getOwnPropertyDescriptor(value, key)!;
        if (!('value' in d)) return { path: [...path, key], found: 'an accessor property' };
        const hit = locate(d.value, [...path, key], depth + 1, maxDepth);
        if (hit) return hit;
      }
      return undefined;
    }
    default:
      return { path, found: `a ${typeof value}` };
  }
}
