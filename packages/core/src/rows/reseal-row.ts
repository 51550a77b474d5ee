import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from '../errors.js';
import type { Backend } from '../lib/backend/types.js';
import { assertRow, copyRow, setMember } from '../lib/rows/cells.js';
import { openRowWith, type OpenRowOptions } from './open-row.js';
import { sealRowWith } from './seal-row.js';
import type { RowLayout } from './layout.js';

/** @internal resealRow with an explicit crypto backend. */
export async function resealRowWith(backend: Backend, current: unknown, changes: unknown, layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>> {
  assertRow(current);
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) throw new InvalidArgumentError('changes must be a plain object');
  const opened = await openRowWith(backend, current, layout, options);
  const merged = copyRow(opened);
  for (const key of Object.keys(changes)) setMember(merged, key, (changes as Record<string, unknown>)[key]);
  return sealRowWith(backend, merged, layout, options.limits !== undefined ? { ...keyringsOf(options), limits: options.limits } : keyringsOf(options));
}

function keyringsOf(options: OpenRowOptions): OpenRowOptions {
  return {
    ...(options.keyring !== undefined ? { keyring: options.keyring } : {}),
    ...(options.keyrings !== undefined ? { keyrings: options.keyrings } : {}),
  };
}

/**
 * Applies changes to a sealed row: opens it (checking everything {@link openRow} checks), merges
 * `changes` (plaintext values, or new id/context values), and seals the result afresh with a new
 * message id, so that the header lists exactly the columns that are not NULL. This is how an
 * update of some sealed columns keeps the row consistent; the caller writes every sealed column
 * and the header back (compare-and-swap on the old header keeps concurrent writers apart).
 * With `allowPlaintext`, plaintext left in sealed columns is sealed too (a migration step).
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { resealRow } from '@fieldseal/core';
 * const next = await resealRow(storedRow, { email: 'new@example.com' }, users, { keyring });
 * ```
 */
export function resealRow(current: Record<string, unknown>, changes: Record<string, unknown>, layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>> {
  return resealRowWith(defaultBackend, current, changes, layout, options);
}
