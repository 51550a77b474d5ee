import { backend as defaultBackend } from '#backend';
import { DecryptionFailedError, IncompleteError, InvalidArgumentError, MalformedError } from '../errors.js';
import type { JsonValue, Keyring, Limits } from '../types.js';
import type { Backend } from '../lib/backend/types.js';
import { openRequestFrom, type DecryptOptions } from '../decrypt.js';
import { contextEntries, refuseInternalContextKeys } from '../lib/context.js';
import { openSealed, type OpenRequest } from '../lib/open.js';
import { mapBounded, ROWS_IN_FLIGHT } from '../lib/map-bounded.js';
import { decodeColumnValue } from '../lib/rows/codec.js';
import { assertRow, boundContext, classifyCells, copyRow, documentOf, setMember } from '../lib/rows/cells.js';
import { assertRowLayout, type RowLayout, type RowLayoutColumn } from './layout.js';
import type { RowKeyrings } from './seal-row.js';

/** Options of {@link openRow}. */
export interface OpenRowOptions extends RowKeyrings {
  /**
   * Migration mode: a sealed column that holds a value which is not a field ciphertext is returned
   * as it is instead of failing the row (use {@link inspectRow} to see which). Off by default: a
   * value written around fieldseal is an error, never returned as if it were plaintext.
   */
  readonly allowPlaintext?: boolean;
  /**
   * Partial open: only these sealed columns (their `property` keys) are opened, as after a query
   * that selected some of a row's sealed columns. The row may leave the others out; each named
   * column must be in the row (NULL or a ciphertext), and a named column that the header lists but
   * the row holds as NULL or plaintext is still an error. Only the key groups of these columns
   * need a keyring. Default: every sealed column of the layout.
   */
  readonly columns?: readonly string[];
  /** The oldest algorithm suite accepted (see {@link DecryptOptions.minSuite}). Default 1. */
  readonly minSuite?: number;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
}

/** What openRow resolves once per call, shared by every row of an openRows batch. */
interface PreparedOpen {
  readonly layout: RowLayout;
  readonly allowPlaintext: boolean;
  /** The `columns` option as given (checked per row: each named column must be in that row). */
  readonly columns: unknown;
  /**
   * The open request of the call: keyrings, limits, deadline and header name, checked once, when
   * the first row with a header needs it (a row of NULLs needs no keyring, as with openRow).
   */
  readonly base: () => OpenRequest;
  readonly columnOfPointer: ReadonlyMap<string, RowLayoutColumn>;
}

function prepareOpen(layout: RowLayout, options: OpenRowOptions): PreparedOpen {
  assertRowLayout(layout);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('openRow options must be an object');
  const allowPlaintext = options.allowPlaintext === true;
  const keyringFor = (group: string): Keyring | undefined => (options.keyrings !== undefined && Object.prototype.hasOwnProperty.call(options.keyrings, group) ? options.keyrings[group] : options.keyring);
  const keyrings: Record<string, Keyring> = {};
  for (const g of layout.groups) {
    const k = keyringFor(g);
    if (k !== undefined) keyrings[g] = k;
  }
  // The row's own context and expected groups are set per row (openRowPrepared); everything else
  // of the request is the same for every row of the call.
  let request: OpenRequest | undefined;
  const base = (): OpenRequest =>
    (request ??= openRequestFrom({
      keyrings,
      expectGroups: [],
      headerName: layout.header.name,
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
      ...(options.minSuite !== undefined ? { minSuite: options.minSuite } : {}),
    }));
  return { layout, allowPlaintext, columns: options.columns, base, columnOfPointer: new Map(layout.columns.map((c) => [c.pointer, c] as const)) };
}

