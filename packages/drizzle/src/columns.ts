import { customType } from 'drizzle-orm/pg-core';
import type { ColumnCodec, JsonValue } from '@fieldseal/core';
import { refused } from './lib/refused.js';
import { HEADER_MARK, isCiphertext, isHeader, SEALED_MARK } from './lib/marks.js';

/** Options of an encrypted column builder. */
export interface EncryptedColumnOptions {
  /** Key group that seals this column (field-level least privilege). Default `default`. */
  readonly group?: string;
}

function sealedType<TData>(codec: ColumnCodec) {
  // Drizzle calls toDriver synchronously with whatever reaches the driver: only ciphertext made by
  // the fieldseal wrapper may pass, so a write that went around the wrapper fails instead of
  // storing plaintext (and `eq(column, plaintext)` on the bare database fails the same way).
  const toDriver = (value: TData): string => {
    if (isCiphertext(value)) return value;
    throw refused('a value for an encrypted column reached the database unsealed: query through withFieldseal(db)');
  };
  SEALED_MARK.set(toDriver, codec);
  return customType<{ data: TData; driverData: string; config: EncryptedColumnOptions }>({
    dataType: () => 'text',
    toDriver,
    // The ciphertext stays a string here: opening needs the row's header and id, which only the
    // wrapper sees (Drizzle maps one column at a time, synchronously).
    fromDriver: (value: string) => value as unknown as TData,
  });
}

const textColumn = sealedType<string>('string');
const dateColumn = sealedType<Date>('date');
const bigintColumn = sealedType<bigint>('bigint');
const bytesColumn = sealedType<Uint8Array>('bytes');
const jsonColumn = sealedType<JsonValue>('json');

/**
 * An encrypted text column: stored as a field ciphertext in a PostgreSQL `text` column, typed
 * `string` in selects and inserts. Sealed and opened by {@link withFieldseal}; the bare database
 * refuses to write plaintext into it.
 *
 * Importable from `@fieldseal/drizzle`.
 *
 * @example
 * ```ts
 * import { pgTable, serial, text } from 'drizzle-orm/pg-core';
 * import { encryptedText, fieldsealHeader } from '@fieldseal/drizzle';
 * export const users = pgTable('users', {
 *   id: serial('id').primaryKey(),
 *   email: encryptedText('email'),
 *   emailBidx: text('email_bidx'),
 *   fieldseal: fieldsealHeader('fieldseal'),
 * });
 * ```
 * @param name The database column name (bound into the ciphertext: renaming the column needs a re-seal).
 * @param options Key group.
 */
export function encryptedText<TName extends string>(name: TName, options?: EncryptedColumnOptions) {
  return textColumn(name, options ?? {});
}

/** An encrypted column holding a `Date` (sealed as its ISO 8601 string). See {@link encryptedText}. */
export function encryptedDate<TName extends string>(name: TName, options?: EncryptedColumnOptions) {
  return dateColumn(name, options ?? {});
}

/** An encrypted column holding a `bigint` (sealed as its decimal string). See {@link encryptedText}. */
export function encryptedBigint<TName extends string>(name: TName, options?: EncryptedColumnOptions) {
  return bigintColumn(name, options ?? {});
}

/** An encrypted column holding bytes (sealed as base64url). See {@link encryptedText}. */
export function encryptedBytes<TName extends string>(name: TName, options?: EncryptedColumnOptions) {
  return bytesColumn(name, options ?? {});
}

/**
 * An encrypted column holding any JSON value (string, number, boolean, object, array), its JSON
 * type kept by the format. Type it with `.$type<T>()`. See {@link encryptedText}.
 *
 * @example
 * ```ts
 * prefs: encryptedJson('prefs').$type<{ theme: string }>(),
 * ```
 */
export function encryptedJson<TName extends string>(name: TName, options?: EncryptedColumnOptions) {
  return jsonColumn(name, options ?? {});
}

const headerToDriver = (value: string): string => {
  if (isHeader(value)) return value;
  throw refused('the fieldseal header column only takes headers written by fieldseal');
};
HEADER_MARK.add(headerToDriver);
const headerColumn = customType<{ data: string; driverData: string }>({ dataType: () => 'text', toDriver: headerToDriver });

/**
 * The column that holds each row's fieldseal header (a `text` column, NULL while the row holds
 * nothing sealed). One per table with encrypted columns; the wrapper writes it, applications never do.
 *
 * Importable from `@fieldseal/drizzle`.
 *
 * @param name The database column name.
 */
export function fieldsealHeader<TName extends string>(name: TName) {
  return headerColumn(name);
}
