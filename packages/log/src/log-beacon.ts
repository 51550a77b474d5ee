import { computeLogBeacon, logBeaconKey } from './lib/beacon.js';

/**
 * The beacon that `beacon` mode writes for a value: compute it for the value you are looking for,
 * then search the logs for it. `lb1.` ‖ base64url of the first 16 bytes of
 * HMAC-SHA256(key, "fieldseal/v1/log-beacon\0" ‖ UTF-8 of the string, or of its JSON for other values).
 *
 * Importable from `@fieldseal/log`.
 *
 * @example
 * ```ts
 * import { logBeacon } from '@fieldseal/log';
 * const needle = logBeacon(beaconKey, 'ada@example.com'); // grep the logs for it
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key is not 32 bytes.
 */
export function logBeacon(key: Uint8Array, value: unknown): string {
  return computeLogBeacon(logBeaconKey(key), value);
}
