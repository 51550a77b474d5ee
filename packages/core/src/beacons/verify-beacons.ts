/**
 * Check that a document's beacons still match its values.
 * @module
 */
import type { JsonObject } from '../types.js';
import type { BeaconIndex } from './beacon-index.js';
import { cloneDocument } from '../lib/json.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { DEFAULT_HEADER_NAME } from '../lib/format/constants.js';
import { evaluateSelector } from '../lib/selector.js';
import { parseBeacon } from '../lib/beacon/compute.js';
import { beaconsFor, findSources, pointer, valueAt } from '../lib/beacon/document.js';
import { getIndexState } from '../lib/beacon/fields.js';

/**
 * Why a beacon member does not match its value:
 * - `missing`: the value is set but has no beacon member.
 * - `mismatch`: a beacon under a key of the index differs from the value's beacon (stale or tampered).
 * - `missing-key`: no beacon under the index's primary key (written before a key rotation started, not yet backfilled).
 * - `several-keys`: beacons under several keys stored together (an earlier version's dual writes): together they leak
 *   as much as one beacon of twice the length; {@link updateBeacons} rewrites them as one.
 * - `unknown-key`: a beacon under a key id the index does not hold (cannot be checked).
 * - `malformed`: the member is not a beacon string or an array of them.
 * - `orphan`: a beacon member whose value is absent or `null`.
 */
export type BeaconIssueReason = 'missing' | 'mismatch' | 'missing-key' | 'several-keys' | 'unknown-key' | 'malformed' | 'orphan';

/** One problem found by {@link verifyBeacons}. Carries locations and key ids, never values or beacons. */
export interface BeaconIssue {
  /** The beacon field. */
  readonly field: string;
  /** JSON Pointer of the beacon member. */
  readonly targetPointer: string;
  /** What is wrong. */
  readonly reason: BeaconIssueReason;
  /** The key id concerned, for `mismatch`, `missing-key` and `unknown-key`. */
  readonly keyId?: string;
}

/** What {@link verifyBeacons} returns. */
export interface VerifyBeaconsResult {
  /** `true` when no issue was found. */
  readonly valid: boolean;
  /** Every issue, in field declaration then document order. */
  readonly issues: readonly BeaconIssue[];
}

/**
 * Recompute the beacons of a decrypted document and compare them with its beacon members. Decrypt
 * itself ignores beacons (they are neither encrypted nor authenticated by the sealed document), so
 * call this when you need to know that a row's beacon still matches its value: after a partial
 * update, during a beacon key rotation, or in an integrity audit.
 *
 * @example
 * ```ts
 * import { decrypt, verifyBeacons } from '@fieldseal/core';
 * const opened = await decrypt(sealed, { keyring });
 * const { valid, issues } = await verifyBeacons(opened, index);
 * ```
 * @param doc The decrypted (plaintext) document, with its beacon members.
 * @param index The beacon configuration.
 * @returns Whether every beacon matches, and each issue found.
 * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when the document is not JSON data or a selected value is not a string.
 * @throws {@link LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` for nesting deeper than 128 levels or an oversized value.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `index` is not a {@link BeaconIndex} or a key was destroyed.
 */
export async function verifyBeacons(doc: JsonObject, index: BeaconIndex): Promise<VerifyBeaconsResult> {
  const state = getIndexState(index);
  const copy = cloneDocument(doc, DEFAULT_LIMITS.maxDepth);
  const issues: BeaconIssue[] = [];
  const withValue = new Set<string>();
  for (const placed of findSources(state, copy)) {
    if (placed.value === null) continue;
    const field = placed.field;
    const targetPath = [...placed.parentPath, field.placement!.target];
    const targetPointer = pointer(targetPath);
    withValue.add(`${field.name}\0${targetPointer}`);
    const expected = await beaconsFor(state, field, placed.value);
    const stored = valueAt(copy, targetPath);
    if (stored === undefined) {
      issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'missing' }));
      continue;
    }
    const list = typeof stored === 'string' ? [stored] : Array.isArray(stored) && stored.length > 0 && stored.length <= 8 ? stored : undefined;
    const parsed = list?.map(parseBeacon);
    if (parsed === undefined || parsed.some((p) => p === undefined)) {
      issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'malformed' }));
      continue;
    }
    const seen = new Set<string>();
    for (let i = 0; i < parsed.length; i++) {
      const keyId = parsed[i]!.keyId;
      seen.add(keyId);
      const k = state.keys.findIndex((key) => key.id === keyId);
      if (k < 0) issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'unknown-key', keyId }));
      else if (expected[k] !== list![i]) issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'mismatch', keyId }));
    }
    if (parsed.length > 1) issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'several-keys' }));
    const primary = state.keys[0]!.id;
    if (!seen.has(primary)) issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'missing-key', keyId: primary }));
  }
  for (const field of state.fields.values()) {
    if (!field.placement) continue;
    for (const path of evaluateSelector(field.placement.targetSelector, copy, DEFAULT_HEADER_NAME)) {
      const targetPointer = pointer(path);
      if (!withValue.has(`${field.name}\0${targetPointer}`)) issues.push(Object.freeze({ field: field.name, targetPointer, reason: 'orphan' }));
    }
  }
  return Object.freeze({ valid: issues.length === 0, issues: Object.freeze(issues) });
}
