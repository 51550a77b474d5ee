/**
 * Beacons: keyed blind indexes for equality search on encrypted fields.
 * @module
 */
export { BeaconKey, type BeaconKeyDocument, type BeaconKeyDocumentWrappedKey, type GenerateBeaconKeyOptions, type GenerateBeaconKeyResult, type LoadBeaconKeyOptions, type BeaconKeyToDocumentOptions } from './beacon-key.js';
export { BeaconIndex, type BeaconFieldOptions, type BeaconIndexOptions, type BeaconOptions } from './beacon-index.js';
export { BEACON_BITS_RANGE, beaconLengthBounds, UnsafeBeaconLengthError, type BeaconLengthBounds } from './beacon-length.js';
export { BEACON_NORMALIZER_PRESETS, type BeaconNormalizer, type BeaconNormalizerFunction, type BeaconNormalizerPreset, type BeaconNormalizerStep } from './normalizers.js';
export { computeBeacons, type ComputedBeacon } from './compute-beacons.js';
export { addBeacons } from './add-beacons.js';
export { verifyBeacons, type BeaconIssue, type BeaconIssueReason, type VerifyBeaconsResult } from './verify-beacons.js';
export { updateBeacons, type UpdateBeaconsOptions, type UpdateBeaconsResult } from './update-beacons.js';
