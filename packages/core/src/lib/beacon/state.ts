import type { BeaconKey } from '../../beacons/beacon-key.js';

/*
 * Root keys live here rather than on the BeaconKey instance, so they are not reachable through the
 * public object (no property, no JSON.stringify, no console.log/util.inspect output).
 */
const rootKeys = new WeakMap<BeaconKey, Uint8Array>();

export function setRootKey(key: BeaconKey, root: Uint8Array): void {
  rootKeys.set(key, root);
}

/** The root key bytes, or undefined once destroyed. Callers must not keep or modify them. */
export function getRootKey(key: BeaconKey): Uint8Array | undefined {
  return rootKeys.get(key);
}

export function dropRootKey(key: BeaconKey): void {
  rootKeys.get(key)?.fill(0);
  rootKeys.delete(key);
}

/** Key ids: short, so they can prefix every beacon; no ":" so the prefix always parses. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
