import { decrypt, encrypt, inspect, InvalidArgumentError, type EncryptionContext, type JsonObject, type Keyring, type WrappedKey } from '@fieldseal/core';
import type { RecordTransform, RecordVerifier } from './engine.js';
import { VerificationError } from './errors.js';
import type { StoreRecord } from './store.js';

/** Options of {@link documentMigration}. */
export interface DocumentMigrationOptions {
  /** `seal`: documents without a header get their `paths` sealed; `unseal`: sealed documents are decrypted entirely. */
  readonly mode: 'seal' | 'unseal';
  /** Opens sealed documents (`unseal`), and seals (`seal`) unless `to` is given. */
  readonly keyring: Keyring;
  /** The keyring `seal` wraps under. Default `keyring`. */
  readonly to?: Keyring;
  /** `seal`: the selectors to seal (as `encrypt` takes them). */
  readonly paths?: readonly string[];
  /** Context stored in each new header (and expected when opening). */
  readonly context?: EncryptionContext;
  /** Context bound but not stored, per record (e.g. `(record, doc) => ({ rowId: String(doc.id) })`). */
  readonly requiredContext?: (record: StoreRecord, document: JsonObject) => EncryptionContext;
  /** The header member. Default `_fieldseal`. */
  readonly headerName?: string;
}

/** What {@link documentMigration} returns: spread it into `runRotation`'s options. */
export interface DocumentMigration {
  readonly mode: 'seal' | 'unseal';
  readonly transform: RecordTransform;
  readonly verify: RecordVerifier;
  readonly keysOf: (document: JsonObject) => string[];
  readonly targetKeys: readonly string[];
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
}

/**
 * Builds a seal-in-place or unseal job over JSON documents (an {@link NdjsonStore} or a JSON
 * column): `seal` encrypts the selected paths of every document that has no header yet and
 * counts sealed ones as `already-sealed`; `unseal` decrypts every sealed document back to
 * plaintext. Each new document is checked before it is written (opened and compared with the
 * original plaintext).
 *
 * @example
 * ```ts
 * const job = await documentMigration({ mode: 'seal', keyring, paths: ['$.ssn'] });
 * await runRotation({ store: new NdjsonStore({ path: 'customers.ndjson' }), ...job });
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options (seal without paths).
 */
export async function documentMigration(options: DocumentMigrationOptions): Promise<DocumentMigration> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('documentMigration: options must be an object');
  const { mode, keyring } = options;
  if (mode !== 'seal' && mode !== 'unseal') throw new InvalidArgumentError('documentMigration: mode must be seal or unseal');
  const to = options.to ?? keyring;
  if (mode === 'seal' && (!Array.isArray(options.paths) || options.paths.length === 0)) throw new InvalidArgumentError('documentMigration: seal needs at least one path');
  const headerName = options.headerName ?? '_fieldseal';
  const hasHeader = (doc: JsonObject) => Object.prototype.hasOwnProperty.call(doc, headerName) && doc[headerName] !== null && doc[headerName] !== undefined;
  const required = (record: StoreRecord, doc: JsonObject): EncryptionContext => options.requiredContext?.(record, doc) ?? {};
  const fullContext = (record: StoreRecord, doc: JsonObject): EncryptionContext => ({ ...options.context, ...required(record, doc) });

  const probe = await to.wrap({ context: {} });
  probe.dataKey.fill(0);
  const targetKeys = [...new Set(probe.wrapped.map((k: WrappedKey) => `${k.provider}:${k.keyId}`))];

  const transform: RecordTransform = async (document, record) => {
    if (mode === 'seal') {
      if (hasHeader(document)) return { document, changed: false, reason: 'already-sealed' };
      const sealed = await encrypt(document, { keyring: to, paths: options.paths!, headerName, ...(options.context !== undefined ? { context: options.context } : {}), requiredContext: required(record, document) });
      return { document: sealed, changed: true };
    }
    if (!hasHeader(document)) return { document, changed: false, reason: 'not-sealed' };
    return { document: await decrypt(document, { keyring, headerName, context: fullContext(record, document) }), changed: true };
  };

  const verify: RecordVerifier = async (rotated, original, record) => {
    let expected: JsonObject;
    let got: JsonObject;
    try {
      expected = mode === 'seal' ? original : await decrypt(original, { keyring, headerName, context: fullContext(record, original) });
      if (mode === 'unseal' && hasHeader(rotated)) throw new VerificationError('the unsealed document still has a header');
      got = mode === 'seal' ? await decrypt(rotated, { keyring: to, headerName, context: fullContext(record, original) }) : rotated;
    } catch (err) {
      if (err instanceof VerificationError) throw err;
      throw new VerificationError('the new document does not open', { cause: err });
    }
    if (canonical(got) !== canonical(expected)) throw new VerificationError('the new document does not hold the original plaintext');
  };

  const keysOf = (document: JsonObject): string[] => {
    if (!hasHeader(document)) return [];
    const keys = new Set<string>();
    for (const g of inspect(document, { headerName }).groups) for (const k of g.wrappedKeys) keys.add(`${k.provider}:${k.keyId}`);
    return [...keys];
  };

  return { mode, transform, verify, keysOf, targetKeys };
}
