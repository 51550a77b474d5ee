import { inspect, inspectRow, InvalidArgumentError, openRow, rewrap, sealRow, type JsonObject, type Keyring, type RowLayout, type WrappedKey } from '@fieldseal/core';
import type { RecordTransform, RecordVerifier, TransformResult } from './engine.js';
import { CloakImportError, looksLikeCloak, type CloakKeychain } from './cloak.js';
import { VerificationError } from './errors.js';
import type { StoreRecord } from './store.js';

/** What a row job does to each row (see {@link rowRotation}). */
export type RowJobMode = 'rewrap' | 'reencrypt' | 'seal' | 'unseal' | 'import-cloak';

/** Options of {@link rowRotation}. */
export interface RowRotationOptions {
  /**
   * `rewrap`: new KEKs for the rows' data keys, field ciphertexts untouched. `reencrypt`: every row
   * opened and sealed afresh. `seal`: plaintext rows (and plaintext left in sealed rows) sealed in
   * place; sealed rows left alone. `unseal`: sealed rows written back as plaintext.
   * `import-cloak`: `@47ng/cloak` ciphertext decrypted with `cloak` and sealed.
   */
  readonly mode: RowJobMode;
  /** The row layout of the table (core's `defineRowLayout`). */
  readonly layout: RowLayout;
  /** A keyring that opens the rows' current data keys. */
  readonly keyring: Keyring;
  /** The keyring new seals are wrapped under. Default `keyring`. */
  readonly to?: Keyring;
  /** The cloak keys, for `import-cloak`. */
  readonly cloak?: CloakKeychain;
  /** `rewrap` only: skip rows already wrapped only under the target keys, without using a key. Default true. */
  readonly skipCurrent?: boolean;
  /** Open every new row with the target keyring and compare with the original before it is written. Default true. */
  readonly verify?: boolean;
}

/** What {@link rowRotation} returns: spread it into `runRotation`'s options. */
export interface RowRotation {
  readonly mode: RowJobMode;
  readonly transform: RecordTransform;
  readonly verify?: RecordVerifier;
  readonly needsRotation?: (document: JsonObject, record: StoreRecord) => boolean;
  /** The keys a row's header names, for per-key counts (none for a row without a header). */
  readonly keysOf: (document: JsonObject) => string[];
  /** `provider:keyId` the target keyring wraps under (one probe wrap). */
  readonly targetKeys: readonly string[];
}

type Row = Record<string, unknown>;

function copy(row: Row): Row {
  const out: Row = {};
  for (const key of Object.keys(row)) Object.defineProperty(out, key, { value: row[key], enumerable: true, writable: true, configurable: true });
  return out;
}

function own(row: Row, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(row, key) ? row[key] : undefined;
}

