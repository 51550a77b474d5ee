/**
 * Beacons of a document's values, returned separately (for their own indexed columns).
 * @module
 */
import type { JsonObject } from '../types.js';
import type { BeaconIndex } from './beacon-index.js';
import { cloneDocument } from '../lib/json.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { findSources, pointer, storedBeaconFor } from '../lib/beacon/document.js';
import { getIndexState } from '../lib/beacon/fields.js';

/** One value's beacons, from {@link computeBeacons}. */
export interface ComputedBeacon {
  /** The beacon field. */
  readonly field: string;
  /** JSON Pointer (RFC 6901) of the value. */
  readonly pointer: string;
  /** JSON Pointer of the member {@link addBeacons} writes the beacons to. */
  readonly targetPointer: string;
  /**
   * The beacon to store: one, under the primary key of the index, also during a beacon key rotation
   * (a list for compatibility). Query with {@link BeaconIndex.beacons}, which covers every key.
   */
  readonly beacons: readonly string[];
}

/**
 * Compute the beacons of every value selected by the index's field paths in a plaintext document,
 * without changing it. Use it to fill beacon columns of your own; use {@link addBeacons} to write the
 * beacons into the document instead. `null` values get no beacon; fields without a `path` are skipped.
 *
 * @example
 * ```ts
 * import { computeBeacons } from '@fieldseal/core';
 * const [email] = await computeBeacons({ email: 'alice@example.com' }, index);
 * // email.beacons[0] -> the value for an indexed email_bidx column
 * ```
 * @param doc The plaintext document (before encryption, or after decryption).
 * @param index The beacon configuration.
 * @returns One entry per selected non-null value, in field declaration then document order.
 * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when the document is not JSON data or a selected value is not a string.
 * @throws {@link LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` for nesting deeper than 128 levels or an oversized value.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `index` is not a {@link BeaconIndex} or a key was destroyed.
 */
export async function computeBeacons(doc: JsonObject, index: BeaconIndex): Promise<ComputedBeacon[]> {
  const state = getIndexState(index);
  const copy = cloneDocument(doc, DEFAULT_LIMITS.maxDepth);
  const out: ComputedBeacon[] = [];
  for (const placed of findSources(state, copy)) {
    if (placed.value === null) continue;
    const beacons = [await storedBeaconFor(state, placed.field, placed.value)];
    out.push(
      Object.freeze({
        field: placed.field.name,
        pointer: pointer(placed.path),
        targetPointer: pointer([...placed.parentPath, placed.field.placement!.target]),
        beacons: Object.freeze(beacons),
      }),
    );
  }
  return out;
}
