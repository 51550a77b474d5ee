import { InvalidArgumentError } from '../errors.js';
import type { EncryptionContext } from '../types.js';
import { DEFAULT_GROUP } from '../lib/format/constants.js';
import { COLUMN_CODECS, type ColumnCodec } from '../lib/rows/codec.js';

export type { ColumnCodec } from '../lib/rows/codec.js';

/** A column of a row: its database name and, when the application's objects use another key, that key. */
export interface RowColumnRef {
  /** The database column name. It is what the format binds (the field's JSON Pointer is `/<name>`). */
  readonly name: string;
  /** The key of this column in the row objects the application passes (Prisma field, Drizzle key). Default: `name`. */
  readonly property?: string;
}

/** A sealed column: one field ciphertext (a string) per row, or SQL NULL. */
export interface SealedColumnSpec extends RowColumnRef {
  /**
   * How the application's value becomes JSON before sealing, and back after opening.
   * `json` (default): any JSON value (string, number, boolean, object, array), its type kept by the
   * format; `string`: strings only; `date`: a `Date`, sealed as its ISO 8601 string; `bigint`: a
   * `bigint`, sealed as its decimal string; `bytes`: a `Uint8Array`, sealed as base64url.
   */
  readonly codec?: ColumnCodec;
  /** Key group that seals this column (field-level least privilege). Default `default`. */
  readonly group?: string;
}

/** What {@link defineRowLayout} takes: which columns of a table are sealed, and what is bound to them. */
export interface RowLayoutSpec {
  /** The sealed columns (a name, or a spec with codec and key group). */
  readonly columns: readonly (string | SealedColumnSpec)[];
  /** The column that holds the document header (a text column; NULL while a row holds nothing sealed). */
  readonly header: string | RowColumnRef;
  /**
   * The primary-key column(s), bound as required-but-not-stored context under the column's name,
   * so that a ciphertext copied to another row fails to open. Strongly recommended.
   */
  readonly id?: string | RowColumnRef | readonly (string | RowColumnRef)[];
  /**
   * Context taken from other columns of the same row (context key to column), bound but not stored:
   * the row supplies the value again when it is opened, so changing the column breaks the seal.
   * For example `{ tenant: 'tenant_id' }`.
   */
  readonly contextColumns?: Readonly<Record<string, string | RowColumnRef>>;
  /** Context stored in every row's header and checked when it is opened, e.g. `{ table: 'users' }`. */
  readonly context?: EncryptionContext;
}

/** A sealed column, resolved. */
export interface RowLayoutColumn {
  readonly name: string;
  readonly property: string;
  readonly codec: ColumnCodec;
  readonly group: string;
  /** The column's JSON Pointer in the row's sealed document. */
  readonly pointer: string;
  /** The selector that selects it. */
  readonly selector: string;
}

/** A context binding from a column, resolved. */
export interface RowLayoutBinding {
  readonly key: string;
  readonly name: string;
  readonly property: string;
}

/**
 * A validated, frozen row layout, shared by `sealRow`, `openRow`, `inspectRow`, the rotation
 * engine's column store, the CLI and the ORM integrations. Build one with {@link defineRowLayout}.
 */
export interface RowLayout {
  readonly columns: readonly RowLayoutColumn[];
  readonly header: { readonly name: string; readonly property: string };
  /** Every column-bound context key (ids first), bound as required-but-not-stored context. */
  readonly bindings: readonly RowLayoutBinding[];
  readonly context: EncryptionContext;
  /** Key group names, in the order of their first column. */
  readonly groups: readonly string[];
}

function columnRef(value: unknown, what: string): { name: string; property: string } {
  const ref = typeof value === 'string' ? { name: value } : value;
  if (ref === null || typeof ref !== 'object') throw new InvalidArgumentError(`${what} must be a column name or { name, property? }`);
  const { name, property } = ref as RowColumnRef;
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024 || !name.isWellFormed()) throw new InvalidArgumentError(`${what}: a column name must be a non-empty, well-formed string`);
  if (property !== undefined && (typeof property !== 'string' || property.length === 0)) throw new InvalidArgumentError(`${what}: property must be a non-empty string`);
  return { name, property: property ?? name };
}

/** RFC 9535 name selector for one member, escaping what a single-quoted name needs. */
function nameSelector(name: string): string {
  let out = "$['";
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (ch === "'" || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}']`;
}

