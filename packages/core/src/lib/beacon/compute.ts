import { InvalidArgumentError } from '../../errors.js';
import { BEACON_SEPARATOR, beaconDigits, deriveFieldKey } from './derive.js';
import type { CompiledField, IndexState } from './fields.js';
import { getRootKey, type BeaconKeyHandle } from './state.js';

/** The beacon of an already normalized value under one key. */
export async function computeWith(state: IndexState, key: BeaconKeyHandle, field: CompiledField, normalized: string): Promise<string> {
  // Checked on every call, so destroying a key stops beacons even where its field keys are cached;
  // the cached field keys of a destroyed key are zeroed and dropped on the way.
  if (getRootKey(key) === undefined) {
    for (const [k, pending] of state.fieldKeys) {
      if (!k.startsWith(`${key.id}\0`)) continue;
      state.fieldKeys.delete(k);
      pending.then((bytes) => bytes.fill(0), () => {});
    }
    throw new InvalidArgumentError(`beacon key "${key.id}" was destroyed`);
  }
  const cacheKey = `${key.id}\0${field.name}`;
  let fieldKey = state.fieldKeys.get(cacheKey);
  if (fieldKey === undefined) {
    fieldKey = deriveFieldKey(getRootKey(key)!, field.name);
    state.fieldKeys.set(cacheKey, fieldKey);
    fieldKey.catch(() => state.fieldKeys.delete(cacheKey));
  }
  return key.id + BEACON_SEPARATOR + (await beaconDigits(await fieldKey, normalized, field.bits));
}

/** Split a stored beacon into key id and digits; undefined when it is not `<id>:<hex>`. */
export function parseBeacon(beacon: unknown): { keyId: string; digits: string } | undefined {
  if (typeof beacon !== 'string' || beacon.length > 64) return undefined;
  const m = /^([A-Za-z0-9_-]{1,32}):([0-9a-f]{1,16})$/.exec(beacon);
  return m ? { keyId: m[1]!, digits: m[2]! } : undefined;
}
