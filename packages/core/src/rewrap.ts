import { backend as defaultBackend } from '#backend';
import { AbortedError, FieldsealError, InvalidArgumentError, KeyUnavailableError, ProviderError, RewrapVerificationError } from './errors.js';
import type { EncryptionContext, JsonObject, Keyring, Limits, ServiceRewrapCapable, WrappedKey } from './types.js';
import { LOCAL_PROVIDER, LocalKeyring } from './keyrings/local.js';
import type { Backend } from './lib/backend/types.js';
import { zeroize } from './lib/bytes.js';
import { contextEntries, refuseInternalContextKeys } from './lib/context.js';
import { groupKeyringContext, headerMac, type GroupKeys } from './lib/format/document-keys.js';
import { encodeHeaderBody, headerToString, type HeaderGroup } from './lib/format/header.js';
import { assertKeyring, callControl, checkWrapped, guardedCall, throwIfAborted, unwrapChecked, wrapChecked } from './lib/keyring-call.js';
import { resolveLimits } from './lib/limits.js';
import { readSealed, resolveDocumentContext, unlockGroup } from './lib/open.js';
import { headerNameOption, readOptions } from './lib/options.js';
import { verifyRewrapped } from './lib/rewrap-verify.js';
import { keyringMap } from './decrypt.js';

/** Options of {@link rewrap}. */
export interface RewrapOptions {
  /** Keyring that can unwrap the current data keys (every key group). */
  readonly keyring?: Keyring;
  /** Per-group source keyrings. */
  readonly keyrings?: Readonly<Record<string, Keyring>>;
  /** Keyring to wrap the data keys under from now on (every key group). */
  readonly to?: Keyring;
  /** Per-group target keyrings (override `to`). */
  readonly toKeyrings?: Readonly<Record<string, Keyring>>;
  /** Expected context, including the values of required-but-not-stored keys. */
  readonly context?: EncryptionContext;
  /** Name of the reserved header property. Default `_fieldseal`. */
  readonly headerName?: string;
  /** Override resource limits. */
  readonly limits?: Partial<Limits>;
  /** Cancels the operation (`ERR_FIELDSEAL_ABORTED`); keyring calls in flight get a signal that fires too. */
  readonly signal?: AbortSignal;
  /**
   * Deadline of each keyring call, in milliseconds (1 to 2,147,483,647). Default 30,000. A call that
   * has not answered by then fails with `ERR_FIELDSEAL_PROVIDER` (`retryable: true`).
   */
  readonly keyringTimeoutMs?: number;
  /**
   * Before returning a changed document, check that it opens as `decrypt` with the target keyrings
   * and the same context would open it: the new header decoded from the document, each target
   * keyring unwrapping it to the same data key, key commitment and header MACs, completeness, and
   * every field opened. Costs one unwrap per key group and the field opens, not a second decrypt
   * (the keys derived from the data key are reused once the target is shown to give that same
   * key). Default false.
   * @throws {RewrapVerificationError} `ERR_FIELDSEAL_REWRAP_VERIFY` when the check fails (its `cause` says how).
   */
  readonly verify?: boolean;
}

/** @internal The options rewrap and reencrypt read. */
export const REWRAP_OPTIONS = ['keyring', 'keyrings', 'to', 'toKeyrings', 'context', 'headerName', 'limits', 'signal', 'keyringTimeoutMs'] as const;
const REWRAP_ONLY_OPTIONS = [...REWRAP_OPTIONS, 'verify'] as const;

/** What {@link rewrap} and {@link reencrypt} return. */
export interface RotationResult {
  /** The rotated document (the unchanged input when `changed` is false). */
  readonly document: JsonObject;
  /** False when the document was already in the target state. */
  readonly changed: boolean;
}

function sameKeyIdentities(a: readonly WrappedKey[], b: readonly WrappedKey[]): boolean {
  const ids = (list: readonly WrappedKey[]) => list.map((k) => `${k.provider}\u0000${k.keyId}`).sort().join('\u0001');
  return ids(a) === ids(b);
}

/** A local key id without a key's unique id (`main/v1`): two key files written before key ids can share it. */
function ambiguousKeyId(k: WrappedKey): boolean {
  return k.provider === LOCAL_PROVIDER && !LocalKeyring.isUniqueKeyId(k.keyId);
}

