/**
 * The options and results of {@link VaultTransitKeyring}, apart from the class so the keyring file
 * holds behaviour only.
 * @module
 */
import type { RetryPolicy } from '@fieldseal/core';
import type { VaultTransitClient } from './client.js';

/**
 * How the fieldseal encryption context is bound to the wrapped data key inside Vault.
 *
 * - `'derived-key'` (default): the transit key is created with `derived=true`, and every call sends
 *   the context as `context`; Vault derives a separate key per context (HKDF-SHA256). Works with
 *   `datakey`, `encrypt`, `decrypt` *and* `rewrap`, so server-side rotation keeps the data key inside
 *   Vault. Vault silently ignores `context` on keys that are not derived: use
 *   {@link VaultTransitKeyring.verifyKey} (or `verifyKey: true`) to catch that misconfiguration.
 * - `'associated-data'`: a non-derived AEAD key, with the context sent as `associated_data`. Vault's
 *   `rewrap` and `datakey` endpoints do not accept `associated_data` (vault#31791), so this keyring
 *   generates data keys locally and re-wraps client-side (unwrap, then encrypt under the newest version).
 */
export type VaultContextBinding = 'derived-key' | 'associated-data';

/** A Vault token, or a function returning the current one (for tokens the application renews). */
export type VaultTokenSource = string | (() => string | Promise<string>);

/** Options of {@link VaultTransitKeyring}. */
export interface VaultTransitKeyringOptions {
  /** Name of the transit key (Vault key names: letters, digits, `_`, `-`, `.`). */
  readonly keyName: string;
  /** Mount path of the transit engine. Default `transit`. */
  readonly mount?: string;
  /**
   * Vault Enterprise / HCP namespace, sent as `X-Vault-Namespace` (e.g. `admin` on HCP Vault). When
   * omitted, the client's own namespace applies (node-vault: its `namespace` option or `VAULT_NAMESPACE`).
   */
  readonly namespace?: string;
  /**
   * A configured client (a `node-vault` client, or anything with its `write`/`read`). The keyring
   * never closes or reconfigures it. When omitted, the keyring builds a node-vault client from
   * `endpoint`, `token` and `requestOptions`.
   */
  readonly client?: VaultTransitClient;
  /** Vault address, e.g. `https://vault.internal:8200`. Required when `client` is omitted. */
  readonly endpoint?: string;
  /**
   * The token, sent as `X-Vault-Token` on every request. Required when `client` is omitted; with a
   * caller's client it overrides the client's token. Renewing the token is the caller's job: pass a
   * function to hand the keyring the current token on every call.
   */
  readonly token?: VaultTokenSource;
  /** node-vault `requestOptions` for a client the keyring builds (e.g. `{ ca: pem }` for a private CA). */
  readonly requestOptions?: Record<string, unknown>;
  /** How the context is bound. Default `'derived-key'`. */
  readonly contextBinding?: VaultContextBinding;
  /**
   * Timeout of each request (attempt) in milliseconds; a timed-out attempt is retried within the
   * deadline. 0: no per-attempt timeout (the deadline still applies). Default 10,000.
   */
  readonly timeoutMs?: number;
  /**
   * Retries and total deadline: 429, 5xx (sealed, standby), timed-out attempts and refused or
   * dropped connections are retried with jittered exponential backoff. Default 3 attempts, backoff
   * from 100 ms up to 2 s, `deadlineMs` 30,000 per `wrap`/`unwrap`/`rewrapInService`.
   */
  readonly retry?: VaultTransitRetryOptions;
  /**
   * Check the key once, before the first operation ({@link VaultTransitKeyring.verifyKey}), and
   * refuse a key that cannot bind the context as configured (with the default binding: a key that
   * is not derived, on which Vault silently ignores the context). Needs `read` on
   * `<mount>/keys/<name>`; set false only where the token may not read the key. Default true.
   */
  readonly verifyKey?: boolean;
}

/** Retry policy of {@link VaultTransitKeyring}: core's `RetryPolicy` without the attempt timeout, which is `timeoutMs`. */
export type VaultTransitRetryOptions = Omit<RetryPolicy, 'attemptTimeoutMs'>;

/** What {@link VaultTransitKeyring.verifyKey} learned about the transit key. */
export interface VaultTransitKeyInfo {
  /** Vault key type, e.g. `aes256-gcm96`. */
  readonly type: string;
  /** Whether the key derives a key per context. */
  readonly derived: boolean;
  /** The version new data keys are wrapped under. */
  readonly latestVersion: number;
  /** Wrapped keys below this version no longer open. */
  readonly minDecryptionVersion: number;
}
