import type { JsonObject } from '../../types.js';
import { DEFAULT_HEADER_NAME } from '../format/constants.js';
import { MISSING, ownChild, toPointer, type PathToken } from '../pointer.js';
import { evaluateSelector } from '../selector.js';
import { computeWith } from './compute.js';
import type { CompiledField, IndexState } from './fields.js';

/** One placed value of a beacon field in a document. */
export interface Placed {
  readonly field: CompiledField;
  /** Path of the source value. */
  readonly path: readonly PathToken[];
  /** Path of the parent object (where the target member lives). */
  readonly parentPath: readonly PathToken[];
  /** The source value (unknown type: checked by the normalizer). */
  readonly value: unknown;
}

/** Every source value of every placed field, in declaration then document order. */
export function findSources(state: IndexState, doc: JsonObject): Placed[] {
  const out: Placed[] = [];
  for (const field of state.fields.values()) {
    if (!field.placement) continue;
    for (const path of evaluateSelector(field.placement.source, doc, DEFAULT_HEADER_NAME)) {
      out.push({ field, path, parentPath: path.slice(0, -1), value: valueAt(doc, path) });
    }
  }
  return out;
}

export function valueAt(doc: unknown, path: readonly PathToken[]): unknown {
  let cur = doc;
  for (const t of path) {
    const child = ownChild(cur, String(t));
    cur = child === MISSING ? undefined : child;
  }
  return cur;
}

/** The beacons for one value under every key of the index, primary first (what queries use). */
export async function beaconsFor(state: IndexState, field: CompiledField, value: unknown): Promise<string[]> {
  const normalized = field.normalizer.apply(value);
  return Promise.all(state.keys.map((k) => computeWith(state, k, field, normalized)));
}

/**
 * The beacon a document stores: under the primary key only. Beacons under two independent keys,
 * stored together, act as one beacon of twice the length, which the safe length rule never allows
 * (2^N > sqrt(X) makes 2^(2N) > X): older keys are for queries, never for storage.
 */
export async function storedBeaconFor(state: IndexState, field: CompiledField, value: unknown): Promise<string> {
  return computeWith(state, state.keys[0]!, field, field.normalizer.apply(value));
}

export function pointer(path: readonly PathToken[]): string {
  return toPointer(path);
}
