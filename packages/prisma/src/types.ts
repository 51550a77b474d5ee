import type { BeaconIndex, ColumnCodec, EncryptionContext, Keyring, Limits } from '@fieldseal/core';

/** How one encrypted field of a model is sealed and searched. */
export interface PrismaFieldOptions {
  /**
   * How the application's value becomes the sealed JSON value (see `SealedColumnSpec.codec` in
   * `@fieldseal/core`). Default `string`: the Prisma field is a `String` and holds strings.
   */
  readonly codec?: ColumnCodec;
  /** Key group that seals this field (field-level least privilege). Default `default`. */
  readonly group?: string;
  /**
   * The Prisma field (a `String?` column) that holds this field's beacon, so that
   * `where: { email: '…' }` becomes a lookup on it. Needs `beacons` in the options.
   */
  readonly beacon?: string;
  /** The field name in the `BeaconIndex` (it feeds the beacon key derivation). Default `"<Model>.<field>"`. */
  readonly beaconName?: string;
}

/** Which fields of one Prisma model are sealed, and what is bound to them. */
export interface PrismaModelOptions {
  /** The encrypted fields (Prisma field names of `String` columns), as a list or with options. */
  readonly fields: readonly string[] | Readonly<Record<string, PrismaFieldOptions>>;
  /** The Prisma field (a `String?` column) that holds the row's fieldseal header. */
  readonly header: string;
  /**
   * The id field(s), bound to every ciphertext of the row so that a ciphertext copied to another
   * row fails to open. Default `id`.
   */
  readonly id?: string | readonly string[];
  /**
   * How to make the id of a new row before it is sealed when the create does not give one
   * (the id is part of what is sealed, so it must be known first). `uuid`: `crypto.randomUUID()`,
   * the same value `@default(uuid())` would give. Without it, a create that leaves the id to the
   * database is refused with `ERR_FIELDSEAL_UNSUPPORTED_QUERY`.
   */
  readonly generateId?: 'uuid' | (() => string);
  /**
   * Context bound from other fields of the row (context key to Prisma field), e.g.
   * `{ tenant: 'tenantId' }`: changing that field without resealing breaks the seal.
   */
  readonly context?: Readonly<Record<string, string>>;
  /** Context stored in every header of this model and checked on open, e.g. `{ table: 'users' }`. */
  readonly storedContext?: EncryptionContext;
}

/** A row the migration mode found holding plaintext in encrypted columns. */
export interface PlaintextReport {
  /** The Prisma model. */
  readonly model: string;
  /** The encrypted fields that held plaintext. */
  readonly fields: readonly string[];
  /** The row's id field values (never an encrypted value). */
  readonly id: Readonly<Record<string, unknown>>;
}

/** Options of {@link fieldseal}. */
export interface FieldsealPrismaOptions {
  /** Keyring of every key group that `keyrings` does not name. */
  readonly keyring?: Keyring;
  /** Keyrings per key group name. */
  readonly keyrings?: Readonly<Record<string, Keyring>>;
  /** The encrypted models, by Prisma model name. */
  readonly models: Readonly<Record<string, PrismaModelOptions>>;
  /** Beacons for equality search (needed when a field names a `beacon`). */
  readonly beacons?: BeaconIndex;
  /**
   * `strict` (default): a value in an encrypted column that is not a fieldseal ciphertext fails
   * the query. `migration`: such values are returned as they are and reported through
   * `onPlaintext`, and any update of the row seals them.
   */
  readonly mode?: 'strict' | 'migration';
  /** Called in migration mode for every row read that holds plaintext in an encrypted column. */
  readonly onPlaintext?: (report: PlaintextReport) => void;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
  /**
   * The client's runtime data model, when it cannot be read from the client the extension is
   * applied to (it is read from there by default; Prisma 7 has no `Prisma.dmmf`).
   */
  readonly dataModel?: RuntimeDataModel;
}

/** The parts of Prisma's runtime data model that the extension reads (field kinds, types, column names). */
export interface RuntimeDataModel {
  readonly models: Readonly<Record<string, { readonly dbName?: string | null; readonly fields: readonly RuntimeField[] }>>;
}

/** One field of a model in Prisma's runtime data model. */
export interface RuntimeField {
  readonly name: string;
  readonly kind: string;
  readonly type: string;
  readonly dbName?: string | null;
  readonly relationName?: string;
}

/** What `client.$fieldseal` holds on a client the extension was applied to. */
export interface FieldsealMarker {
  /** Always `true`. */
  readonly active: true;
  /** The encrypted models. */
  readonly models: readonly string[];
  /** `strict` or `migration`. */
  readonly mode: 'strict' | 'migration';
}
