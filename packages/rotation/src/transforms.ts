import { CURRENT_SUITE_ID, decrypt, inspect, InvalidArgumentError, LocalKeyring, reencrypt, rewrap, RewrapVerificationError, type EncryptionContext, type InspectResult, type JsonObject, type Keyring, type WrappedKey } from '@fieldseal/core';
import type { RecordTransform, RecordVerifier } from './engine.js';
import { VerificationError } from './errors.js';
import { sameMembers } from './lib/json-equal.js';
import type { StoreRecord } from './store.js';

/** Options of {@link coreRotation}. */
export interface CoreRotationOptions {
  /**
   * `rewrap`: new KEKs for the same data keys; field ciphertexts stay byte-for-byte (routine KEK
   * rotation, cheap). `reencrypt`: fresh data keys and message ids, every field re-encrypted
   * (after a suspected data-key compromise).
   */
  readonly mode: 'rewrap' | 'reencrypt';
  /** A keyring that can unwrap the current data keys. */
  readonly keyring: Keyring;
  /** The keyring to wrap under from now on. */
  readonly to: Keyring;
  /**
   * The expected encryption context, or a function of the record giving it, e.g.
   * `(record) => ({ rowId: record.id })` when the application binds the row id as a
   * required-but-not-stored context key.
   */
  readonly context?: EncryptionContext | ((record: StoreRecord, document: JsonObject) => EncryptionContext);
  /**
   * Skip documents whose every key group is already wrapped only under the target keyring's keys,
   * without using any key (local key ids without a unique id, `main/v1`, are checked by the
   * transform instead). Default: true for `rewrap`, false for `reencrypt` (after a data-key
   * compromise every document needs fresh data keys, whatever wraps them).
   */
  readonly skipCurrent?: boolean;
  /** Verify every rotated document before it is written (see {@link coreRotation}). Default true. */
  readonly verify?: boolean;
}

/** What {@link coreRotation} returns: spread it into {@link RotationJobOptions}. */
export interface CoreRotation {
  readonly mode: 'rewrap' | 'reencrypt';
  readonly transform: RecordTransform;
  readonly verify?: RecordVerifier;
  readonly needsRotation?: (document: JsonObject, record: StoreRecord) => boolean;
  /** The `provider:keyId` of the keys a document's header names (one header decode shared with `needsRotation`). */
  readonly keysOf: (document: JsonObject) => string[];
  /** `provider:keyId` of the keys the target keyring wraps under (learned by one probe wrap). */
  readonly targetKeys: readonly string[];
}


/** JSON with object keys sorted, so two equal documents compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/**
 * Builds the transform, verifier and pre-filter of a rotation with `@fieldseal/core`'s `rewrap`
 * or `reencrypt`, ready to spread into {@link runRotation}'s options.
 *
 * Verification opens every rotated document with the target keyring before it is written. For
 * `rewrap` that is core's `rewrap` with `verify: true` (the target keyring must unwrap the new
 * header to the same data key, the header MACs, completeness and every field are checked, in the
 * same pass that re-wraps), and everything but the header must be byte-for-byte what was read; for
 * `reencrypt` it decrypts the original with the source keyring and checks both plaintexts are
 * equal. A document that fails verification is left unchanged and counted as
 * `ERR_FIELDSEAL_ROTATION_VERIFY`. Plaintext exists only in memory, for that comparison.
 *
 * To learn which keys the target wraps under, the target keyring is asked to wrap one fresh data
 * key (one KMS call), which is then discarded.
 *
 * @example
 * ```ts
 * const job = await coreRotation({ mode: 'rewrap', keyring: oldKeys, to: newKeys, context: (r) => ({ rowId: r.id }) });
 * const report = await runRotation({ store, ...job });
 * ```
 * @param options Mode, keyrings and context.
 * @returns The transform, verifier and pre-filter.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options, or when the source
 * and target are local keyrings holding different keys under one key id (`LocalKeyring.keyIdConflicts`).
 */
