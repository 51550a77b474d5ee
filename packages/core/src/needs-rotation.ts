import { InvalidArgumentError } from './errors.js';
import { inspect, type InspectOptions } from './inspect.js';
import type { JsonObject } from './types.js';

/** Which key a document must be wrapped under to count as current, for {@link needsRotation}. */
export interface RotationTarget {
  /** Provider id the wrapped keys must come from (e.g. `local`, `aws-kms`). Any provider when omitted. */
  readonly provider?: string;
  /**
   * The key id, matched exactly (string), by pattern (RegExp), or by a function. For key ids that
   * carry a version (`main/v7`, `transit/orders:v7`, `.../cryptoKeyVersions/7`) pair a pattern
   * with {@link RotationTarget.minVersion}.
   */
  readonly keyId: string | RegExp | ((keyId: string) => boolean);
  /**
   * Minimum key version: a key id whose trailing version (`/v7`, `:v7`, `/cryptoKeyVersions/7`)
   * is lower, or that has no recognisable version, does not count as current.
   */
  readonly minVersion?: number;
}

/**
 * The trailing integer version of a key id (`main/v7` -> 7, `transit/orders:v3` -> 3,
 * `.../cryptoKeyVersions/12` -> 12), or `undefined` when the id carries none.
 *
 * Importable from `@fieldseal/core`.
 *
 * @param keyId A key id as {@link inspect} shows it.
 * @returns The version number, or `undefined`.
 */
export function keyVersionOf(keyId: string): number | undefined {
  const m = /(?:[/:]v|\/cryptoKeyVersions\/)(\d{1,15})$/.exec(keyId);
  return m ? Number(m[1]) : undefined;
}

function matcher(target: RotationTarget): (provider: string, keyId: string) => boolean {
  /* Precondition: the target names a key id. */
  const { keyId, provider, minVersion } = target;
  if (typeof keyId !== 'string' && !(keyId instanceof RegExp) && typeof keyId !== 'function') {
    throw new InvalidArgumentError('needsRotation: target.keyId must be a string, a RegExp or a function');
  }
  if (minVersion !== undefined && (!Number.isSafeInteger(minVersion) || minVersion < 0)) {
    throw new InvalidArgumentError('needsRotation: target.minVersion must be a non-negative integer');
  }
  if (provider !== undefined && typeof provider !== 'string') throw new InvalidArgumentError('needsRotation: target.provider must be a string');
  const idMatches =
    typeof keyId === 'string'
      ? (id: string) => id === keyId
      : keyId instanceof RegExp
        ? // A fresh RegExp per call: a global/sticky pattern's lastIndex must not leak between documents.
          (id: string) => new RegExp(keyId.source, keyId.flags.replace(/[gy]/g, '')).test(id)
        : keyId;
  return (p, id) => {
    if (provider !== undefined && p !== provider) return false;
    if (!idMatches(id)) return false;
    if (minVersion !== undefined) {
      const v = keyVersionOf(id);
      if (v === undefined || v < minVersion) return false;
    }
    return true;
  };
}

/**
 * Decides, without any key, whether a sealed document still needs rotating: it does unless every
 * key group has at least one wrapped key matching the target and no wrapped key that does not
 * (a group also wrapped under an old key still exposes its data key to that key).
 *
 * Built on {@link inspect}: the header's structure is checked, its authenticity is not, so use it
 * to choose work, never as a security decision.
 *
 * It compares key ids, not keys: a local key id without a key's unique id (`main/v1`, from key
 * files written before key ids) can name different keys in two key files, so do not match such ids
 * to decide that documents are current (see `LocalKeyring.isUniqueKeyId`).
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { needsRotation } from '@fieldseal/core';
 * // Anything not wrapped under local key "main" version 7 or later needs rotating.
 * if (needsRotation(sealed, { provider: 'local', keyId: /^main\//, minVersion: 7 })) queue(sealed);
 * ```
 * @param sealed A sealed document.
 * @param target The key documents should be wrapped under.
 * @param options Header name and limits, passed to {@link inspect}.
 * @returns True when some key group is not (only) wrapped under the target.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed target.
 * @throws {MalformedError} `ERR_FIELDSEAL_MALFORMED` for a malformed header (from {@link inspect}).
 * @throws {IncompleteError} `ERR_FIELDSEAL_INCOMPLETE` when the document has no header.
 */
export function needsRotation(sealed: JsonObject, target: RotationTarget, options: InspectOptions = {}): boolean {
  if (target === null || typeof target !== 'object') throw new InvalidArgumentError('needsRotation: target must be an object');
  const matches = matcher(target);
  const info = inspect(sealed, options);
  if (info.groups.length === 0) return true;
  return !info.groups.every((g) => g.wrappedKeys.length > 0 && g.wrappedKeys.every((k) => matches(k.provider, k.keyId)));
}

