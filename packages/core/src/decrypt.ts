import { backend as defaultBackend } from '#backend';
import { InvalidArgumentError } from './errors.js';
import type { EncryptionContext, JsonObject, Keyring, Limits } from './types.js';
import type { Backend } from './lib/backend/types.js';
import { contextEntries, refuseInternalContextKeys } from './lib/context.js';
import { SUITE_NAMES, SUITE_V1, isKnownSuite } from './lib/format/constants.js';
import { assertKeyring, callControl } from './lib/keyring-call.js';
import { resolveLimits } from './lib/limits.js';
import { openSealed, type OpenRequest } from './lib/open.js';
import { headerNameOption, readOptions, selectorList } from './lib/options.js';

/** Options of {@link decrypt}. */
export interface DecryptOptions {
  /**
   * Keyring used for every key group of the document (unless `keyrings` names one for the group).
   * With `keyring`, a full decrypt opens every group the header lists.
   */
  readonly keyring?: Keyring;
  /**
   * Keyrings per key group name. Without `keyring`, only these groups are opened (the others stay
   * sealed and the header is kept), and by default each of them is expected: see `expectGroups`.
   */
  readonly keyrings?: Readonly<Record<string, Keyring>>;
  /**
   * Key groups the document must have. Each one is verified (its data key unwrapped, its key
   * commitment and header MAC checked) even when none of its fields is opened, so the header, and
   * with it which paths each group covers, is authenticated by every expected group's key: a holder
   * of one group's keyring can then neither drop another group nor move its paths into its own group.
   * A missing expected group is an {@link IncompleteError}.
   *
   * Default: the group names of `keyrings`. `false` turns the check off (any group set the header
   * lists is accepted, and a group is verified only when its fields are opened); do that only when
   * every holder of every group's key is trusted to write every field. See docs/SECURITY.md.
   */
  readonly expectGroups?: readonly string[] | false;
  /**
   * The oldest algorithm suite accepted (1 or 2; default 1). Suite 2, which encrypt writes, binds
   * each key group's name into its key wrap, so a data key wrapped for one group never opens as
   * another group's, even where groups share a key-encryption key. Set 2 once every stored document
   * has been re-encrypted (`fieldseal rotate --mode reencrypt`; {@link inspect} shows a document's
   * suite); an older document then fails with `ERR_FIELDSEAL_UNSUPPORTED_VERSION`.
   */
  readonly minSuite?: number;
  /**
   * The context the caller expects: every pair must match the document's stored context, and the
   * values of its required-but-not-stored keys must be supplied here.
   */
  readonly context?: EncryptionContext;
  /** Partial decrypt: only fields matching these selectors (others stay encrypted, header kept). */
  readonly paths?: readonly string[];
  /** Partial decrypt: only these key groups (each must be in the document). */
  readonly groups?: readonly string[];
  /** With `paths`: a selector that matches no encrypted field is an error. */
  readonly strict?: boolean;
  /** Name of the reserved header property. Default `_fieldseal`. */
  readonly headerName?: string;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
  /**
   * Cancels the operation: decrypt rejects with `ERR_FIELDSEAL_ABORTED` as soon as it fires, and
   * every keyring call in flight is passed a signal that fires too (`UnwrapRequest.signal`).
   */
  readonly signal?: AbortSignal;
  /**
   * Deadline of each keyring call, in milliseconds (1 to 2,147,483,647). Default 30,000. A call that
   * has not answered by then fails with `ERR_FIELDSEAL_PROVIDER` (`kind: 'unavailable'`,
   * `retryable: true`) and its signal fires.
   */
  readonly keyringTimeoutMs?: number;
}

const DECRYPT_OPTIONS = ['keyring', 'keyrings', 'expectGroups', 'minSuite', 'context', 'paths', 'groups', 'strict', 'headerName', 'limits', 'signal', 'keyringTimeoutMs'] as const;

/** @internal Snapshot a map of group names to keyrings (read once, checked). */
export function keyringMap(value: unknown, what: string): Map<string, Keyring> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw new InvalidArgumentError(`${what} must map group names to keyrings`);
  const out = new Map<string, Keyring>();
  let names: string[];
  try {
    names = Object.keys(value);
  } catch (cause) {
    throw new InvalidArgumentError(`${what} could not be read`, { cause });
  }
  for (const name of names) {
    let k: unknown;
    try {
      k = (value as Record<string, unknown>)[name];
    } catch (cause) {
      throw new InvalidArgumentError(`${what} could not be read`, { cause });
    }
    assertKeyring(k, `${what}["${name}"]`);
    out.set(name, k);
  }
  return out;
}

/** @internal The `minSuite` option: a suite this build knows, default the oldest. */
export function minSuiteOption(value: unknown): number {
  if (value === undefined) return SUITE_V1;
  if (typeof value !== 'number' || !isKnownSuite(value)) throw new InvalidArgumentError(`minSuite must be one of ${Object.keys(SUITE_NAMES).join(', ')}`);
  return value;
}