/** The row's header and sealed cells as the sealed document core's `rewrap` and `inspect` take. */
function headerDocument(row: Row, layout: RowLayout, withCells: boolean): JsonObject {
  const doc: Row = {};
  if (withCells) {
    for (const c of layout.columns) {
      const v = own(row, c.property);
      if (v !== null && v !== undefined) Object.defineProperty(doc, c.name, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  Object.defineProperty(doc, layout.header.name, { value: own(row, layout.header.property), enumerable: true, writable: true, configurable: true });
  return doc as JsonObject;
}

/** The context a row was sealed with: the layout's stored pairs and the row's bound columns. */
function rowContext(row: Row, layout: RowLayout): Record<string, string> {
  const ctx: Record<string, string> = { ...layout.context };
  for (const b of layout.bindings) {
    const v = own(row, b.property);
    if (typeof v === 'string') ctx[b.key] = v;
  }
  return ctx;
}

/** JSON with sorted keys, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Row;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

/** A value written back to a text column by `unseal`: strings as they are, other JSON as JSON text. */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Builds the transform, verifier and pre-filter of a job over rows in the column layout (for
 * {@link PostgresRowStore}), on core's `sealRow`, `openRow`, `inspectRow` and `rewrap`. Every row
 * written is checked first: opened with the target keyring (or, for `unseal`, found free of
 * ciphertext) and compared with the original's plaintext; a row that fails is left unchanged.
 * Rows that need nothing are skipped with a reason (`already-sealed`, `empty`, `not-sealed`).
 *
 * @example
 * ```ts
 * const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' });
 * const job = await rowRotation({ mode: 'seal', layout, keyring });
 * await runRotation({ store: new PostgresRowStore({ connectionString, table: 'users', layout }), ...job });
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options (import-cloak without a keychain).
 */
export async function rowRotation(options: RowRotationOptions): Promise<RowRotation> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('rowRotation: options must be an object');
  const { mode, layout, keyring } = options;
  if (!['rewrap', 'reencrypt', 'seal', 'unseal', 'import-cloak'].includes(mode)) throw new InvalidArgumentError('rowRotation: mode must be rewrap, reencrypt, seal, unseal or import-cloak');
  const to = options.to ?? keyring;
  for (const [name, k] of [['keyring', keyring], ['to', to]] as const) {
    if (k === null || typeof k !== 'object' || typeof k.wrap !== 'function' || typeof k.unwrap !== 'function') throw new InvalidArgumentError(`rowRotation: ${name} must be a Keyring`);
  }
  const cloak = options.cloak;
  if (mode === 'import-cloak' && cloak === undefined) throw new InvalidArgumentError('rowRotation: import-cloak needs a CloakKeychain');

  const probe = await to.wrap({ context: {} });
  probe.dataKey.fill(0);
  const targetKeys = [...new Set(probe.wrapped.map((k: WrappedKey) => `${k.provider}:${k.keyId}`))];

  /** The plaintext a non-ciphertext cell stands for: itself (seal), or its cloak decryption (import). */
  const plainOf = (column: string, value: unknown): unknown => {
    if (mode === 'import-cloak') {
      if (!looksLikeCloak(value)) throw new CloakImportError(`column "${column}" holds a value that is not cloak ciphertext`, 'not-cloak');
      try {
        return cloak!.decrypt(value);
      } catch (err) {
        if (err instanceof CloakImportError) throw new CloakImportError(`column "${column}": ${err.message}`, err.kind);
        throw err;
      }
    }
    if (looksLikeCloak(value)) throw new CloakImportError(`column "${column}" holds cloak ciphertext: import it with --mode import-cloak`, 'cloak-value');
    return value;
  };

  /** The row's plaintext: sealed cells opened (source keyring), other cells through plainOf. */
  const plaintextOf = async (row: Row): Promise<Row> => {
    const state = inspectRow(row, layout);
    const opened = state.state === 'sealed' || state.state === 'mixed' ? await openRow(row, layout, { keyring, allowPlaintext: true }) : copy(row);
    for (const c of layout.columns) {
      if (state.plaintextColumns.includes(c.name)) Object.defineProperty(opened, c.property, { value: plainOf(c.name, own(row, c.property)), enumerable: true, writable: true, configurable: true });
    }
    return opened;
  };

  const skip = (reason: string, row: Row): TransformResult => ({ document: row as JsonObject, changed: false, reason });

  const transform: RecordTransform = async (document) => {
    const row = document as Row;
    const state = inspectRow(row, layout).state;
    if (state === 'empty') return skip('empty', row);
    switch (mode) {
      case 'seal':
      case 'import-cloak': {
        if (state === 'sealed') return skip('already-sealed', row);
        return { document: (await sealRow(await plaintextOf(row), layout, { keyring: to })) as JsonObject, changed: true };
      }
      case 'unseal': {
        if (state === 'plaintext') return skip('not-sealed', row);
        const opened = await openRow(row, layout, { keyring, allowPlaintext: true });
        const out = copy(row);
        for (const c of layout.columns) out[c.property] = asText(own(opened, c.property));
        out[layout.header.property] = null;
        return { document: out as JsonObject, changed: true };
      }
      case 'reencrypt': {
        if (state === 'plaintext') return skip('not-sealed', row);
        return { document: (await sealRow(await openRow(row, layout, { keyring }), layout, { keyring: to })) as JsonObject, changed: true };
      }
      default: {
        if (state === 'plaintext') return skip('not-sealed', row);
        // Not core's `verify`: the verifier opens the new row with the target keyring (openRow), which
        // checks all that core's verification would and the row's own rules besides. Both ran before,
        // a second unwrap, key derivation and set of field opens per row (issue 18).
        const result = await rewrap(headerDocument(row, layout, true), { keyring, to, context: rowContext(row, layout), headerName: layout.header.name });
        if (!result.changed) return skip('unchanged', row);
        const out = copy(row);
        out[layout.header.property] = result.document[layout.header.name];
        return { document: out as JsonObject, changed: true };
      }
    }
  };

  const verify: RecordVerifier = async (rotated, original) => {
    const after = rotated as Row;
    const before = original as Row;
    for (const b of layout.bindings) if (own(after, b.property) !== own(before, b.property)) throw new VerificationError(`the job changed the context column "${b.name}"`);
    if (mode === 'rewrap') {
      // The ciphertexts must be the ones read, and the new row must open with the target keyring as
      // any reader would open it: the new header, its wrapped keys unwrapped by the target, the key
      // commitment (which the old header shares, so the target's data key is the one the old header
      // was authenticated with), the MACs, every cell opened and decoded by its codec, and the row's
      // own rules (no plaintext cell, each column in its own group). Unchanged ciphertext under the
      // same data key is the same plaintext, so the old row need not be opened.
      for (const c of layout.columns) if (own(after, c.property) !== own(before, c.property)) throw new VerificationError('rewrap changed a field ciphertext');
      try {
        await openRow(after, layout, { keyring: to });
      } catch (err) {
        throw new VerificationError('the new row does not open with the target keyring', { cause: err });
      }
      return;
    }
    let expected: Row;
    try {
      expected = await plaintextOf(before);
    } catch (err) {
      throw new VerificationError('the original row does not open', { cause: err });
    }
    let got: Row;
    if (mode === 'unseal') {
      if (own(after, layout.header.property) !== null || inspectRow(after, layout).sealedColumns.length > 0) throw new VerificationError('the unsealed row still holds ciphertext');
      got = after;
      for (const c of layout.columns) expected[c.property] = asText(own(expected, c.property));
    } else {
      try {
        got = await openRow(after, layout, { keyring: to });
      } catch (err) {
        throw new VerificationError('the new row does not open with the target keyring', { cause: err });
      }
    }
    for (const c of layout.columns) {
      if (canonical(own(got, c.property) ?? null) !== canonical(own(expected, c.property) ?? null)) throw new VerificationError(`column "${c.name}" does not hold the original value after the job`);
    }
  };

  const keysOf = (document: JsonObject): string[] => {
    const header = own(document as Row, layout.header.property);
    if (header === null || header === undefined) return [];
    const keys = new Set<string>();
    for (const g of inspect(headerDocument(document as Row, layout, false), { headerName: layout.header.name }).groups) for (const k of g.wrappedKeys) keys.add(`${k.provider}:${k.keyId}`);
    return [...keys];
  };

  const target = new Set(targetKeys);
  const needsRotation =
    mode === 'rewrap' && options.skipCurrent !== false
      ? (document: JsonObject) => {
          const header = own(document as Row, layout.header.property);
          if (header === null || header === undefined) return true;
          return !inspect(headerDocument(document as Row, layout, false), { headerName: layout.header.name }).groups.every((g) => g.wrappedKeys.length === target.size && g.wrappedKeys.every((k) => target.has(`${k.provider}:${k.keyId}`)));
        }
      : undefined;

  return { mode, transform, ...(options.verify !== false ? { verify } : {}), ...(needsRotation !== undefined ? { needsRotation } : {}), keysOf, targetKeys };
}