function pointerOf(name: string): string {
  return `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/**
 * Validates a row layout once, so that a misconfiguration is an error when the application starts,
 * not at its first query. The mapping between a row and a sealed document is specified in
 * `docs/FORMAT.md` §9.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { defineRowLayout } from '@fieldseal/core';
 * const users = defineRowLayout({
 *   columns: ['email', { name: 'ssn', group: 'restricted' }, { name: 'born', codec: 'date' }],
 *   header: 'fieldseal',
 *   id: 'id',
 *   contextColumns: { tenant: 'tenant_id' },
 * });
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an invalid or inconsistent layout.
 */
export function defineRowLayout(spec: RowLayoutSpec): RowLayout {
  if (spec === null || typeof spec !== 'object') throw new InvalidArgumentError('a row layout must be an object');
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) throw new InvalidArgumentError('a row layout needs at least one sealed column');
  const taken = new Map<string, string>();
  const claim = (name: string, role: string): void => {
    const previous = taken.get(name);
    if (previous !== undefined) throw new InvalidArgumentError(`column "${name}" is used twice in the row layout (${previous} and ${role})`);
    taken.set(name, role);
  };
  const columns: RowLayoutColumn[] = [];
  const groups: string[] = [];
  for (const raw of spec.columns as readonly unknown[]) {
    const { name, property } = columnRef(raw, 'a sealed column');
    const s = (typeof raw === 'string' ? {} : raw) as SealedColumnSpec;
    const codec = s.codec ?? 'json';
    if (!COLUMN_CODECS.includes(codec)) throw new InvalidArgumentError(`column "${name}": unknown codec (use one of ${COLUMN_CODECS.join(', ')})`);
    const group = s.group ?? DEFAULT_GROUP;
    if (typeof group !== 'string' || group.length === 0) throw new InvalidArgumentError(`column "${name}": group must be a non-empty string`);
    claim(name, 'a sealed column');
    if (!groups.includes(group)) groups.push(group);
    columns.push(Object.freeze({ name, property, codec, group, pointer: pointerOf(name), selector: nameSelector(name) }));
  }
  const header = columnRef(spec.header, 'the header column');
  claim(header.name, 'the header column');
  const bindings: RowLayoutBinding[] = [];
  const bind = (key: string, ref: { name: string; property: string }): void => {
    if (taken.get(ref.name) === 'a sealed column' || ref.name === header.name) {
      // A sealed column's plaintext would leave the database in every KMS request's context.
      throw new InvalidArgumentError(`column "${ref.name}" cannot be both sealed (or the header) and bound as context`);
    }
    if (bindings.some((b) => b.key === key)) throw new InvalidArgumentError(`context key "${key}" is bound twice in the row layout`);
    bindings.push(Object.freeze({ key, ...ref }));
  };
  const ids = spec.id === undefined ? [] : Array.isArray(spec.id) ? (spec.id as readonly unknown[]) : [spec.id];
  for (const raw of ids) {
    const ref = columnRef(raw, 'an id column');
    bind(ref.name, ref);
  }
  if (spec.contextColumns !== undefined) {
    if (spec.contextColumns === null || typeof spec.contextColumns !== 'object') throw new InvalidArgumentError('contextColumns must map context keys to columns');
    for (const key of Object.keys(spec.contextColumns)) bind(key, columnRef(spec.contextColumns[key], `context column "${key}"`));
  }
  const context = spec.context ?? {};
  if (context === null || typeof context !== 'object') throw new InvalidArgumentError('context must be a string map');
  for (const key of Object.keys(context)) {
    if (typeof context[key] !== 'string') throw new InvalidArgumentError(`context value of "${key}" must be a string`);
    if (bindings.some((b) => b.key === key)) throw new InvalidArgumentError(`context key "${key}" is both stored and bound to a column`);
  }
  return register(Object.freeze({
    columns: Object.freeze(columns),
    header: Object.freeze(header),
    bindings: Object.freeze(bindings),
    context: Object.freeze({ ...context }),
    groups: Object.freeze(groups),
  }));
}

const defined = new WeakSet<object>();
/** @internal Register a layout built by {@link defineRowLayout}. */
function register(layout: RowLayout): RowLayout {
  defined.add(layout);
  return layout;
}

/** @internal Precondition of every row operation: a layout from {@link defineRowLayout}. */
export function assertRowLayout(layout: unknown): asserts layout is RowLayout {
  if (layout === null || typeof layout !== 'object' || !defined.has(layout)) throw new InvalidArgumentError('expected a row layout made by defineRowLayout');
}
