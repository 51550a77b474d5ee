import { readFile } from 'node:fs/promises';
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

/**
 * The context from repeated `--context key=value` flags (each split at its first `=`, so a value
 * may contain `=`) merged with `--context-file FILE` (a JSON object of string values). A key given
 * twice, in either place, is a usage error rather than a silent override.
 */
export async function loadContext(values: readonly string[] | undefined, file: string | undefined): Promise<EncryptionContext | undefined> {
  const fromFlags = parseContextFlags(values, '--context');
  if (file === undefined) return fromFlags;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw usage(`--context-file ${file} is not valid JSON`);
    throw usage(`cannot read the --context-file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw usage(`--context-file ${file} must hold a JSON object of string values`);
  const out: Record<string, string> = Object.create(null);
  if (fromFlags) for (const k of Object.keys(fromFlags)) out[k] = fromFlags[k]!;
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw usage(`--context-file ${file}: the value of "${k}" must be a string`);
    if (Object.prototype.hasOwnProperty.call(out, k)) throw usage(`the context key "${k}" is given by both --context and --context-file`);
    out[k] = v;
  }
  return out;
}
