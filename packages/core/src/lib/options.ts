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
 * Most selectors one call accepts: as many as the default `maxFields`, so that a list of concrete
 * paths (one per field) always fits, while an exotic array reporting billions of elements is
 * refused instead of being iterated.
 */
const MAX_SELECTORS = 100_000;

/** Check a list of selectors, and copy it (read as data: an exotic array cannot answer twice). */
export function selectorList(value: unknown, what: string): readonly string[] {
  const fail = (): never => {
    throw new InvalidArgumentError(`${what} must be an array of at most ${MAX_SELECTORS} JSONPath selector strings`);
  };
  if (!Array.isArray(value)) fail();
  const d = Object.getOwnPropertyDescriptor(value, 'length');
  const length: unknown = d !== undefined && 'value' in d ? d.value : undefined;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > MAX_SELECTORS) fail();
  const out: string[] = [];
  for (let i = 0; i < (length as number); i++) {
    const e = Object.getOwnPropertyDescriptor(value, i);
    if (e === undefined || !('value' in e) || typeof e.value !== 'string') fail();
    out.push(e!.value as string);
  }
  return out;
}

/**
 * Run the reading of a caller's options, turning anything but a typed error (a getter or an exotic
 * object's trap that threw) into InvalidArgumentError. The thrown value is not passed on: it is the
 * caller's own, and may quote data.
 */
export function readOptions<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof FieldsealError) throw err;
    throw new InvalidArgumentError(`${what} options could not be read (a getter or an exotic object threw)`);
  }
}
