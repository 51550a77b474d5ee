import { FieldsealError, InvalidArgumentError } from '../errors.js';
import { DEFAULT_HEADER_NAME } from './format/constants.js';

/** Check the header property name option. */
export function headerNameOption(name: unknown): string {
  if (name === undefined) return DEFAULT_HEADER_NAME;
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) throw new InvalidArgumentError('headerName must be a non-empty string');
  return name;
}

/** Check an options bag is an object. */
export function optionsObject<T>(options: T | undefined, what: string): T {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`${what} options must be an object`);
  return options;
}

/**
 * Read each named option exactly once into a plain record: a getter or Proxy trap runs once (it
 * cannot answer one thing to a check and another to the code that uses it), and one that throws
 * gives a typed error that keeps the cause.
 */
export function readOptions<K extends string>(options: unknown, what: string, keys: readonly K[]): { readonly [P in K]?: unknown } {
  optionsObject(options, what);
  // A plain object, written with every listed key: each read below is an own data property, so
  // the prototype is never consulted. Object.create(null) made a dictionary-mode object on every
  // call (issue 18).
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    try {
      out[k] = (options as Record<string, unknown>)[k];
    } catch (cause) {
      throw new InvalidArgumentError(`${what} option "${k}" could not be read`, { cause });
    }
  }
  return out as { readonly [P in K]?: unknown };
}

/** Copy an array option, reading its length and each element once; more than `max` elements is refused before any is read. */
export function arrayOption(value: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${what} must be an array`);
  try {
    const n = value.length;
    if (n > max) throw new InvalidArgumentError(`${what} has more than ${max} entries`);
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value[i];
    return out;
  } catch (cause) {
    if (cause instanceof FieldsealError) throw cause;
    throw new InvalidArgumentError(`${what} could not be read`, { cause });
  }
}

/** Most selectors one option may list (a Proxy can claim a length of 2^32 - 1). */
const MAX_SELECTORS = 100_000;

/** Check a list of selectors (copied: the caller's array may change or be a Proxy). */
export function selectorList(value: unknown, what: string): readonly string[] {
  const list = Array.isArray(value) ? arrayOption(value, what, MAX_SELECTORS) : undefined;
  if (list === undefined || list.some((s) => typeof s !== 'string')) throw new InvalidArgumentError(`${what} must be an array of JSONPath selector strings`);
  return list as string[];
}
