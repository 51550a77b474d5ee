import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from './errors.js';
import type { EncryptionContext, JsonObject, Keyring, Limits } from './types.js';
import type { Backend } from './lib/backend/types.js';
import { contextEntries } from './lib/context.js';
import { DEFAULT_GROUP } from './lib/format/constants.js';
import { cloneDocument } from './lib/json.js';
import { assertKeyring } from './lib/keyring-call.js';
import { resolveLimits } from './lib/limits.js';
import { headerNameOption, optionsObject, selectorList } from './lib/options.js';
import { checkGroupName, planSelections, sealPlanned } from './lib/seal.js';
import { addBeacons } from './beacons/add-beacons.js';
import type { BeaconIndex } from './beacons/beacon-index.js';
import { assertBeaconsNotSelected } from './lib/beacon/targets.js';

/** A key group: the fields selected by `paths` get their own data key, wrapped by `keyring`. */
export interface KeyGroup {
  /** Group name, 1–255 UTF-8 bytes, unique in the document. */
  readonly name: string;
  /** Wraps this group's data key. */
  readonly keyring: Keyring;
  /** JSONPath selectors (fieldseal's RFC 9535 subset) of the fields this group encrypts. */
  readonly paths: readonly string[];
}

/** Options of {@link encrypt}. */
export interface EncryptOptions {
  /** Keyring of the default key group (named `default`). Required unless `groups` is given. */
  readonly keyring?: Keyring;
  /** Selectors of the default group's fields, e.g. `['$.ssn', '$.cards[*].number', '$..email']`. */
  readonly paths?: readonly string[];
  /** Further key groups, for field-level least privilege (a different keyring per set of fields). */
  readonly groups?: readonly KeyGroup[];
  /** Encryption context stored in the header and bound to every field. */
  readonly context?: EncryptionContext;
  /**
   * Encryption context bound to every field but NOT stored (e.g. a row id, a table name): decrypt
   * must be given the same values. Only the key names are stored.
   */
  readonly requiredContext?: EncryptionContext;
  /** When true, a selector that matches nothing is an error. Default false (documents differ). */
  readonly strict?: boolean;
  /** Name of the reserved header property. Default `_fieldseal`. */
  readonly headerName?: string;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
  /**
   * Beacons to write before sealing: each value selected by the index's field paths gets its beacon
   * in a sibling member (`$.email` -> `$.email_bidx`), left in the clear so it can be indexed. Same as
   * encrypting the result of {@link addBeacons}, except that selecting a beacon member (or an object
   * holding one) for encryption is refused with `ERR_FIELDSEAL_INVALID_SELECTOR`.
   * See `docs/BEACONS.md`.
   */
  readonly beacons?: BeaconIndex;
}

/** @internal Encrypt with an explicit crypto backend (tests run both). */
export async function encryptWith(backend: Backend, document: unknown, options: EncryptOptions): Promise<JsonObject> {
  /* Precondition: options is an object with at least one keyring and valid selectors. */
  optionsObject(options, 'encrypt');
  const limits = resolveLimits(options.limits);
  const headerName = headerNameOption(options.headerName);
  const groups: { name: string; keyring: Keyring; selectors: readonly string[] }[] = [];
  if (options.keyring !== undefined || options.paths !== undefined) {
    assertKeyring(options.keyring, 'keyring');
    groups.push({ name: DEFAULT_GROUP, keyring: options.keyring, selectors: options.paths === undefined ? [] : selectorList(options.paths, 'paths') });
  }
  if (options.groups !== undefined) {
    if (!Array.isArray(options.groups)) throw new InvalidArgumentError('groups must be an array');
    for (const g of options.groups as readonly KeyGroup[]) {
      optionsObject(g, 'key group');
      const name = checkGroupName(g.name);
      if (groups.some((x) => x.name === name)) throw new InvalidArgumentError(`key group "${name}" is defined twice`);
      assertKeyring(g.keyring, `keyring of key group "${name}"`);
      groups.push({ name, keyring: g.keyring, selectors: selectorList(g.paths, `paths of key group "${name}"`) });
    }
  }
  if (groups.length === 0) throw new InvalidArgumentError('encrypt needs a keyring (and paths) or groups');
  if (groups.length > limits.maxGroups) throw new InvalidArgumentError(`at most ${limits.maxGroups} key groups`);
  const stored = contextEntries(options.context, 'context', limits.maxContextPairs);
  const required = contextEntries(options.requiredContext, 'requiredContext', limits.maxContextPairs);
  for (const r of required) if (stored.some((s) => s.key === r.key)) throw new InvalidArgumentError(`context key "${r.key}" is both stored and required`);
  if (stored.length + required.length > limits.maxContextPairs) throw new InvalidArgumentError(`at most ${limits.maxContextPairs} context pairs in all`);

  let doc = cloneDocument(document, limits.maxDepth);
  if (Object.prototype.hasOwnProperty.call(doc, headerName)) throw new InvalidArgumentError(`the document already has a "${headerName}" property: it is sealed already, or use another headerName`);
  // Beacons are computed from the plaintext, so they are written before anything is sealed.
  if (options.beacons !== undefined) doc = await addBeacons(doc, options.beacons);
  const plans = planSelections(doc, groups, headerName, options.strict === true, limits);
  if (options.beacons !== undefined) assertBeaconsNotSelected(doc, options.beacons, plans.flatMap((p) => p.fields), headerName);
  return sealPlanned(backend, doc, plans, stored, required, headerName, limits);
}

/**
 * Encrypts the selected fields of a JSON document (envelope encryption, format v1).
 *
 * Every selected value (any JSON type) is replaced by an AES-256-GCM ciphertext string bound to
 * its JSON Pointer, the document's random message id, its key group and the full encryption
 * context; a header property (`_fieldseal`) holds the wrapped data keys, key commitments, the
 * authenticated field list and the header MACs. The input is not modified.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { encrypt, LocalKeyring } from '@fieldseal/core';
 * const keyring = await LocalKeyring.generate({ name: 'main' });
 * const sealed = await encrypt(
 *   { id: 42, name: 'Ada', ssn: '123-45-6789', cards: [{ number: '4111111111111111' }] },
 *   { keyring, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 't1' }, requiredContext: { rowId: '42' } },
 * );
 * ```
 * @typeParam T The document's type: any object type, interfaces included (no index signature needed).
 * @param document A JSON object (plain data only; no class instances, getters or non-finite numbers).
 * @param options Keyring(s), selectors, context, limits.
 * @returns A new document with the selected values encrypted and the header added.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options.
 * @throws {InvalidSelectorError} `ERR_FIELDSEAL_INVALID_SELECTOR` for a selector outside the subset, a strict selector matching nothing, or overlapping selections.
 * @throws {NonJsonValueError} `ERR_FIELDSEAL_MALFORMED` when the document holds a value JSON cannot hold (`undefined`, `Date`, `BigInt`, `Map`, a class instance…); its `pointer` says where.
 * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` when the document is not a JSON object.
 * @throws {LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` when a limit is exceeded (depth, field size, field count…).
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` for reserved context keys.
 * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when a key service fails.
 */
export function encrypt<T extends object>(document: T, options: EncryptOptions): Promise<JsonObject> {
  return encryptWith(defaultBackend, document, options);
}
