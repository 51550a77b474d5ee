import type { EncryptionContext } from '@fieldseal/core';
import { usage } from './exit-error.js';

/** Parse repeated `--context key=value` flags into a context (a null-prototype record). */
export function parseContextFlags(values: readonly string[] | undefined, flag: string): EncryptionContext | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw usage(`${flag} expects key=value, got "${v.slice(0, 40)}"`);
    const key = v.slice(0, i);
    if (Object.prototype.hasOwnProperty.call(out, key)) throw usage(`${flag} names "${key}" twice`);
    out[key] = v.slice(i + 1);
  }
  return out;
}
