/**
 * Beacon configuration and the query-side helper.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { BeaconKey } from './beacon-key.js';
import { computeWith } from '../lib/beacon/compute.js';
import { compileField, getIndexState, setIndexState, type BeaconFieldOptions, type CompiledField, type IndexState } from '../lib/beacon/fields.js';

export type { BeaconFieldOptions } from '../lib/beacon/fields.js';

/** Options of {@link BeaconIndex}. */
export interface BeaconIndexOptions {
  /**
   * The beacon keys. The first is the primary key: documents store its beacon only. With several (a
   * beacon key rotation), {@link BeaconIndex.beacons} returns one beacon per key for queries, so rows
   * not yet backfilled are still found. Several keys emit a process warning (code
   * `FIELDSEAL_BEACON_KEYS`) once per primary key: every query then links a value's beacons under
   * each key, which together leak like one longer beacon (docs/BEACONS.md), so keep rotations short.
   */
  readonly keys: BeaconKey | readonly BeaconKey[];
  /** The beacon fields by name. The name feeds the per-field key derivation: renaming a field changes its beacons. */
  readonly fields: Readonly<Record<string, BeaconFieldOptions>>;
}

/** Options of {@link BeaconIndex.beacon}. */
export interface BeaconOptions {
  /** Compute the beacon under this key id instead of the primary key. */
  readonly keyId?: string;
}

/**
 * Beacons for equality search on encrypted fields: a keyed HMAC-SHA256 of the normalized value,
 * under a per-field key derived from a {@link BeaconKey}, truncated to the field's `bits` and
 * prefixed with the key id (`b1:3fa9`).
 *
 * A beacon reveals which rows share a value (up to the collisions truncation adds) and how often
 * values repeat; it never reveals the value without the key. The encrypted values themselves stay
 * randomized. See `docs/BEACONS.md`.
 *
 * @example
 * ```ts
 * import { BeaconIndex, BeaconKey } from '@fieldseal/core';
 * const key = await BeaconKey.load(document, { keyring });
 * const index = new BeaconIndex({
 *   keys: key,
 *   fields: { email: { path: '$.email', normalize: 'email', bits: 12, distinctValues: 100_000 } },
 * });
 * const bidx = await index.beacon('email', ' Alice@Example.com'); // e.g. "b1:5c1"
 * // SELECT ... WHERE email_bidx = $1, then decrypt the candidates and compare with index.equals().
 * ```
 */