/**
 * "Already wrapped under the target" by key id alone is only safe when each id names one key. With an
 * ambiguous id, the target itself must open the stored wrapped keys to the same data key; otherwise
 * an operator who then deletes the old key file loses the document (issue 14.1).
 */
async function alreadyUnderTarget(backend: Backend, target: Keyring, current: readonly WrappedKey[], fresh: readonly WrappedKey[], context: EncryptionContext, dataKey: Uint8Array): Promise<boolean> {
  if (!sameKeyIdentities(fresh, current)) return false;
  if (!current.some(ambiguousKeyId)) return true;
  let opened: Uint8Array;
  try {
    opened = await target.unwrap({ wrapped: current, context });
  } catch {
    return false;
  }
  const same = backend.timingSafeEqual(opened, dataKey);
  zeroize(opened);
  return same;
}

function pick(map: ReadonlyMap<string, Keyring> | undefined, name: string, fallback: unknown): unknown {
  return map?.get(name) ?? fallback;
}

/** @internal rewrap with an explicit backend. */
export async function rewrapWith(backend: Backend, sealed: unknown, options: RewrapOptions): Promise<RotationResult> {
  const o = readOptions(options, 'rewrap', REWRAP_ONLY_OPTIONS);
  if (o.verify !== undefined && typeof o.verify !== 'boolean') throw new InvalidArgumentError('verify must be a boolean');
  const limits = resolveLimits(o.limits as Partial<Limits> | undefined);
  const control = callControl(o.signal, o.keyringTimeoutMs);
  const headerName = headerNameOption(o.headerName);
  const sourceMap = keyringMap(o.keyrings, 'keyrings');
  const targetMap = keyringMap(o.toKeyrings, 'toKeyrings');
  const expected = contextEntries(o.context, 'context', limits.maxContextPairs);
  refuseInternalContextKeys(expected, 'context');
  const { document, header } = readSealed(backend, sealed, headerName, limits);
  const ctx = resolveDocumentContext(header, expected);

  const sources = header.groups.map((g) => pick(sourceMap, g.name, o.keyring));
  const targets = header.groups.map((g) => pick(targetMap, g.name, o.to));
  const checked: { source: Keyring; target: Keyring }[] = header.groups.map((g, i) => {
    const source = sources[i];
    const target = targets[i];
    if (source === undefined || target === undefined) throw new InvalidArgumentError(`rewrap needs a source and a target keyring for key group "${g.name}"`);
    assertKeyring(source, 'keyring');
    assertKeyring(target, 'to');
    return { source, target };
  });

  // Every group's data key is needed: each group's MAC covers the whole header, wrapped keys included.
  const unlocked: { keys: GroupKeys; dataKey: Uint8Array }[] = [];
  try {
    for (let i = 0; i < header.groups.length; i++) unlocked.push(await unlockGroup(backend, header, i, checked[i]!.source, ctx, control));
    let changed = false;
    const groups: HeaderGroup[] = [];
    for (let i = 0; i < header.groups.length; i++) {
      const g = header.groups[i]!;
      const target = checked[i]!.target;
      // Rewrap keeps the document's suite (its field keys depend on it), so also its keyring context.
      const keyringContext = groupKeyringContext(header.suite, ctx.entries, g.name);
      let wrapped: readonly WrappedKey[] | undefined;
      const service = target as Partial<ServiceRewrapCapable>;
      if (typeof service.rewrapInService === 'function') {
        let fromService: unknown;
        try {
          fromService = await guardedCall('rewrapInService', control, (signal) =>
                service.rewrapInService!({
                  wrapped: g.wrapped,
                  context: keyringContext,
                  get signal() {
                    return signal();
                  },
                }), () => {});
        } catch (err) {
          if (err instanceof FieldsealError) throw err;
          throw new ProviderError({ provider: 'keyring', kind: 'other', retryable: false, message: 'the keyring\'s rewrapInService failed with an error that is not a fieldseal error (see cause)', cause: err });
        }
        if (fromService !== undefined) {
          wrapped = checkWrapped(fromService, limits, unlocked[i]!.dataKey);
        }
        // The new wrapped keys get MAC'd into the header: make sure they hold this data key, so a
        // faulty service answer can never produce a document that no longer opens. With `verify`
        // the verification makes that same unwrap and comparison before anything is returned, so
        // it is not paid twice (a KMS call per group and document).
        if (wrapped !== undefined && o.verify !== true) {
          const check = await unwrapChecked(target, wrapped, keyringContext, g.name, control);
          const same = backend.timingSafeEqual(check, unlocked[i]!.dataKey);
          zeroize(check);
          if (!same) throw new KeyUnavailableError(`the server-side re-wrap of key group "${g.name}" returned a different data key`, [{ provider: wrapped[0]!.provider, keyId: wrapped[0]!.keyId, message: 'server-side re-wrap did not preserve the data key' }]);
        }
      }
      if (wrapped === undefined) {
        const result = await wrapChecked(target, keyringContext, limits, unlocked[i]!.dataKey, undefined, control);
        if (result.dataKey !== unlocked[i]!.dataKey) zeroize(result.dataKey);
        wrapped = result.wrapped;
      }
      if (await alreadyUnderTarget(backend, target, g.wrapped, wrapped, keyringContext, unlocked[i]!.dataKey)) {
        groups.push(g);
      } else {
        changed = true;
        groups.push({ ...g, wrapped });
      }
    }
    if (!changed) {
      return { document: document, changed: false };
    }
    const body = encodeHeaderBody({ suite: header.suite, messageId: header.messageId, storedContext: header.storedContext, requiredKeys: header.requiredKeys, groups });
    const macs = await Promise.all(unlocked.map((u) => headerMac(backend, u.keys.macKey, body, ctx.canonical)));
    throwIfAborted(control);
    Object.defineProperty(document, headerName, { value: headerToString(backend, body, macs), enumerable: true, writable: true, configurable: true });
    if (o.verify === true) {
      try {
        await verifyRewrapped(backend, { document, headerName, source: header, unlocked, targets: checked.map((c) => c.target), expected, limits, control });
      } catch (err) {
        if (err instanceof AbortedError) throw err;
        throw new RewrapVerificationError('the re-wrapped document does not open with the target keyring', { cause: err });
      }
    }
    return { document, changed: true };
  } finally {
    for (const u of unlocked) zeroize(u.dataKey, u.keys.encryptionKey, u.keys.macKey);
  }
}

