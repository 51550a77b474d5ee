import type { Keyring, UnwrapRequest, WrapRequest, WrapResult } from '../types.js';

/** One access to key material, for an audit trail. Never holds key bytes, plaintext or context values unless allowed. */
export interface KeyAccessEvent {
  /** What was done. */
  readonly operation: 'wrap' | 'unwrap' | 'branch-key-load' | 'branch-key-create' | 'branch-key-rotate' | 'branch-key-rewrap' | 'branch-key-destroy';
  /** Which keyring (a name the application chose, or the provider id). */
  readonly keyring: string;
  /** The key ids involved (with their versions): produced by a wrap, offered to an unwrap, or the branch key loaded. */
  readonly keyIds: readonly string[];
  /** The names of the encryption context keys (never their values). */
  readonly contextKeys: readonly string[];
  /** Values of the context keys the application declared non-secret (`contextValues`), e.g. the tenant. */
  readonly context?: Readonly<Record<string, string>>;
  readonly outcome: 'success' | 'failure';
  /** The fieldseal error code of a failure (`ERR_FIELDSEAL_…`), when there is one. */
  readonly errorCode?: string;
  /** Wall-clock duration of the access in milliseconds. */
  readonly durationMs: number;
  /** True when a branch key came from the keyring's cache (no key-service call). */
  readonly cached?: boolean;
}

/** Where audit events go: an event hook, and which context values may appear in events. */
export interface KeyAccessAuditOptions {
  /** Called synchronously for every access; errors it throws are swallowed (auditing must not break decryption). */
  readonly onEvent: (event: KeyAccessEvent) => void;
  /** Context keys whose values are not secret and may appear in events (e.g. `['tenant']`). Default none. */
  readonly contextValues?: readonly string[];
}

/** @internal Build and deliver one event. */
export function emitKeyAccess(audit: KeyAccessAuditOptions | undefined, base: Omit<KeyAccessEvent, 'contextKeys' | 'context' | 'durationMs'>, context: Readonly<Record<string, string>> | undefined, startedAt: number): void {
  if (audit === undefined) return;
  const keys = context === undefined ? [] : Object.keys(context).sort();
  const allowed = audit.contextValues?.filter((k) => context !== undefined && Object.prototype.hasOwnProperty.call(context, k));
  const event: KeyAccessEvent = {
    ...base,
    contextKeys: keys,
    ...(allowed !== undefined && allowed.length > 0 ? { context: Object.fromEntries(allowed.map((k) => [k, context![k]!])) } : {}),
    durationMs: performance.now() - startedAt,
  };
  try {
    audit.onEvent(Object.freeze(event));
  } catch {
    /* an audit sink that fails must not change the outcome of a key access */
  }
}

/** @internal The stable code of an error, if it is a fieldseal error. */
export function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_FIELDSEAL') ? code : undefined;
}

/**
 * Wraps any keyring (a cloud provider's, a `CachingKeyring`, a `MultiKeyring`) so that every wrap
 * and unwrap emits a {@link KeyAccessEvent}: which keyring, which key ids, the context keys, the
 * outcome and the duration. The keyring's behaviour is unchanged.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { auditKeyring } from '@fieldseal/core';
 * const keyring = auditKeyring(kmsKeyring, { name: 'aws-kms', onEvent: (e) => auditLog.write(e), contextValues: ['tenant'] });
 * ```
 */
export function auditKeyring(keyring: Keyring, options: KeyAccessAuditOptions & { readonly name: string }): Keyring {
  const name = options.name;
  const audited: Keyring = {
    async wrap(request: WrapRequest): Promise<WrapResult> {
      const startedAt = performance.now();
      try {
        const result = await keyring.wrap(request);
        const ids = Array.isArray(result?.wrapped) ? result.wrapped.map((w) => String(w?.keyId)) : [];
        emitKeyAccess(options, { operation: 'wrap', keyring: name, keyIds: ids, outcome: 'success' }, request.context, startedAt);
        return result;
      } catch (err) {
        const code = errorCodeOf(err);
        emitKeyAccess(options, { operation: 'wrap', keyring: name, keyIds: [], outcome: 'failure', ...(code ? { errorCode: code } : {}) }, request.context, startedAt);
        throw err;
      }
    },
    async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
      const startedAt = performance.now();
      const ids = Array.isArray(request.wrapped) ? request.wrapped.map((w) => String(w?.keyId)) : [];
      try {
        const key = await keyring.unwrap(request);
        emitKeyAccess(options, { operation: 'unwrap', keyring: name, keyIds: ids, outcome: 'success' }, request.context, startedAt);
        return key;
      } catch (err) {
        const code = errorCodeOf(err);
        emitKeyAccess(options, { operation: 'unwrap', keyring: name, keyIds: ids, outcome: 'failure', ...(code ? { errorCode: code } : {}) }, request.context, startedAt);
        throw err;
      }
    },
  };
  const rewrapper = (keyring as Partial<{ rewrapInService: unknown }>).rewrapInService;
  if (typeof rewrapper === 'function') Object.assign(audited, { rewrapInService: rewrapper.bind(keyring) });
  return audited;
}
