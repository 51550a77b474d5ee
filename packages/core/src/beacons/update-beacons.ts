/**
 * Recompute the beacons of a sealed document in place, without re-encrypting it.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';
import type { BeaconIndex } from './beacon-index.js';
import { decrypt, type DecryptOptions } from '../decrypt.js';
import { cloneDocument } from '../lib/json.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { setOwn, type PathToken } from '../lib/pointer.js';
import { DEFAULT_HEADER_NAME } from '../lib/format/constants.js';
import { evaluateSelector } from '../lib/selector.js';
import { findSources, pointer, storedBeaconFor, valueAt } from '../lib/beacon/document.js';
import { getIndexState } from '../lib/beacon/fields.js';

/**
 * Options of {@link updateBeacons}: how to decrypt the document (every key group is decrypted, so
 * partial-decrypt options are not accepted), and the beacon configuration to apply.
 */
export interface UpdateBeaconsOptions extends Omit<DecryptOptions, 'paths' | 'groups' | 'strict'> {
  /** The beacon configuration to bring the document to (for example the dual-key index of a beacon key rotation). */
  readonly index: BeaconIndex;
}

/** What {@link updateBeacons} returns (the shape of a `@fieldseal/rotation` transform result). */
export interface UpdateBeaconsResult {
  /** The sealed document with its beacon members recomputed. */
  readonly document: JsonObject;
  /** False when every beacon member was already what the index computes. */
  readonly changed: boolean;
}

/**
 * Decrypt a sealed document, recompute its beacons with `options.index`, and write them into a
 * copy of the *sealed* document. The field ciphertexts and the header are untouched (beacon members
 * are outside the authenticated part), so this costs one decrypt and no encryption: the step to run
 * over every row during a beacon key rotation, or after changing a field's beacon settings. Members
 * whose value is absent or `null` are removed. Plaintext exists only in memory.
 *
 * Its result fits `@fieldseal/rotation`'s `RecordTransform`:
 *
 * @example
 * ```ts
 * import { updateBeacons } from '@fieldseal/core';
 * import { runRotation } from '@fieldseal/rotation';
 * const index = new BeaconIndex({ keys: [newKey, oldKey], fields });
 * await runRotation({ store, transform: (doc, record) => updateBeacons(doc, { keyring, index, context: { rowId: record.id } }) });
 * ```
 * @param sealed A sealed document.
 * @param options How to decrypt it, and the beacon configuration.
 * @returns The updated sealed document and whether anything changed.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options, or a beacon path inside an encrypted value.
 * @throws {@link DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` and the other errors of {@link decrypt}.
 * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when a selected value is not a string.
 */
export async function updateBeacons(sealed: JsonObject, options: UpdateBeaconsOptions): Promise<UpdateBeaconsResult> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
  const state = getIndexState(options.index);
  const unsafe = options as DecryptOptions;
  if (unsafe.paths !== undefined || unsafe.groups !== undefined) throw new InvalidArgumentError('updateBeacons decrypts every key group: paths and groups are not accepted');
  const { index: _index, ...decryptOptions } = options;
  const plain = await decrypt(sealed, decryptOptions);
  const headerName = options.headerName ?? DEFAULT_HEADER_NAME;
  // `keyrings` for only some groups open only those: beacons of still-sealed values would be wrong.
  if (Object.prototype.hasOwnProperty.call(plain, headerName)) throw new KeyUnavailableError('updateBeacons needs a keyring for every key group of the document');
  const out = cloneDocument(sealed, options.limits?.maxDepth ?? DEFAULT_LIMITS.maxDepth);
  let changed = false;
  const written = new Set<string>();
  const write = (parentPath: readonly PathToken[], target: string, value: JsonValue | undefined): void => {
    const parent = valueAt(out, parentPath);
    if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) throw new InvalidArgumentError(`the beacon member ${pointer([...parentPath, target])} would lie inside an encrypted value`);
    const p = parent as Record<string, JsonValue>;
    const had = Object.prototype.hasOwnProperty.call(p, target);
    if (value === undefined) {
      if (had) {
        delete p[target];
        changed = true;
      }
      return;
    }
    if (!had || JSON.stringify(p[target]) !== JSON.stringify(value)) changed = true;
    setOwn(p, target, value);
  };
  for (const placed of findSources(state, plain)) {
    const target = placed.field.placement!.target;
    if (placed.value === null) {
      write(placed.parentPath, target, undefined);
      continue;
    }
    write(placed.parentPath, target, await storedBeaconFor(state, placed.field, placed.value));
    written.add(`${placed.field.name}\0${pointer([...placed.parentPath, target])}`);
  }
  // Beacon members left from values that are gone would keep matching lookups for the old value.
  for (const field of state.fields.values()) {
    if (!field.placement) continue;
    for (const path of evaluateSelector(field.placement.targetSelector, out, headerName)) {
      if (!written.has(`${field.name}\0${pointer(path)}`)) write(path.slice(0, -1), field.placement.target, undefined);
    }
  }
  return Object.freeze({ document: out, changed });
}
