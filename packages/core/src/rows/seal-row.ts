import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from '../errors.js';
import type { Keyring, Limits } from '../types.js';
import type { Backend } from '../lib/backend/types.js';
import { encryptWith, type KeyGroup } from '../encrypt.js';
import { CURRENT_SUITE } from '../lib/format/constants.js';
import { encodeColumnValue } from '../lib/rows/codec.js';
import { mapBounded, ROWS_IN_FLIGHT } from '../lib/map-bounded.js';
import { assertRow, boundContext, copyRow, documentOf, ownValue, setMember } from '../lib/rows/cells.js';
import { assertRowLayout, type RowLayout } from './layout.js';

/** Keyrings for rows: one for every key group, or one per group name. */
export interface RowKeyrings {
  /** Keyring of every key group that `keyrings` does not name. */
  readonly keyring?: Keyring;
  /** Keyrings per key group name (the `group` of the layout's columns). */
  readonly keyrings?: Readonly<Record<string, Keyring>>;
}

/** Options of {@link sealRow}. */
export interface SealRowOptions extends RowKeyrings {
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
}

/** @internal The keyring of one key group, or a typed error naming the group. */
export function keyringOfGroup(options: RowKeyrings, group: string): Keyring {
  const named = options.keyrings !== undefined && Object.prototype.hasOwnProperty.call(options.keyrings, group) ? options.keyrings[group] : undefined;
  const keyring = named ?? options.keyring;
  if (keyring === undefined) throw new InvalidArgumentError(`no keyring was given for key group "${group}"`);
  return keyring;
}

/** @internal sealRow with an explicit crypto backend (tests run both); `suite` for the vector replays. */
export async function sealRowWith(backend: Backend, row: unknown, layout: RowLayout, options: SealRowOptions, suite: number = CURRENT_SUITE): Promise<Record<string, unknown>> {
  assertRowLayout(layout);
  assertRow(row);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('sealRow options must be an object');
  const members: [string, unknown][] = [];
  const selectors = new Map<string, string[]>();
  for (const column of layout.columns) {
    const value = ownValue(row, column.property);
    if (value === null || value === undefined) continue;
    members.push([column.name, encodeColumnValue(column.codec, value, column.name)]);
    const list = selectors.get(column.group) ?? [];
    list.push(column.selector);
    selectors.set(column.group, list);
  }
  const requiredContext = boundContext(row, layout);
  const out = copyRow(row);
  if (members.length === 0) {
    // Nothing to protect: no header, so no data key and no KMS call for an all-NULL row.
    setMember(out, layout.header.property, null);
    return out;
  }
  const groups: KeyGroup[] = [];
  for (const [name, paths] of selectors) groups.push({ name, keyring: keyringOfGroup(options, name), paths });
  const sealed = await encryptWith(backend, documentOf(members), {
    groups,
    context: layout.context,
    requiredContext,
    headerName: layout.header.name,
    strict: true,
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
  }, suite);
  for (const column of layout.columns) if (Object.prototype.hasOwnProperty.call(sealed, column.name)) setMember(out, column.property, sealed[column.name]);
  setMember(out, layout.header.property, sealed[layout.header.name]);
  return out;
}

/**
 * Seals one table row: every non-NULL sealed column of the layout becomes a field ciphertext,
 * bound to its column name, the row's id and context columns, and a fresh message id; the header
 * column gets the header. NULL stays NULL (and is not listed in the header); a row whose sealed
 * columns are all NULL gets a NULL header and costs no key call. Other members are copied as they
 * are. The input is not modified.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { defineRowLayout, sealRow } from '@fieldseal/core';
 * const users = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' });
 * const row = await sealRow({ id: 7, email: 'ada@example.com', ssn: null, plan: 'pro' }, users, { keyring });
 * // row.email is "fs1.…", row.ssn is null, row.fieldseal is "fs1h.…", row.plan is "pro"
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a value its codec refuses, a missing id or context column, or a missing keyring.
 * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when a key service fails.
 */
export function sealRow(row: Record<string, unknown>, layout: RowLayout, options: SealRowOptions): Promise<Record<string, unknown>> {
  return sealRowWith(defaultBackend, row, layout, options);
}

/**
 * Seals many rows (see {@link sealRow}), 64 at a time (key-service calls overlap, memory stays that
 * of 64 rows); with a `CachingKeyring` they share data-key work. Fails on the first row that fails
 * (no row is started after it).
 *
 * Importable from `@fieldseal/core`.
 */
export function sealRows(rows: readonly Record<string, unknown>[], layout: RowLayout, options: SealRowOptions): Promise<Record<string, unknown>[]> {
  if (!Array.isArray(rows)) return Promise.reject(new InvalidArgumentError('sealRows takes an array of rows'));
  return mapBounded(rows, ROWS_IN_FLIGHT, (row) => sealRowWith(defaultBackend, row, layout, options));
}