/**
 * Re-wraps a sealed document's data keys under new key-encryption keys: field ciphertexts stay
 * byte-for-byte the same; the header gets new wrapped keys and new MACs. Cost is one unwrap and one
 * wrap per key group, whatever the number of fields. Idempotent: when the target keyring produces
 * wrapped keys from the same providers and key ids as the document already has, the document comes
 * back unchanged with `changed: false`. A local key id without a unique id (`main/v1`, from key files
 * written before key ids) can name different keys in two key files, so there the target must also
 * open the stored wrapped key to the same data key; otherwise the document is re-wrapped.
 *
 * Uses the target keyring's server-side re-wrap (`ServiceRewrapCapable`, e.g. AWS KMS ReEncrypt)
 * when it offers one, and checks the result unwraps to the same data key before it is MAC'd in. The
 * data key is still unwrapped in this process, because the header MACs that authenticate the
 * wrapped keys are keyed from it.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { rewrap } from '@fieldseal/core';
 * const { document, changed } = await rewrap(sealed, { keyring: oldKeys, to: newKeys, context: { tenant: 't1' } });
 * ```
 * @param sealed A sealed document.
 * @param options Source and target keyrings and the expected context.
 * @returns The re-wrapped document and whether it changed.
 * @throws {DecryptionFailedError} `ERR_FIELDSEAL_DECRYPTION_FAILED` when the header does not authenticate.
 * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when a data key cannot be unwrapped.
 * @throws {ContextMismatchError} `ERR_FIELDSEAL_CONTEXT_MISMATCH` when the expected context differs.
 * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` with `retryable: true` when a keyring call runs past `keyringTimeoutMs`.
 * @throws {AbortedError} `ERR_FIELDSEAL_ABORTED` when `signal` fires.
 */
export function rewrap(sealed: JsonObject, options: RewrapOptions): Promise<RotationResult> {
  return rewrapWith(defaultBackend, sealed, options);
}
