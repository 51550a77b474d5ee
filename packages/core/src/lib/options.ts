import { InvalidArgumentError } from '../errors.js';
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

/** Check a list of selectors. */
export function selectorList(value: unknown, what: string): readonly string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw new InvalidArgumentError(`${what} must be an array of JSONPath selector strings`);
  return value as string[];
}