export class BeaconIndex {
  /**
   * Validate the configuration. Key derivation happens lazily, once per key and field.
   *
   * @param options Keys and fields.
   * @throws {@link UnsafeBeaconLengthError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when a field's `bits` is outside the safe range.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for any other invalid option.
   * @throws {@link InvalidSelectorError} `ERR_FIELDSEAL_INVALID_SELECTOR` for an invalid `path`.
   */
  constructor(options: BeaconIndexOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    const keys = options.keys instanceof BeaconKey ? [options.keys] : options.keys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > 8) throw new InvalidArgumentError('keys must be a BeaconKey or a list of 1 to 8 BeaconKeys');
    const ids = new Set<string>();
    for (const k of keys as unknown[]) {
      if (!(k instanceof BeaconKey)) throw new InvalidArgumentError('keys must be BeaconKey instances');
      if (ids.has(k.id)) throw new InvalidArgumentError(`beacon key id "${k.id}" is listed twice`);
      ids.add(k.id);
    }
    const fieldsOption = options.fields;
    if (fieldsOption === null || typeof fieldsOption !== 'object' || Array.isArray(fieldsOption)) throw new InvalidArgumentError('fields must be an object');
    const names = Object.keys(fieldsOption);
    if (names.length === 0 || names.length > 256) throw new InvalidArgumentError('fields must declare 1 to 256 beacon fields');
    const fields = new Map<string, CompiledField>();
    const placements = new Map<string, string>();
    for (const name of names) {
      const d = Object.getOwnPropertyDescriptor(fieldsOption, name);
      const field = compileField(name, (d && 'value' in d ? d.value : undefined) as BeaconFieldOptions);
      if (field.placement) {
        // Two fields writing the same member of the same objects would overwrite each other's beacons.
        const parent = JSON.stringify(field.placement.source.segments.slice(0, -1));
        const last = field.placement.source.segments[field.placement.source.segments.length - 1]!;
        const lastName = last.selectors[0]!.kind === 'name' ? (last.selectors[0] as { name: string }).name : '';
        for (const [member, role] of [[field.placement.target, 'target'], [lastName, 'source']] as const) {
          const slot = JSON.stringify([parent, last.descendant, member]);
          const other = placements.get(slot);
          if (other !== undefined && (role === 'target' || other.endsWith(' target'))) throw new InvalidArgumentError(`beacon fields "${other.split(' ')[0]}" and "${name}" use the same member "${member}"`);
          placements.set(slot, `${name} ${role}`);
        }
      }
      fields.set(name, field);
    }
    const frozenKeys = Object.freeze([...(keys as BeaconKey[])]);
    const state: IndexState = { keys: frozenKeys, fields, fieldKeys: new Map() };
    setIndexState(this, state);
    if (frozenKeys.length > 1) warnSeveralKeys(frozenKeys);
    Object.freeze(this);
  }

  /** The primary key id (the first key). */
  get primaryKeyId(): string {
    return getIndexState(this).keys[0]!.id;
  }

  /** Every key id, primary first. */
  get keyIds(): readonly string[] {
    return getIndexState(this).keys.map((k) => k.id);
  }

  /** The declared field names. */
  get fields(): readonly string[] {
    return [...getIndexState(this).fields.keys()];
  }

  /**
   * The beacon of `value` for `field` under the primary key (or `options.keyId`): what to store in a
   * beacon column and what to compare it with in a query.
   *
   * @param field A declared field name.
   * @param value The plaintext value (a string).
   * @param options Optionally, the key id to use.
   * @returns The beacon, `<key id>:<hex>`.
   * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` when the value is not a string, is not well-formed Unicode or normalizes to `""`.
   * @throws {@link LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` for a value over 65,536 code units.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an unknown field or key id, or a destroyed key.
   */
  async beacon(field: string, value: string, options?: BeaconOptions): Promise<string> {
    const state = getIndexState(this);
    const f = fieldOf(state, field);
    const normalized = f.normalizer.apply(value);
    const key = options?.keyId === undefined ? state.keys[0]! : state.keys.find((k) => k.id === options.keyId);
    if (key === undefined) throw new InvalidArgumentError(`no beacon key with id "${String(options?.keyId).slice(0, 32)}" in this index`);
    return computeWith(state, key, f, normalized);
  }

  /**
   * The beacons of `value` under every key, primary first. Query with all of them during a beacon key
   * rotation (`WHERE email_bidx = ANY($1)`), so rows written under either key are found. Store only
   * {@link BeaconIndex.beacon}'s: the list, stored together, would leak like one beacon of the
   * combined length.
   *
   * @param field A declared field name.
   * @param value The plaintext value.
   * @returns One beacon per key.
   * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` as {@link BeaconIndex.beacon}.
   * @throws {@link InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for an unknown field or a destroyed key.
   */
  async beacons(field: string, value: string): Promise<string[]> {
    const state = getIndexState(this);
    const f = fieldOf(state, field);
    const normalized = f.normalizer.apply(value);
    return Promise.all(state.keys.map((k) => computeWith(state, k, f, normalized)));
  }

  /**
   * The normalized form of `value` for `field`, exactly what is hashed.
   *
   * @param field A declared field name.
   * @param value The plaintext value.
   * @returns The normalized string.
   * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` as {@link BeaconIndex.beacon}.
   */
  normalize(field: string, value: string): string {
    return fieldOf(getIndexState(this), field).normalizer.apply(value);
  }

  /**
   * Whether two plaintexts are equal under `field`'s normalizer: the check that removes beacon false
   * positives after the candidate rows are decrypted.
   *
   * @param field A declared field name.
   * @param a A plaintext value.
   * @param b Another plaintext value.
   * @returns `true` when both normalize to the same string.
   * @throws {@link MalformedError} `ERR_FIELDSEAL_MALFORMED` as {@link BeaconIndex.beacon}.
   */
  equals(field: string, a: string, b: string): boolean {
    const f = fieldOf(getIndexState(this), field);
    return f.normalizer.apply(a) === f.normalizer.apply(b);
  }
}

const warned = new WeakSet<BeaconKey>();

/** Emitted as a process warning where there is one (Node), else on the console; names key ids only. */
function warnSeveralKeys(keys: readonly BeaconKey[]): void {
  if (warned.has(keys[0]!)) return;
  warned.add(keys[0]!);
  const message =
    `a beacon index holds ${keys.length} keys (${keys.map((k) => k.id).join(', ')}): documents store only the primary key's beacon, ` +
    `but each query with index.beacons() links a value's beacons under every key, and together they leak like one beacon of ${keys.length} times the length; ` +
    'finish the rotation and drop the old keys soon (docs/BEACONS.md, beacon key rotation)';
  const proc = (globalThis as { process?: { emitWarning?: (message: string, options: { code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code: 'FIELDSEAL_BEACON_KEYS' });
  else globalThis.console?.warn(message);
}

function fieldOf(state: IndexState, field: string): CompiledField {
  const f = typeof field === 'string' ? state.fields.get(field) : undefined;
  if (f === undefined) throw new InvalidArgumentError(`unknown beacon field ${typeof field === 'string' ? JSON.stringify(field.slice(0, 128)) : `of type ${typeof field}`}`);
  return f;
}