async function openRowPrepared(backend: Backend, row: unknown, p: PreparedOpen): Promise<Record<string, unknown>> {
  const { layout, allowPlaintext } = p;
  assertRow(row);
  const partial = p.columns === undefined ? undefined : partialColumns(row, layout, p.columns);
  const classified = classifyCells(row, layout);
  const header = classified.header;
  const cells = partial === undefined ? classified.cells : classified.cells.filter((c) => partial.has(c.column.property));
  for (const c of cells) {
    if (c.state === 'plaintext' && !allowPlaintext) throw new IncompleteError(`column "${c.column.name}" holds a value that is not sealed (written around fieldseal?)`, `/${c.column.name}`);
  }
  const sealed = cells.filter((c) => c.state === 'sealed');
  const out = copyRow(row);
  if (header === undefined) {
    if (sealed.length > 0) throw new IncompleteError(`column "${sealed[0]!.column.name}" holds a ciphertext but the row has no header`, `/${sealed[0]!.column.name}`);
    return out;
  }
  if (typeof header !== 'string') throw new MalformedError(`the header column "${layout.header.name}" must hold a string`);
  // In migration mode only the sealed cells are opened; otherwise everything the header lists
  // must be there (a listed column set to NULL or to plaintext is a removed ciphertext).
  if (allowPlaintext && sealed.length === 0) return out;
  // A partial open lists the NULL cells too, so that a listed column set to NULL is still caught.
  const present = partial === undefined ? sealed : cells.filter((c) => c.state !== 'plaintext');
  const document = documentOf([...present.map((c) => [c.column.name, c.value] as const), [layout.header.name, header]]);
  // Every group that sealed a non-NULL column must be in the header (a writer holding one group's
  // key cannot drop another group); groups whose columns are all NULL are rightly absent.
  const expectGroups = layout.groups.filter((g) => sealed.some((c) => c.column.group === g));
  const base = p.base();
  const expected = contextEntries({ ...layout.context, ...boundContext(row, layout) }, 'context', base.limits.maxContextPairs);
  refuseInternalContextKeys(expected, 'context');
  const request: OpenRequest = {
    ...base,
    expected,
    expectGroups,
    ...(allowPlaintext ? { selectors: sealed.map((c) => c.column.selector) } : partial !== undefined ? { selectors: present.map((c) => c.column.selector) } : {}),
  };
  const opened = await openSealed(backend, document, request);
  // A group's key opens only the columns the layout gives that group: a holder of one group's key
  // who rewrote the header to claim another group's column is refused here.
  for (const [gi, pointers] of opened.opened) {
    const groupName = opened.header.groups[gi]!.name;
    for (const ptr of pointers) {
      const column = p.columnOfPointer.get(ptr);
      if (column === undefined || column.group !== groupName) throw new DecryptionFailedError();
    }
  }
  for (const [, pointers] of opened.opened) {
    for (const ptr of pointers) {
      const column = p.columnOfPointer.get(ptr)!;
      setMember(out, column.property, decodeColumnValue(column.codec, opened.document[column.name] as JsonValue, column.name));
    }
  }
  return out;
}

/** @internal openRow with an explicit crypto backend (tests run both). */
export async function openRowWith(backend: Backend, row: unknown, layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>> {
  assertRowLayout(layout);
  assertRow(row);
  return openRowPrepared(backend, row, prepareOpen(layout, options));
}

/** @internal openRows with an explicit crypto backend: the options are resolved once for all rows. */
export async function openRowsWith(backend: Backend, rows: readonly unknown[], layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>[]> {
  if (!Array.isArray(rows)) throw new InvalidArgumentError('openRows takes an array of rows');
  const prepared = prepareOpen(layout, options);
  return mapBounded(rows, ROWS_IN_FLIGHT, (row) => openRowPrepared(backend, row, prepared));
}

function partialColumns(row: Record<string, unknown>, layout: RowLayout, columns: unknown): Set<string> {
  if (!Array.isArray(columns)) throw new InvalidArgumentError('columns must be a list of sealed column properties');
  const out = new Set<string>();
  for (const p of columns as unknown[]) {
    const column = layout.columns.find((c) => c.property === p);
    if (column === undefined) throw new InvalidArgumentError(`columns: "${String(p).slice(0, 64)}" is not a sealed column of the layout`);
    if (!Object.prototype.hasOwnProperty.call(row, column.property)) throw new InvalidArgumentError(`columns: the row does not hold "${column.property}"`);
    out.add(column.property);
  }
  return out;
}

/**
 * Opens one row sealed by {@link sealRow} (or by the CLI, the rotation engine or an ORM
 * integration over the same layout): checks the header, the row's id and context columns, that
 * every column the header lists is present and encrypted, and that each column was sealed by the
 * key group the layout gives it; then returns a copy of the row with the sealed columns restored
 * to their values (decoded by their codec). A row with no header and only NULLs is returned as is.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { openRow } from '@fieldseal/core';
 * const user = await openRow(rowFromDatabase, users, { keyring });
 * ```
 * @throws {IncompleteError} `ERR_FIELDSEAL_INCOMPLETE` when a sealed column holds plaintext (outside migration mode), a ciphertext was removed, or the header is missing.
 * @throws {DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` when anything fails authentication: a ciphertext copied from another row, a changed id or context column, tampering.
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` when the layout's stored context differs from the row's header.
 * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no configured keyring can unwrap a needed data key.
 * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` for a malformed header or ciphertext, or a value its codec cannot decode.
 */
export function openRow(row: Record<string, unknown>, layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>> {
  return openRowWith(defaultBackend, row, layout, options);
}

/**
 * Opens many rows (see {@link openRow}), 64 at a time, so that key-service calls overlap while the
 * memory in use stays that of 64 rows; rows sharing a data key through a `CachingKeyring` share one
 * unwrap. The options (keyrings, limits, deadline) are read and checked once for the whole call, not
 * once per row. Fails on the first row that fails (no row is started after it).
 *
 * Importable from `@fieldseal/core`.
 */
export function openRows(rows: readonly Record<string, unknown>[], layout: RowLayout, options: OpenRowOptions): Promise<Record<string, unknown>[]> {
  return openRowsWith(defaultBackend, rows, layout, options);
}
