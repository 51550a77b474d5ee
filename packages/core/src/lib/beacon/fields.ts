import { InvalidArgumentError, InvalidSelectorError } from '../../errors.js';
import { BEACON_BITS_RANGE, beaconLengthBounds, UnsafeBeaconLengthError } from '../../beacons/beacon-length.js';
import type { BeaconNormalizer } from '../../beacons/normalizers.js';
import { DEFAULT_HEADER_NAME } from '../format/constants.js';
import { compileSelector, type CompiledSelector } from '../selector.js';
import { compileNormalizer, type CompiledNormalizer } from './normalize.js';
import type { BeaconKeyHandle } from './state.js';

/** How one field gets its beacons. */
export interface BeaconFieldOptions {
  /**
   * Bits of the HMAC kept in the beacon (1 to 64). Fewer bits: more values share a beacon (more false
   * positives to filter, less leaked). Must lie in {@link beaconLengthBounds}`(distinctValues)` unless
   * `allowUnsafeLength` is set.
   */
  readonly bits: number;
  /** The number of distinct values you expect the field to hold; checks `bits`. Required unless `allowUnsafeLength`. */
  readonly distinctValues?: number;
  /** Accept a length outside the safe range (or no `distinctValues`). Read `docs/BEACONS.md` "Security" first. */
  readonly allowUnsafeLength?: boolean;
  /** How values are normalized before hashing. Default `exact` (NFC only). */
  readonly normalize?: BeaconNormalizer;
  /**
   * Where the value sits in a document (fieldseal's JSONPath subset, ending in one member name:
   * `$.email`, `$.contacts[*].email`). Needed by {@link addBeacons}, {@link computeBeacons} and
   * {@link verifyBeacons}; leave it out for a field you only beacon through {@link BeaconIndex.beacon}.
   */
  readonly path?: string;
  /** The member written beside the value, in the same object. Default: the value's member name + `_bidx`. */
  readonly target?: string;
}

/** Field names feed the HKDF info; a small alphabet keeps them unambiguous in every language. */
export const FIELD_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export interface CompiledField {
  readonly name: string;
  readonly bits: number;
  readonly normalizer: CompiledNormalizer;
  /** Where the value sits in a document, and the member written beside it (absent: column-only field). */
  readonly placement?: {
    readonly source: CompiledSelector;
    /** The same parent segments ending in the target member: finds beacons whose source is gone. */
    readonly targetSelector: CompiledSelector;
    readonly target: string;
  };
}

export interface IndexState {
  readonly keys: readonly BeaconKeyHandle[];
  readonly fields: ReadonlyMap<string, CompiledField>;
  /** Derived HMAC keys by `${keyId}\0${field}`; promises so concurrent first uses derive once. */
  readonly fieldKeys: Map<string, Promise<Uint8Array>>;
}

// Keyed by the BeaconIndex instance (beacons/beacon-index.ts), which depends on this file.
const states = new WeakMap<object, IndexState>();

export function setIndexState(index: object, state: IndexState): void {
  states.set(index, state);
}

export function getIndexState(index: unknown): IndexState {
  const s = typeof index === 'object' && index !== null ? states.get(index) : undefined;
  if (s === undefined) throw new InvalidArgumentError('expected a BeaconIndex');
  return s;
}

function own(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  return d && 'value' in d ? d.value : undefined;
}

/** Precondition checks for one field declaration; every failure is a typed configuration error. */
export function compileField(name: string, options: BeaconFieldOptions): CompiledField {
  if (!FIELD_NAME_PATTERN.test(name)) throw new InvalidArgumentError(`beacon field names are 1 to 128 characters of A-Z a-z 0-9 _ . - (got ${JSON.stringify(name.slice(0, 40))})`);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`beacon field "${name}": options must be an object`);
  const bits = own(options, 'bits');
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < BEACON_BITS_RANGE.min || bits > BEACON_BITS_RANGE.max) {
    throw new InvalidArgumentError(`beacon field "${name}": bits must be an integer from ${BEACON_BITS_RANGE.min} to ${BEACON_BITS_RANGE.max}`);
  }
  const allowUnsafe = own(options, 'allowUnsafeLength');
  if (allowUnsafe !== undefined && typeof allowUnsafe !== 'boolean') throw new InvalidArgumentError(`beacon field "${name}": allowUnsafeLength must be a boolean`);
  const distinct = own(options, 'distinctValues');
  if (distinct === undefined) {
    if (allowUnsafe !== true) throw new InvalidArgumentError(`beacon field "${name}": declare distinctValues (the expected number of distinct values) so the length can be checked, or set allowUnsafeLength`);
  } else {
    const bounds = beaconLengthBounds(distinct as number);
    const safe = bounds !== undefined && bits >= bounds.min && bits <= bounds.max;
    if (!safe && allowUnsafe !== true) throw new UnsafeBeaconLengthError(name, bits, distinct as number, bounds);
  }
  const normalizer = compileNormalizer(own(options, 'normalize') as BeaconFieldOptions['normalize'], name);
  const path = own(options, 'path');
  const targetOption = own(options, 'target');
  if (path === undefined) {
    if (targetOption !== undefined) throw new InvalidArgumentError(`beacon field "${name}": target needs a path`);
    return Object.freeze({ name, bits, normalizer });
  }
  const source = compileSelector(path);
  const last = source.segments[source.segments.length - 1]!;
  const only = last.selectors.length === 1 ? last.selectors[0] : undefined;
  // The beacon is written beside its value, in the same object, so the value must be an object member.
  if (only === undefined || only.kind !== 'name') throw new InvalidSelectorError(`beacon field "${name}": the path must end in one member name (the beacon is written beside it)`, source.source);
  const target = targetOption === undefined ? `${only.name}_bidx` : targetOption;
  if (typeof target !== 'string' || target.length === 0 || target.length > 255 || !target.isWellFormed()) throw new InvalidArgumentError(`beacon field "${name}": target must be a member name of 1 to 255 characters`);
  if (target === only.name) throw new InvalidArgumentError(`beacon field "${name}": target must differ from the value's own member name`);
  if (target === DEFAULT_HEADER_NAME && source.segments.length === 1 && !last.descendant) throw new InvalidArgumentError(`beacon field "${name}": target must not be the sealed document's header member`);
  const targetSelector: CompiledSelector = Object.freeze({
    source: `${source.source} -> ${target}`,
    segments: [...source.segments.slice(0, -1), { descendant: last.descendant, selectors: [{ kind: 'name' as const, name: target }] }],
    // The last segment stays one member name with the same descendant flag.
    singular: source.singular,
  });
  return Object.freeze({ name, bits, normalizer, placement: Object.freeze({ source, targetSelector, target }) });
}
