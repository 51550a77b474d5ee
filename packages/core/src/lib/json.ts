import { LimitExceededError, MalformedError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { nonJsonValueError } from './json-locate.js';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-copy a document, accepting only JSON data: plain objects, arrays without holes, strings,
 * finite numbers, booleans and null. Reads own data properties only, so getters are never invoked
 * and `__proto__` / `constructor` keys stay plain data in the copy. Depth is bounded before any
 * recursion, so hostile nesting gives a typed error instead of a stack overflow.
 */
export function cloneDocument(value: unknown, maxDepth: number, what = 'document'): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MalformedError(`${what} must be a JSON object`);
  try {
    return cloneValue(value, 1, maxDepth, what) as JsonObject;
  } catch (err) {
    // Locating the value only on failure keeps path bookkeeping off the hot path.
    throw err instanceof MalformedError ? nonJsonValueError(err, value, maxDepth, what) : err;
  }
}

function cloneValue(value: unknown, depth: number, maxDepth: number, what: string): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new MalformedError(`${what} contains a non-finite number, which JSON cannot represent`);
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > maxDepth) throw new LimitExceededError(`${what} is nested deeper than ${maxDepth} levels`, 'maxDepth');
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const d = Object.getOwnPropertyDescriptor(value, i);
          if (d === undefined) throw new MalformedError(`${what} contains a sparse array`);
          if (!('value' in d)) throw new MalformedError(`${what} contains an accessor property`);
          out[i] = cloneValue(d.value, depth + 1, maxDepth, what);
        }
        return out;
      }
      if (!isPlainObject(value)) throw new MalformedError(`${what} contains a non-plain object (only JSON data is accepted)`);
      const out: Record<string, JsonValue> = {};
      for (const key of Object.keys(value)) {
        const d = Object.getOwnPropertyDescriptor(value, key)!;
        if (!('value' in d)) throw new MalformedError(`${what} contains an accessor property`);
        const v = cloneValue(d.value, depth + 1, maxDepth, what);
        if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        else out[key] = v;
      }
      return out;
    }
    default:
      throw new MalformedError(`${what} contains a ${typeof value}, which is not JSON data`);
  }
}

/** Parse JSON text into a validated document (for CLI and NDJSON input). */
export function parseDocument(text: string, maxDepth: number): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the input: it may be plaintext PII.
    throw new MalformedError('input is not valid JSON');
  }
  return cloneDocument(parsed, maxDepth, 'input');
}