export async function coreRotation(options: CoreRotationOptions): Promise<CoreRotation> {
  /* Precondition: a known mode and two keyrings. */
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('coreRotation: options must be an object');
  const { mode, keyring, to } = options;
  if (mode !== 'rewrap' && mode !== 'reencrypt') throw new InvalidArgumentError('coreRotation: mode must be "rewrap" or "reencrypt"');
  for (const [name, k] of [['keyring', keyring], ['to', to]] as const) {
    if (k === null || typeof k !== 'object' || typeof k.wrap !== 'function' || typeof k.unwrap !== 'function') throw new InvalidArgumentError(`coreRotation: ${name} must be a Keyring`);
  }
  const contextOf = (record: StoreRecord, document: JsonObject): EncryptionContext | undefined =>
    typeof options.context === 'function' ? options.context(record, document) : options.context;
  const ctx = (record: StoreRecord, document: JsonObject) => {
    const c = contextOf(record, document);
    return c !== undefined ? { context: c } : {};
  };

  // Two key files written before key ids both call their first key `main/v1`: counting documents
  // "already current" by that id would skip every one, and deleting the old file would lose them.
  if (keyring instanceof LocalKeyring && to instanceof LocalKeyring) {
    const clash = keyring.keyIdConflicts(to);
    if (clash.length > 0) {
      throw new InvalidArgumentError(
        `coreRotation: the source and target keyrings hold different keys under the same key id (${clash.join(', ')}), so documents cannot be told apart by key id. Give the target key file unique key ids first (fieldseal keygen --add <target key file>, or LocalKeyring.withNewPrimary()), then rotate`,
      );
    }
  }

  const probe = await to.wrap({ context: {} });
  probe.dataKey.fill(0);
  const targetKeys = [...new Set(probe.wrapped.map((k: WrappedKey) => `${k.provider}:${k.keyId}`))];

  const verifying = options.verify !== false;
  const transform: RecordTransform =
    mode === 'rewrap'
      ? async (document, record) => {
          try {
            return await rewrap(document, { keyring, to, ...ctx(record, document), verify: verifying });
          } catch (err) {
            if (err instanceof RewrapVerificationError) throw new VerificationError('the rotated document does not open with the target keyring', { cause: err });
            throw err;
          }
        }
      : (document, record) => reencrypt(document, { keyring, to, ...ctx(record, document) });

  const verify: RecordVerifier = async (rotated, original, record) => {
    if (mode === 'rewrap') {
      // The transform opened `rotated` with the target keyring (rewrap's verify); what is left is
      // that nothing but the header changed.
      if (!sameMembers(rotated, original, '_fieldseal')) throw new VerificationError('rewrap changed more than the header');
      return;
    }
    let opened: JsonObject;
    try {
      opened = await decrypt(rotated, { keyring: to, ...ctx(record, original) });
    } catch (err) {
      throw new VerificationError('the rotated document does not open with the target keyring', { cause: err });
    }
    const before = await decrypt(original, { keyring, ...ctx(record, original) });
    if (canonicalJson(before) !== canonicalJson(opened)) throw new VerificationError('the re-encrypted document does not decrypt to the original plaintext');
  };

  // The engine asks for the keys (per-key counts) and then the pre-filter asks whether the document
  // is current: decode its header once for both.
  const inspected = new WeakMap<JsonObject, InspectResult>();
  const inspectOnce = (document: JsonObject): InspectResult => {
    let result = inspected.get(document);
    if (result === undefined) {
      result = inspect(document);
      inspected.set(document, result);
    }
    return result;
  };
  const keysOf = (document: JsonObject): string[] => {
    const keys = new Set<string>();
    for (const g of inspectOnce(document).groups) for (const k of g.wrappedKeys) keys.add(`${k.provider}:${k.keyId}`);
    return [...keys];
  };

  const skipCurrent = options.skipCurrent ?? mode === 'rewrap';
  const target = new Set(targetKeys);
  // Current means wrapped under exactly the target's keys. A local key id without a unique id
  // (`main/v1`) does not say which key file it came from, so such documents go through the
  // transform, where rewrap checks that the target really opens them.
  const current = (k: { provider: string; keyId: string }) => target.has(`${k.provider}:${k.keyId}`) && (k.provider !== 'local' || LocalKeyring.isUniqueKeyId(k.keyId));
  // Re-encryption also moves a document to the current algorithm suite, so an older suite under the
  // target's keys is not current for it (rewrap keeps a document's suite, so there it does not count).
  const oldSuite = (info: InspectResult) => mode === 'reencrypt' && info.suite.id < CURRENT_SUITE_ID;
  const needsRotation = skipCurrent
    ? (document: JsonObject) => {
        const info = inspectOnce(document);
        return oldSuite(info) || !info.groups.every((g) => g.wrappedKeys.length === target.size && g.wrappedKeys.every(current));
      }
    : undefined;

  return {
    mode,
    transform,
    ...(options.verify !== false ? { verify } : {}),
    ...(needsRotation !== undefined ? { needsRotation } : {}),
    keysOf,
    targetKeys,
  };
}
