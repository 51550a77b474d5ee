import { FieldsealError, LimitExceededError, MalformedError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import { nonJsonValueError } from './json-locate.js';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/*
 * A real array longer than this cannot be dense on V8 (a FixedArray holds at most 2^27 - 3
 * elements); a longer length comes from a sparse array or an exotic object (a Proxy) and would
 * only make the copy run until memory is exhausted.
 */
const MAX_ARRAY_LENGTH = 2 ** 27;

interface CloneFrame {
  readonly source: object;
  readonly target: JsonValue[] | Record<string, JsonValue>;
  /** Member names of an object; undefined for an array. */
  readonly keys: readonly string[] | undefined;
  readonly size: number;
  readonly depth: number;
  next: number;
}

/**
 * Deep-copy a document, accepting only JSON data: plain objects, arrays without holes, strings,
 * finite numbers, booleans and null. Reads own data properties only, so getters are never invoked
 * and `__proto__` / `constructor` keys stay plain data in the copy. The walk keeps its own stack
 * (one frame per level), so no depth the limits allow can overflow the call stack, and anything an
 * exotic object (a Proxy) answers is checked like data: a trap that throws or reports something
 * impossible gives a typed error too.
 */
export function cloneDocument(value: unknown, maxDepth: number, what = 'document'): JsonObject {
  try {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MalformedError(`${what} must be a JSON object`);
    const root = openContainer(value, 1, maxDepth, what);
    const stack: CloneFrame[] = [root];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      const keys = f.keys;
      let child: CloneFrame | undefined;
      // Scalars are copied in this inner loop; only a nested container goes back to the stack.
      while (child === undefined && f.next < f.size) {
        const i = f.next++;
        const key = keys === undefined ? i : keys[i]!;
        const d = Object.getOwnPropertyDescriptor(f.source, key);
        if (d === undefined) throw new MalformedError(keys === undefined ? `${what} contains a sparse array` : `${what} changed while it was read`);
        if (!('value' in d)) throw new MalformedError(`${what} contains an accessor property`);
        const v: unknown = d.value;
        let copy: JsonValue;
        if (v !== null && typeof v === 'object') {
          child = openContainer(v, f.depth + 1, maxDepth, what);
          copy = child.target;
        } else {
          copy = typeof v === 'string' ? v : scalar(v, what);
        }
        if (keys === undefined) (f.target as JsonValue[])[i] = copy;
        else if (key === '__proto__') Object.defineProperty(f.target, key, { value: copy, enumerable: true, writable: true, configurable: true });
        else (f.target as Record<string, JsonValue>)[key as string] = copy;
      }
      if (child !== undefined) stack.push(child);
      else stack.pop();
    }
    return root.target as JsonObject;
  } catch (err) {
    // Locating a refused value only on failure keeps path bookkeeping off the hot path.
    if (err instanceof MalformedError && value !== null && typeof value === 'object' && !Array.isArray(value)) throw nonJsonValueError(err, value, maxDepth, what);
    if (err instanceof FieldsealError) throw err;
    // Only exotic objects get here (a Proxy trap threw, or broke an invariant the engine checks).
    // Their error is not passed on: it may quote the data.
    throw new MalformedError(`${what} could not be read as JSON data (an exotic object refused a read)`);
  }
}

function scalar(value: unknown, what: string): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new MalformedError(`${what} contains a non-finite number, which JSON cannot represent`);
      return value;
    case 'object':
      if (value === null) return null;
    // falls through: objects are opened by the caller
    default:
      throw new MalformedError(`${what} contains a ${typeof value}, which is not JSON data`);
  }
}

function openContainer(value: object, depth: number, maxDepth: number, what: string): CloneFrame {
  if (depth > maxDepth) throw new LimitExceededError(`${what} is nested deeper than ${maxDepth} levels`, 'maxDepth');
  if (Array.isArray(value)) {
    // Read the length as a data property: an exotic array's `get` could answer anything.
    const d = Object.getOwnPropertyDescriptor(value, 'length');
    const length: unknown = d !== undefined && 'value' in d ? d.value : undefined;
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > 2 ** 32 - 1) throw new MalformedError(`${what} contains an array with an invalid length`);
    if (length > MAX_ARRAY_LENGTH) throw new MalformedError(`${what} contains an array of more than ${MAX_ARRAY_LENGTH} elements, which cannot be dense`);
    return { source: value, target: new Array<JsonValue>(length), keys: undefined, size: length, depth, next: 0 };
  }
  if (!isPlainObject(value)) throw new MalformedError(`${what} contains a non-plain object (only JSON data is accepted)`);
  const keys = Object.keys(value);
  return { source: value, target: {}, keys, size: keys.length, depth, next: 0 };
}

/**
 * JSON text of a JSON value (from cloneDocument: plain data only), the same as JSON.stringify.
 * JSON.stringify recurses on the call stack; a value nested deeper than it can go is serialized
 * by a walk with its own stack instead. Text longer than `maxLength` gives LimitExceededError
 * (`limit`) as soon as it is known.
 */
export function stringifyJson(value: JsonValue, maxLength: number, limit: string): string {
  try {
    const text = JSON.stringify(value);
    if (text.length > maxLength) throw new LimitExceededError(`a selected value exceeds ${maxLength} bytes`, limit);
    return text;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  return stringifyIteratively(value, maxLength, limit);
}

function stringifyIteratively(value: JsonValue, maxLength: number, limit: string): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    length += s.length;
    if (length > maxLength) throw new LimitExceededError(`a selected value exceeds ${maxLength} bytes`, limit);
    parts.push(s);
  };
  // Frames: the container, its keys (objects), the next child. A closing bracket is emitted when
  // a frame is done.
  const stack: { v: JsonValue[] | Record<string, JsonValue>; keys: string[] | undefined; next: number }[] = [];
  const open = (v: JsonValue): void => {
    if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) {
        emit('[');
        stack.push({ v, keys: undefined, next: 0 });
      } else {
        emit('{');
        stack.push({ v, keys: Object.keys(v), next: 0 });
      }
    } else {
      emit(JSON.stringify(v));
    }
  };
  open(value);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const size = f.keys === undefined ? (f.v as JsonValue[]).length : f.keys.length;
    if (f.next === size) {
      stack.pop();
      emit(f.keys === undefined ? ']' : '}');
      continue;
    }
    const i = f.next++;
    if (i > 0) emit(',');
    if (f.keys === undefined) {
      open((f.v as JsonValue[])[i]!);
    } else {
      const k = f.keys[i]!;
      emit(JSON.stringify(k) + ':');
      open((f.v as Record<string, JsonValue>)[k]!);
    }
  }
  try {
    return parts.join('');
  } catch {
    throw new LimitExceededError('a selected value is too large to serialize', limit);
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
