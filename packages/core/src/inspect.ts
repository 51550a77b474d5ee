import { backend as defaultBackend } from '#backend';
import type { EncryptionContext, JsonObject, Limits } from './types.js';
import { entriesToRecord } from './lib/context.js';
import { CURRENT_SUITE, SUITE_NAMES } from './lib/format/constants.js';

/**
 * The algorithm suite `encrypt` writes (2: key groups bound into the key wraps, docs/FORMAT.md §5.1).
 * A document whose `inspect(...).suite.id` is lower was written by an earlier version; `reencrypt`
 * moves it to this suite.
 *
 * Importable from `@fieldseal/core`.
 */
export const CURRENT_SUITE_ID: number = CURRENT_SUITE;
import { resolveLimits } from './lib/limits.js';
import { headerNameOption, optionsObject } from './lib/options.js';
import { FieldsealError, IncompleteError, InvalidArgumentError, MalformedError } from './errors.js';
import { decodeHeader } from './lib/format/header.js';

/** A wrapped key as {@link inspect} shows it: who wrapped it, never its bytes. */
export interface InspectedWrappedKey {
  readonly provider: string;
  readonly keyId: string;
}

/** One key group as {@link inspect} shows it. */
export interface InspectedGroup {
  readonly name: string;
  /** RFC 6901 JSON Pointers of the fields this group encrypted. */
  readonly fields: readonly string[];
  readonly wrappedKeys: readonly InspectedWrappedKey[];
}

/** What {@link inspect} returns. Contains no secret: no key bytes, no wrapped keys, no plaintext. */
export interface InspectResult {
  readonly version: number;
  readonly suite: { readonly id: number; readonly name: string };
  /** base64url of the 256-bit message id. */
  readonly messageId: string;
  /** The stored encryption context. */
  readonly context: EncryptionContext;
  /** Names of context keys that are bound but not stored (their values must be supplied to decrypt). */
  readonly requiredContextKeys: readonly string[];
  readonly groups: readonly InspectedGroup[];
  /** Size of the decoded header in bytes. */
  readonly headerBytes: number;
}

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Name of the reserved header property. Default `_fieldseal`. */
  readonly headerName?: string;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
}

/**
 * Describes a sealed document's header without any key: version, suite, context, and per key
 * group the encrypted fields and which provider/key wrapped the data key. Structure is validated;
 * authenticity is not (that needs a key: use {@link decrypt}). The basis of rotation predicates.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { inspect } from '@fieldseal/core';
 * const info = inspect(sealed);
 * console.log(info.groups.map((g) => g.wrappedKeys.map((k) => k.keyId)));
 * ```
 * @param sealed A sealed document.
 * @param options Header name and limits.
 * @returns The header summary.
 * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` for a malformed header.
 * @throws {IncompleteError} `ERR_FIELDSEAL_INCOMPLETE` when there is no header.
 * @throws {UnsupportedVersionError} `ERR_FIELDSEAL_UNSUPPORTED_VERSION` for an unknown version or suite.
 */
export function inspect(sealed: JsonObject, options: InspectOptions = {}): InspectResult {
  optionsObject(options, 'inspect');
  let limits: Limits;
  let headerName: string;
  try {
    limits = resolveLimits(options.limits);
    headerName = headerNameOption(options.headerName);
  } catch (err) {
    if (err instanceof FieldsealError) throw err;
    // A getter or a Proxy trap of the caller's options threw; its error may quote data.
    throw new InvalidArgumentError('inspect options could not be read (a getter or an exotic object threw)');
  }
  // Only the header is read: no copy of the (possibly large) document, and no getter is invoked.
  if (sealed === null || typeof sealed !== 'object') throw new MalformedError('sealed document must be a JSON object');
  let property: PropertyDescriptor | undefined;
  try {
    // Array.isArray throws on a revoked Proxy.
    if (Array.isArray(sealed)) throw new MalformedError('sealed document must be a JSON object');
    property = Object.getOwnPropertyDescriptor(sealed, headerName);
  } catch (err) {
    if (err instanceof FieldsealError) throw err;
    // Only an exotic object (a Proxy whose trap threw or broke an invariant) gets here.
    throw new MalformedError('sealed document could not be read as JSON data (an exotic object refused a read)');
  }
  if (property === undefined) throw new IncompleteError(`the document has no "${headerName}" header: it is not sealed, or the header was removed`);
  if (!('value' in property)) throw new MalformedError('the header is an accessor property');
  const header = decodeHeader(defaultBackend, property.value, limits);
  return {
    version: header.version,
    suite: { id: header.suite, name: SUITE_NAMES[header.suite] ?? 'unknown' },
    messageId: defaultBackend.base64urlEncode(header.messageId),
    context: entriesToRecord(header.storedContext),
    requiredContextKeys: [...header.requiredKeys],
    groups: header.groups.map((g) => ({
      name: g.name,
      fields: [...g.pointers],
      wrappedKeys: g.wrapped.map((k) => ({ provider: k.provider, keyId: k.keyId })),
    })),
    headerBytes: header.body.length + header.macs.reduce((n, m) => n + m.length, 0),
  };
}