/** @internal Build the open request shared by decrypt, rewrap and reencrypt. */
export function openRequestFrom(options: DecryptOptions, extra: Partial<OpenRequest> = {}): OpenRequest {
  const o = readOptions(options, 'decrypt', DECRYPT_OPTIONS);
  const limits = resolveLimits(o.limits as Partial<Limits> | undefined);
  const control = callControl(o.signal, o.keyringTimeoutMs);
  const keyring = o.keyring;
  if (keyring !== undefined) assertKeyring(keyring, 'keyring');
  const keyrings = keyringMap(o.keyrings, 'keyrings');
  if (keyring === undefined && keyrings === undefined) throw new InvalidArgumentError('decrypt needs a keyring or keyrings');
  const expected = contextEntries(o.context, 'context', limits.maxContextPairs);
  refuseInternalContextKeys(expected, 'context');
  const named = keyrings !== undefined ? [...keyrings.keys()] : [];
  const expectGroups = o.expectGroups === undefined ? named : o.expectGroups === false ? [] : selectorList(o.expectGroups, 'expectGroups');
  return {
    minSuite: minSuiteOption(o.minSuite),
    keyringFor: (group) => keyrings?.get(group) ?? (keyring as Keyring | undefined),
    expected,
    ...(o.paths !== undefined ? { selectors: selectorList(o.paths, 'paths') } : {}),
    ...(o.groups !== undefined ? { groups: selectorList(o.groups, 'groups') } : {}),
    // Without a keyring for every group, open only the groups a keyring is named for.
    ...(keyring === undefined ? { available: named } : {}),
    expectGroups,
    headerName: headerNameOption(o.headerName),
    strict: o.strict === true,
    limits,
    control,
    ...extra,
  };
}

/** @internal Decrypt with an explicit crypto backend (tests run both). */
export async function decryptWith(backend: Backend, sealed: unknown, options: DecryptOptions): Promise<JsonObject> {
  const req = openRequestFrom(options);
  const opened = await openSealed(backend, sealed, req);
  if (opened.complete) delete opened.document[req.headerName];
  return opened.document;
}

/**
 * Decrypts a sealed document, entirely or partially.
 *
 * Before any field is decrypted: the header is decoded within limits, the expected context is
 * checked, every targeted field is checked present and encrypted and no unlisted ciphertext may
 * appear (completeness), each needed data key is unwrapped by a configured keyring only, and its
 * key commitment and the header MAC are verified in constant time. A full decrypt removes the
 * header; a partial one keeps it, with the other fields still encrypted.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { decrypt } from '@fieldseal/core';
 * const record = await decrypt(sealed, { keyring, context: { tenant: 't1', rowId: '42' } });
 * // Key groups: opens both groups and expects both, so a holder of one group's key cannot drop or
 * // rewrite the other; with only `{ contact }` it opens the contact fields and keeps the rest sealed.
 * const full = await decrypt(sealed, { keyrings: { contact, restricted }, context: { tenant: 't1', rowId: '42' } });
 * ```
 * @typeParam T The type you expect back, for example the interface you sealed. Not checked at run
 * time: the opened document is the JSON data that was sealed (fields a partial open leaves sealed
 * stay strings), so validate it, e.g. with a schema, where that matters. Defaults to {@link JsonObject}.
 * @param sealed A document produced by {@link encrypt}.
 * @param options Keyring(s), the expected context, optional partial selection.
 * @returns A new document with the targeted fields restored to their original JSON values.
 * @throws {DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` when anything fails authentication (also when a required context value is wrong).
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` when an expected pair differs or a required key is missing.
 * @throws {IncompleteError} `ERR_FIELDSEAL_INCOMPLETE` when a field was removed, duplicated or replaced by plaintext, the header is missing, or an expected key group is missing.
 * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no configured keyring can unwrap a needed data key.
 * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` for malformed input, header or field blobs.
 * @throws {UnsupportedVersionError} `ERR_FIELDSEAL_UNSUPPORTED_VERSION` for an unknown format version or suite, or a suite older than `minSuite`.
 * @throws {LimitExceededError} `ERR_FIELDSEAL_LIMIT_EXCEEDED` when a limit is exceeded (e.g. wrapped keys per group).
 * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` with `retryable: true` when a keyring call runs past `keyringTimeoutMs`.
 * @throws {AbortedError} `ERR_FIELDSEAL_ABORTED` when `signal` fires.
 *
 * Key-service calls are bounded: each key group's wrapped keys reach the keyring with at most one
 * entry per provider and key id (the first), so a forged header listing the same key many times
 * costs one unwrap per key group and configured key, not one per entry.
 */
export function decrypt<T = JsonObject>(sealed: object, options: DecryptOptions): Promise<T> {
  return decryptWith(defaultBackend, sealed, options) as Promise<T>;
}
