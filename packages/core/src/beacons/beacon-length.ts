/**
 * Choosing how many bits a beacon keeps.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';

/** Fewest and most bits a beacon may keep (the encoding reads the first 8 bytes of the HMAC). */
export const BEACON_BITS_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 1, max: 64 });

/** The safe range of beacon lengths for a field, from {@link beaconLengthBounds}. */
export interface BeaconLengthBounds {
  /** Shortest safe length: the smallest `N` with `sqrt(X) < 2^N`. */
  readonly min: number;
  /** Longest safe length: the largest `N` with `2^N < X / 2`. */
  readonly max: number;
}

/**
 * The range of beacon lengths `N` (in bits) that satisfy `sqrt(X) < 2^N < X / 2` for a field
 * expected to hold `X` distinct values (the rule the AWS Database Encryption SDK publishes).
 *
 * Below `min`, each beacon is shared by more than `sqrt(X)` distinct values and lookups read too many
 * rows. Above `max`, beacons are shared by fewer than two distinct values on average, so a beacon
 * tends to identify one value and the column leaks the full equality pattern and frequency of the
 * plaintexts, like deterministic encryption. Returns `undefined` when no length satisfies both
 * (fewer than 17 distinct values): such fields should not get beacons.
 *
 * @example
 * ```ts
 * import { beaconLengthBounds } from '@fieldseal/core';
 * beaconLengthBounds(10_000); // { min: 7, max: 12 }
 * ```
 * @param distinctValues The expected number of distinct values of the field (a positive safe integer).
 * @returns The safe range, or `undefined` when it is empty.
 * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `distinctValues` is not a positive safe integer.
 */
export function beaconLengthBounds(distinctValues: number): BeaconLengthBounds | undefined {
  if (typeof distinctValues !== 'number' || !Number.isSafeInteger(distinctValues) || distinctValues < 1) {
    throw new InvalidArgumentError('distinctValues must be a positive safe integer');
  }
  // Integer arithmetic: sqrt(X) < 2^N  <=>  4^N > X, and 2^N < X/2  <=>  2^(N+1) < X.
  const x = BigInt(distinctValues);
  let min: number | undefined;
  let max: number | undefined;
  for (let n = BEACON_BITS_RANGE.min; n <= BEACON_BITS_RANGE.max; n++) {
    if (4n ** BigInt(n) > x && 2n ** BigInt(n + 1) < x) {
      min ??= n;
      max = n;
    }
  }
  return min === undefined || max === undefined ? undefined : Object.freeze({ min, max });
}

/**
 * A beacon field's length is outside the safe range for its declared number of distinct values
 * (see {@link beaconLengthBounds}). Set `allowUnsafeLength: true` on the field to accept it
 * deliberately. Its `code` is `ERR_FIELDSEAL_INVALID_ARGUMENT`: a configuration error.
 */
export class UnsafeBeaconLengthError extends InvalidArgumentError {
  /** The beacon field concerned. */
  readonly field: string;
  /** The requested length in bits. */
  readonly bits: number;
  /** The declared number of distinct values. */
  readonly distinctValues: number;
  /** The safe range, or `undefined` when none exists. */
  readonly bounds: BeaconLengthBounds | undefined;
  /** @ignore */
  constructor(field: string, bits: number, distinctValues: number, bounds: BeaconLengthBounds | undefined) {
    super(
      bounds === undefined
        ? `beacon field "${field}": no beacon length is safe for ${distinctValues} distinct values (beacons would reveal the values' frequencies); set allowUnsafeLength to accept this`
        : `beacon field "${field}": ${bits} bits is outside the safe range ${bounds.min}..${bounds.max} for ${distinctValues} distinct values (sqrt(X) < 2^N < X/2); set allowUnsafeLength to accept this`,
    );
    this.field = field;
    this.bits = bits;
    this.distinctValues = distinctValues;
    this.bounds = bounds;
  }
}
