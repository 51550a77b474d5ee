/**
 * Beacon normalizers: the declared steps that make equal values give equal beacons.
 * @module
 */

/**
 * A built-in normalization step. Each is specified byte-exactly in `docs/BEACONS.md`, so another
 * implementation computes the same beacons:
 *
 * - `nfc`, `nfkc`: Unicode normalization forms C and KC.
 * - `trim`: remove leading and trailing Unicode `White_Space` characters and U+FEFF.
 * - `collapse-whitespace`: replace each run of those characters with one U+0020.
 * - `lowercase`: Unicode default (locale-independent) lowercase mapping.
 * - `ascii-lowercase`: map only `A`–`Z` to `a`–`z`.
 * - `digits`: keep only the ASCII digits `0`–`9`.
 */
export type BeaconNormalizerStep = 'nfc' | 'nfkc' | 'trim' | 'collapse-whitespace' | 'lowercase' | 'ascii-lowercase' | 'digits';

/**
 * An application-defined step: a pure function of a string. It must be total and deterministic;
 * if it throws or returns anything but a string, the beacon operation fails with
 * `ERR_FIELDSEAL_MALFORMED` (without the value). Other implementations cannot reproduce it from
 * the format alone, so prefer the built-in steps.
 */
export type BeaconNormalizerFunction = (value: string) => string;

/** Named step lists for common fields; see {@link BEACON_NORMALIZER_PRESETS}. */
export type BeaconNormalizerPreset = 'email' | 'phone' | 'ssn' | 'exact';

/** How a field's values are normalized before their beacon is computed: a preset or a list of steps applied in order. */
export type BeaconNormalizer = BeaconNormalizerPreset | readonly (BeaconNormalizerStep | BeaconNormalizerFunction)[];

/**
 * The steps behind each preset:
 *
 * - `email`: `nfc`, `trim`, `lowercase` (`" Alice@Example.COM"` and `"alice@example.com"` match).
 * - `phone`, `ssn`: `nfkc`, `digits` (`"+1 (555) 010-9999"` and `"15550109999"` match; NFKC first
 *   turns full-width digits into ASCII ones).
 * - `exact`: `nfc` only (the default when a field declares no normalizer).
 */
export const BEACON_NORMALIZER_PRESETS: Readonly<Record<BeaconNormalizerPreset, readonly BeaconNormalizerStep[]>> = Object.freeze({
  email: Object.freeze(['nfc', 'trim', 'lowercase'] as const),
  phone: Object.freeze(['nfkc', 'digits'] as const),
  ssn: Object.freeze(['nfkc', 'digits'] as const),
  exact: Object.freeze(['nfc'] as const),
});
