import { InvalidSelectorError } from '../../errors.js';
import type { JsonObject } from '../../types.js';
import { toPointer } from '../pointer.js';
import { evaluateSelector } from '../selector.js';
import { getIndexState } from './fields.js';

/**
 * Refuse an encryption selection that covers a beacon member (the member itself or an ancestor):
 * an encrypted beacon can never match a query, and the mistake would otherwise only show up as
 * lookups that silently find nothing.
 */
export function assertBeaconsNotSelected(doc: JsonObject, index: unknown, selected: readonly { pointer: string }[], headerName: string): void {
  const state = getIndexState(index);
  const chosen = new Set(selected.map((f) => f.pointer));
  if (chosen.size === 0) return;
  for (const field of state.fields.values()) {
    if (!field.placement) continue;
    for (const path of evaluateSelector(field.placement.targetSelector, doc, headerName)) {
      // The member itself and each ancestor: O(depth) set lookups per beacon, whatever the field count.
      for (let n = path.length; n >= 1; n--) {
        const pointer = toPointer(path.slice(0, n));
        if (chosen.has(pointer)) throw new InvalidSelectorError(`the beacon member ${toPointer(path)} would be encrypted (selected as ${pointer}); beacons must stay in the clear to be queried`, pointer);
      }
    }
  }
}
