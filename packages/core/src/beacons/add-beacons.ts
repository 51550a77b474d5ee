/**
 * Write beacons into a document beside the values they index.
 * @module
 */
import type { JsonObject, JsonValue } from '../types.js';
import type { BeaconIndex } from './beacon-index.js';
import { cloneDocument } from '../lib/json.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { setOwn } from '../lib/pointer.js';
import { findSources, storedBeaconFor, valueAt } from '../lib/beacon/document.js';
import { getIndexState, type IndexState } from '../lib/beacon/fields.js';

/**
 * Return a copy of a plaintext document with each selected value's beacon written to its sibling
 * member (`$.email` -> `$.email_bidx`); then encrypt the copy as usual. The sibling is one beacon
 * string under the index's primary key, also during a beacon key rotation (two beacons of one value
 * stored together would leak as much as one beacon of twice the length; queries use
 * {@link BeaconIndex.beacons}, which covers every key). An existing sibling is overwritten, so running it again with a new index re-computes the beacons;
 * the sibling of a `null` value is removed. The input is not modified.
 *
 * Do not select the beacon members for encryption (a wildcard such as `$.contacts[*].*` would): an
 * encrypted beacon cannot be queried.
 *
 * @example
 * ```ts
 * import { addBeacons, encrypt } from '@fieldseal/core';
 * const withBeacons = await addBeacons({ email: 'alice@example.com' }, index);
 * const sealed = await encrypt(withBeacons, { keyring, paths: ['$.email'] });
 * // sealed.email is ciphertext; sealed.email_bidx is the beacon, e.g. "b1:5c1"
 * ```
 * @param doc The plaintext document.
 * @param index The beacon configuration.
 * @returns A new document with the beacon members set.
 * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when the document is not JSON data or a selected value is not a string.
 * @throws {@link LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` for nesting deeper than 128 levels or an oversized value.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `index` is not a {@link BeaconIndex} or a key was destroyed.
 */
export async function addBeacons(doc: JsonObject, index: BeaconIndex): Promise<JsonObject> {
  const state = getIndexState(index);
  return writeBeacons(cloneDocument(doc, DEFAULT_LIMITS.maxDepth), state);
}

/**
 * @internal {@link addBeacons} on a document the caller already owns (its own clone), modified in
 * place: `encrypt` clones its input once and can write the beacons into that clone.
 */
export async function addBeaconsInPlace(copy: JsonObject, index: BeaconIndex): Promise<JsonObject> {
  return writeBeacons(copy, getIndexState(index));
}

async function writeBeacons(copy: JsonObject, state: IndexState): Promise<JsonObject> {
  // Compute everything first: a failure leaves no half-written result to misuse.
  const writes: { parent: Record<string, JsonValue>; target: string; value: JsonValue | undefined }[] = [];
  for (const placed of findSources(state, copy)) {
    const parent = valueAt(copy, placed.parentPath) as Record<string, JsonValue>;
    const target = placed.field.placement!.target;
    if (placed.value === null) {
      writes.push({ parent, target, value: undefined });
      continue;
    }
    writes.push({ parent, target, value: await storedBeaconFor(state, placed.field, placed.value) });
  }
  for (const w of writes) {
    if (w.value === undefined) delete w.parent[w.target];
    else setOwn(w.parent, w.target, w.value);
  }
  return copy;
}
