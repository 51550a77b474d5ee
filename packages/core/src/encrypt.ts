import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from './errors.js';
import type { EncryptionContext, JsonObject, Keyring, Limits } from './types.js';
import type { Backend } from './lib/backend/types.js';
import { contextEntries, refuseInternalContextKeys } from './lib/context.js';
import { CURRENT_SUITE, DEFAULT_GROUP } from './lib/format/constants.js';
import { cloneDocument } from './lib/json.js';
import { assertKeyring, callControl } from './lib/keyring-call.js';
import { resolveLimits } from './lib/limits.js';
import { arrayOption, headerNameOption, readOptions, selectorList } from './lib/options.js';
import { checkGroupName, planSelections, sealPlanned } from './lib/seal.js';
import { addBeaconsInPlace } from './beacons/add-beacons.js';
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
  /**
   * Cancels the operation: encrypt rejects with `ERR_FIELDSEAL_ABORTED` as soon as it fires, and
   * every keyring call in flight is passed a signal that fires too (`WrapRequest.signal`).
   */
  readonly signal?: AbortSignal;
  /**
   * Deadline of each keyring call, in milliseconds (1 to 2,147,483,647). Default 30,000. A call that
   * has not answered by then fails with `ERR_FIELDSEAL_PROVIDER` (`kind: 'unavailable'`,
   * `retryable: true`) and its signal fires, so a key service that never answers cannot hang encrypt.
   */
  readonly keyringTimeoutMs?: number;
}

const ENCRYPT_OPTIONS = ['keyring', 'paths', 'groups', 'context', 'requiredContext', 'strict', 'headerName', 'limits', 'beacons', 'signal', 'keyringTimeoutMs'] as const;

/**
 * @internal Encrypt with an explicit crypto backend (tests run both). `suite` is for the vector
 * tests, which replay documents of every suite; the public API writes only the current one.
 */
export async function encryptWith(backend: Backend, document: unknown, options: EncryptOptions, suite: number = CURRENT_SUITE): Promise<JsonObject> {
  /* Precondition: options is an object with at least one keyring and valid selectors; each option is read once. */
  const o = readOptions(options, 'encrypt', ENCRYPT_OPTIONS);
  const limits = resolveLimits(o.limits as Partial<Limits> | undefined);
  const control = callControl(o.signal, o.keyringTimeoutMs);
  const headerName = headerNameOption(o.headerName);
  const groups: { name: string; keyring: Keyring; selectors: readonly string[] }[] = [];
  if (o.keyring !== undefined || o.paths !== undefined) {
    assertKeyring(o.keyring, 'keyring');
    groups.push({ name: DEFAULT_GROUP, keyring: o.keyring, selectors: o.paths === undefined ? [] : selectorList(o.paths, 'paths') });
  }
  if (o.groups !== undefined) {
    for (const raw of arrayOption(o.groups, 'groups', limits.maxGroups)) {
      const g = readOptions(raw, 'key group', ['name', 'keyring', 'paths'] as const);
      const name = checkGroupName(g.name);
      if (groups.some((x) => x.name === name)) throw new InvalidArgumentError(`key group "${name}" is defined twice`);
      assertKeyring(g.keyring, `keyring of key group "${name}"`);
      groups.push({ name, keyring: g.keyring, selectors: selectorList(g.paths, `paths of key group "${name}"`) });
    }
  }
  if (groups.length === 0) throw new InvalidArgumentError('encrypt needs a keyring (and paths) or groups');
  if (groups.length > limits.maxGroups) throw new InvalidArgumentError(`at most ${limits.maxGroups} key groups`);
  const stored = contextEntries(o.context, 'context', limits.maxContextPairs);
  const required = contextEntries(o.requiredContext, 'requiredContext', limits.maxContextPairs);
  refuseInternalContextKeys(stored, 'context');
  refuseInternalContextKeys(required, 'requiredContext');
  for (const r of required) if (stored.some((s) => s.key === r.key)) throw new InvalidArgumentError(`context key "${r.key}" is both stored and required`);
  if (stored.length + required.length > limits.maxContextPairs) throw new InvalidArgumentError(`at most ${limits.maxContextPairs} context pairs in all`);

  let doc = cloneDocument(document, limits.maxDepth);
  if (Object.prototype.hasOwnProperty.call(doc, headerName)) throw new InvalidArgumentError(`the document already has a "${headerName}" property: it is sealed already, or use another headerName`);
  // Beacons are computed from the plaintext, so they are written before anything is sealed.
  const beacons = o.beacons as BeaconIndex | undefined;
  // encrypt owns this clone, so the beacons are written into it (one copy, at the caller's maxDepth).
  if (beacons !== undefined) doc = await addBeaconsInPlace(doc, beacons);
  const plans = planSelections(doc, groups, headerName, o.strict === true, limits);
  if (beacons !== undefined) assertBeaconsNotSelected(doc, beacons, plans.flatMap((p) => p.fields), headerName);
  return sealPlanned(backend, doc, plans, stored, required, headerName, limits, control, suite);
}

/**
 * Encrypts the selected fields of a JSON document (envelope encryption, format v1).
 *
 * Every selected value (any JSON type) is replaced by an AES-256-GCM ciphertext string bound to
 * its JSON Pointer, the document's random message id, its key group and the full encryption
 * context; a header property (`_fieldseal`) holds the wrapped data keys, key commitments, the
 * authenticated field list and the header MACs. The input is not modified.
 *
 * Each option is read once. What a keyring returns is checked and copied before use (see
 * {@link Keyring}): a 32-byte data key that is not all zeros, well-formed wrapped keys none of which
 * contains the data key; a keyring's own errors become typed errors that keep the original as
 * `cause`, and each keyring call has a deadline (`keyringTimeoutMs`).
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
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` for reserved context keys (`fieldseal:` and `fieldseal.`).
 * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when a key service fails, a keyring throws an
 *   error that is not a fieldseal error (kept as `cause`), or a keyring call runs past
 *   `keyringTimeoutMs` (`retryable: true`).
 * @throws {AbortedError} `ERR_FIELDSEAL_ABORTED` when `signal` fires.
 */
export function encrypt<T extends object>(document: T, options: EncryptOptions): Promise<JsonObject> {
  return encryptWith(defaultBackend, document, options);
}
