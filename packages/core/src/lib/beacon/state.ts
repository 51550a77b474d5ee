/**
 * What lib/ knows of a BeaconKey: its id, and its identity as the key of the root-key map. The class
 * itself lives in beacons/beacon-key.ts, which depends on lib/, never the other way round.
 */
export interface BeaconKeyHandle {
  readonly id: string;
}

/*
 * Root keys live here rather than on the BeaconKey instance, so they are not reachable through the
 * public object (no property, no JSON.stringify, no console.log/util.inspect output).
 */
const rootKeys = new WeakMap<BeaconKeyHandle, Uint8Array>();

export function setRootKey(key: BeaconKeyHandle, root: Uint8Array): void {
  rootKeys.set(key, root);
}

/** The root key bytes, or undefined once destroyed. Callers must not keep or modify them. */
export function getRootKey(key: BeaconKeyHandle): Uint8Array | undefined {
  return rootKeys.get(key);
}

export function dropRootKey(key: BeaconKeyHandle): void {
  rootKeys.get(key)?.fill(0);
  rootKeys.delete(key);
}

/** Key ids: short, so they can prefix every beacon; no ":" so the prefix always parses. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
