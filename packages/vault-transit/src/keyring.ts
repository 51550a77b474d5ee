/**
 * {@link VaultTransitKeyring}: data keys wrapped by a HashiCorp Vault transit key.
 * @module
 */
import {
  callWithRetries,
  DEFAULT_RETRY_POLICY,
  type EncryptionContext,
  InvalidArgumentError,
  type Keyring,
  KeyUnavailableError,
  type KeyUnavailableReason,
  MAX_SERVICE_UNWRAPS_PER_KEY,
  ProviderError,
  type ResolvedRetryPolicy,
  resolveRetryPolicy,
  type RetryPolicy,
  type ServiceRewrapCapable,
  type UnwrapRequest,
  type WrappedKey,
  type WrapRequest,
  type WrapResult,
} from '@fieldseal/core';
import { keyringClient, requestNamespace, type VaultRequestOptions, type VaultTransitClient } from './client.js';
import { vaultContext } from './context.js';
import { toProviderError, VAULT_TRANSIT_PROVIDER, VaultKeyNotDerivedError } from './errors.js';
import type { VaultContextBinding, VaultTokenSource, VaultTransitKeyInfo, VaultTransitKeyringOptions } from './options.js';
import { AEAD_TYPES, checkPath, splitCandidates, DATA_KEY_BYTES, decodeKey, field, KEY_NAME, wrappedKey } from './wire.js';

/**
 * A keyring whose data keys are wrapped by a HashiCorp Vault transit key.
 *
 * - `wrap` without a data key asks Vault for one (`datakey/plaintext/:name`); with a data key from
 *   another keyring it uses `encrypt/:name`. `unwrap` uses `decrypt/:name`.
 * - The fieldseal encryption context is bound in Vault (see {@link VaultContextBinding}).
 * - Wrapped keys have provider `vault-transit` and key id `[<namespace>/]<mount>/<name>:v<N>`, where
 *   N is the transit key version, so `inspect` shows which version wrapped each document and a
 *   rotation job can select documents below a version. The wrapped bytes are Vault's ciphertext
 *   string (`vault:vN:…`) in UTF-8.
 * - After `keys/:name/rotate` new data keys use the new version and old documents still open, until
 *   `min_decryption_version` is raised: then unwrapping older versions fails with a reason whose
 *   cause is a `ProviderError` of kind `disabled`.
 * - {@link VaultTransitKeyring.rewrapInService} moves wrapped keys to the newest version with
 *   transit `rewrap`: the data key never leaves Vault.
 * - Strict: only wrapped keys under this keyring's own key (same namespace, mount and name, any
 *   version) are sent to Vault; no key id found in a document is ever followed elsewhere.
 *
 * Errors: `wrap` throws {@link ProviderError} (`provider: 'vault-transit'`, `kind`, `retryable`).
 * `unwrap` throws {@link KeyUnavailableError} with one reason per wrapped key tried (each reason's
 * `cause` is the `ProviderError`), except when a failure is transient (`retryable`: Vault unreachable,
 * 5xx, 429): then it throws that `ProviderError`, because retrying may succeed.
 *
 * @example
 * ```ts
 * import nodeVault from 'node-vault';
 * import { encrypt, decrypt } from '@fieldseal/core';
 * import { VaultTransitKeyring } from '@fieldseal/vault-transit';
 *
 * const client = nodeVault({ endpoint: process.env.VAULT_ADDR, token: process.env.VAULT_TOKEN });
 * const keyring = new VaultTransitKeyring({ client, mount: 'transit', keyName: 'customer-kek' });
 * const sealed = await encrypt(customer, { keyring, paths: ['$.ssn'], context: { tenant: 't1' } });
 * const opened = await decrypt(sealed, { keyring, context: { tenant: 't1' } });
 * ```
 */
export class VaultTransitKeyring implements Keyring, ServiceRewrapCapable {
  /** Always `vault-transit`. */
  readonly provider = VAULT_TRANSIT_PROVIDER;
  /** The key's full path, `[<namespace>/]<mount>/<name>`; key ids are this plus `:v<N>`. */
  readonly keyPath: string;
  /** The mount path of the transit engine. */
  readonly mount: string;
  /** The transit key name. */
  readonly keyName: string;
  /** The namespace requests go to (`''` for the root namespace). */
  readonly namespace: string;
  /** How the context is bound. */
  readonly contextBinding: VaultContextBinding;

  readonly #client: VaultTransitClient;
  readonly #token: VaultTokenSource | undefined;
  readonly #namespaceHeader: string | undefined;
  readonly #timeoutMs: number;
  /** Timeouts, retries and deadline of every Vault call (core's `callWithRetries`). */
  readonly retryPolicy: ResolvedRetryPolicy;
  #verified: Promise<VaultTransitKeyInfo> | undefined;
  readonly #verifyFirst: boolean;

  /**
   * @param options Key name, mount, namespace, and either a client or an endpoint and token.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a malformed key name, mount,
   *   namespace or timeout, a missing endpoint/token without a client, or a namespace that conflicts
   *   with the client's.
   */
  constructor(options: VaultTransitKeyringOptions) {
    /* Precondition: options is an object naming a valid transit key. */
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object');
    if (typeof options.keyName !== 'string' || !KEY_NAME.test(options.keyName)) {
      throw new InvalidArgumentError('keyName must be a Vault key name (letters, digits, "_", "-", ".")');
    }
    this.keyName = options.keyName;
    this.mount = checkPath(options.mount ?? 'transit', 'mount');
    const binding = options.contextBinding ?? 'derived-key';
    if (binding !== 'derived-key' && binding !== 'associated-data') {
      throw new InvalidArgumentError('contextBinding must be "derived-key" or "associated-data"');
    }
    this.contextBinding = binding;
    const timeout = options.timeoutMs ?? 10_000;
    if (!Number.isSafeInteger(timeout) || timeout < 0) throw new InvalidArgumentError('timeoutMs must be a non-negative integer');
    this.#timeoutMs = timeout;
    if (options.retry !== undefined && options.retry !== null && typeof options.retry === 'object' && 'attemptTimeoutMs' in options.retry) {
      throw new InvalidArgumentError('retry.attemptTimeoutMs: use timeoutMs');
    }
    const retry = resolveRetryPolicy(options.retry, { ...DEFAULT_RETRY_POLICY, deadlineMs: Math.max(DEFAULT_RETRY_POLICY.deadlineMs, timeout) }, 'retry');
    // timeoutMs 0 (no per-attempt timeout): each attempt may use what is left of the deadline.
    this.retryPolicy = Object.freeze({ ...retry, attemptTimeoutMs: timeout === 0 ? retry.deadlineMs : timeout });
    const token = options.token;
    if (token !== undefined && !(typeof token === 'function' || (typeof token === 'string' && token.length > 0))) {
      throw new InvalidArgumentError('token must be a non-empty string or a function returning one');
    }
    this.#token = token;

    this.#client = keyringClient(options, token);
    const { namespace, header } = requestNamespace(this.#client, options.namespace);
    this.namespace = namespace;
    this.#namespaceHeader = header;
    this.keyPath = `${this.namespace === '' ? '' : `${this.namespace}/`}${this.mount}/${this.keyName}`;
    if (options.verifyKey !== undefined && typeof options.verifyKey !== 'boolean') throw new InvalidArgumentError('verifyKey must be a boolean');
    this.#verifyFirst = options.verifyKey ?? true;
    Object.freeze(this);
  }

  /** The key id of one version of this keyring's key: `<keyPath>:v<version>`. */
  keyId(version: number): string {
    return `${this.keyPath}:v${version}`;
  }

  /**
   * Read the transit key (`GET <mount>/keys/<name>`) and check that it can bind the context the way
   * this keyring binds it: an AEAD key type, `derived=true` for `'derived-key'` binding (Vault
   * ignores `context` otherwise) and not derived for `'associated-data'`.
   *
   * @param options `signal` aborts the read (and its retries).
   * @returns The key's type, derivation and versions.
   * @throws {VaultKeyNotDerivedError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the binding is
   *   `'derived-key'` and the key is not derived; its message says how to create a derived key.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the key cannot bind the context as configured.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when Vault refuses or fails (e.g. kind `auth`
   *   without `read` permission, `not-found` for a missing key).
   */
  async verifyKey(options: { readonly signal?: AbortSignal } = {}): Promise<VaultTransitKeyInfo> {
    const keyPath = this.keyPath;
    const body = await this.#retrying('read key', keyPath, options.signal, undefined, async () => this.#client.read(`${this.mount}/keys/${this.keyName}`, await this.#requestOptions()));
    const type = field(body, 'type');
    const derived = field(body, 'derived');
    const latest = field(body, 'latest_version');
    const minDecryption = field(body, 'min_decryption_version');
    if (typeof type !== 'string' || typeof derived !== 'boolean' || typeof latest !== 'number' || typeof minDecryption !== 'number') {
      throw new ProviderError({ provider: this.provider, keyId: keyPath, kind: 'other', retryable: false, message: 'read key: unexpected response from Vault' });
    }
    if (!AEAD_TYPES.has(type)) throw new InvalidArgumentError(`${keyPath}: key type ${type} cannot wrap data keys (use aes256-gcm96)`);
    if (this.contextBinding === 'derived-key' && !derived) throw new VaultKeyNotDerivedError(keyPath, this.mount, this.keyName, this.namespace);
    if (this.contextBinding === 'associated-data' && derived) {
      throw new InvalidArgumentError(`${keyPath}: the key is derived; use contextBinding "derived-key"`);
    }
    return { type, derived, latestVersion: latest, minDecryptionVersion: minDecryption };
  }

  /**
   * Produce a data key in Vault (`datakey/plaintext`), or wrap the given one (`encrypt`), bound to the context.
   *
   * @param request The context, and the data key when another keyring produced it.
   * @returns A fresh 32-byte data key (the caller owns and zeroes it) and one wrapped key.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when Vault refuses or fails (`kind`, `retryable`).
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a data key that is not 32 bytes.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    const context = this.#context(request);
    const given = request.dataKey;
    if (given !== undefined && (!(given instanceof Uint8Array) || given.length !== DATA_KEY_BYTES)) {
      throw new InvalidArgumentError('dataKey must be a 32-byte Uint8Array');
    }
    const signal = request.signal;
    const deadline = Date.now() + this.retryPolicy.deadlineMs;
    await this.#ready(signal);
    const bind = this.contextBinding === 'derived-key' ? { context } : { associated_data: context };

    if (given === undefined && this.contextBinding === 'derived-key') {
      const body = await this.#call('datakey/plaintext', { ...bind, bits: 256 }, this.keyPath, 'datakey', signal, deadline);
      const dataKey = decodeKey(field(body, 'plaintext'), 'datakey', this.keyPath);
      try {
        return { dataKey, wrapped: [wrappedKey(field(body, 'ciphertext'), 'datakey', this.keyPath)] };
      } catch (err) {
        dataKey.fill(0);
        throw err;
      }
    }
    // Vault's datakey has no associated_data, so with that binding the data key comes from the local CSPRNG.
    const dataKey = given !== undefined ? given.slice() : crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
    const plaintext = Buffer.from(dataKey);
    try {
      const body = await this.#call('encrypt', { ...bind, plaintext: plaintext.toString('base64') }, this.keyPath, 'encrypt', signal, deadline);
      return { dataKey, wrapped: [wrappedKey(field(body, 'ciphertext'), 'encrypt', this.keyPath)] };
    } catch (err) {
      dataKey.fill(0);
      throw err;
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Unwrap the first wrapped key under this keyring's transit key that Vault decrypts with the context.
   *
   * @param request The group's wrapped keys and the full context.
   * @returns The 32-byte data key (the caller owns and zeroes it).
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no wrapped key is under this
   *   key, or Vault refused every one (one reason per wrapped key; each `cause` a `ProviderError`
   *   with `kind` `invalid-ciphertext`, `disabled`, `auth`, `not-found`, …).
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` with `retryable: true` when a failure was
   *   transient (Vault unreachable, 5xx, throttled) and nothing succeeded.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const context = this.#context(request);
    const candidates = splitCandidates(request.wrapped, this.keyPath);
    const reasons: KeyUnavailableReason[] = [...candidates.rejected];
    let transient: ProviderError | undefined;
    const signal = request.signal;
    const deadline = Date.now() + this.retryPolicy.deadlineMs;
    if (candidates.usable.length > 0) {
      try {
        await this.#ready(signal);
      } catch (err) {
        // A key that cannot bind the context is a configuration error; a transient failure may pass.
        if (!(err instanceof ProviderError) || err.retryable) throw err;
        reasons.push({ provider: this.provider, keyId: this.keyPath, message: err.message, cause: err });
        throw new KeyUnavailableError('Vault transit could not unwrap the data key', reasons);
      }
    }
    // A forged header may list many versions of the configured key: each decrypt is a Vault call.
    for (const { key } of candidates.usable.slice(MAX_SERVICE_UNWRAPS_PER_KEY)) {
      reasons.push({ provider: this.provider, keyId: key.keyId, message: `not tried: at most ${MAX_SERVICE_UNWRAPS_PER_KEY} wrapped keys per configured key are sent to Vault in one unwrap` });
    }
    for (const { key, ciphertext } of candidates.usable.slice(0, MAX_SERVICE_UNWRAPS_PER_KEY)) {
      try {
        const bind = this.contextBinding === 'derived-key' ? { context } : { associated_data: context };
        const body = await this.#call('decrypt', { ...bind, ciphertext }, key.keyId, 'decrypt', signal, deadline);
        return decodeKey(field(body, 'plaintext'), 'decrypt', key.keyId);
      } catch (err) {
        const pe = toProviderError(err, key.keyId, 'decrypt');
        if (pe.kind === 'aborted') throw pe;
        if (pe.retryable) transient ??= pe;
        reasons.push({ provider: this.provider, keyId: key.keyId, message: pe.message, cause: pe });
      }
    }
    if (transient !== undefined) throw transient;
    if (reasons.length === 0) reasons.push({ provider: this.provider, keyId: this.keyPath, message: `no wrapped key under ${this.keyPath}` });
    throw new KeyUnavailableError('Vault transit could not unwrap the data key', reasons);
  }

  /**
   * Re-wrap this keyring's wrapped keys under the newest version of the transit key with Vault's
   * `rewrap`: the data key never leaves Vault. Core's `rewrap` uses this when the target keyring
   * is this one (same namespace, mount and key).
   *
   * @param request The group's wrapped keys and the full context.
   * @returns One wrapped key under the newest version, or `undefined` when nothing here can be
   *   re-wrapped in Vault (no wrapped key under this key; `'associated-data'` binding; a token whose
   *   policy lacks `rewrap`), so the caller falls back to unwrap + wrap.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when Vault refused every wrapped key.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` with `retryable: true` for transient failures.
   */
  async rewrapInService(request: UnwrapRequest): Promise<readonly WrappedKey[] | undefined> {
    if (this.contextBinding !== 'derived-key') return undefined; // rewrap cannot carry associated_data
    const context = this.#context(request);
    const candidates = splitCandidates(request.wrapped, this.keyPath);
    if (candidates.usable.length === 0) return undefined;
    const signal = request.signal;
    const deadline = Date.now() + this.retryPolicy.deadlineMs;
    await this.#ready(signal);
    const reasons: KeyUnavailableReason[] = [];
    let transient: ProviderError | undefined;
    let denied = false;
    for (const { key, ciphertext } of candidates.usable) {
      try {
        const body = await this.#call('rewrap', { context, ciphertext }, key.keyId, 'rewrap', signal, deadline);
        return [wrappedKey(field(body, 'ciphertext'), 'rewrap', this.keyPath)];
      } catch (err) {
        const pe = toProviderError(err, key.keyId, 'rewrap');
        if (pe.kind === 'aborted') throw pe;
        if (pe.retryable) transient ??= pe;
        if (pe.kind === 'auth') denied = true;
        reasons.push({ provider: this.provider, keyId: key.keyId, message: pe.message, cause: pe });
      }
    }
    if (transient !== undefined) throw transient;
    // A policy may allow decrypt/encrypt but not rewrap: then the client-side path still works.
    if (denied) return undefined;
    throw new KeyUnavailableError('Vault transit could not rewrap the data key', reasons);
  }

  #context(request: WrapRequest | UnwrapRequest): string {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('request must be an object');
    const context: EncryptionContext = request.context;
    if (context === null || typeof context !== 'object' || Array.isArray(context)) throw new InvalidArgumentError('context must be an object of string pairs');
    for (const k of Object.keys(context)) {
      if (typeof context[k] !== 'string') throw new InvalidArgumentError(`context: the value of "${k}" must be a string`);
    }
    return vaultContext(context);
  }

  async #ready(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#verifyFirst) return;
    // Object.freeze(this) leaves private fields writable; a failed check is retried next time.
    // The check is shared by concurrent first calls, so it runs under its own deadline, not under
    // one caller's signal; each caller stops waiting when its own signal fires.
    const verified = (this.#verified ??= this.verifyKey().catch((err: unknown) => {
      this.#verified = undefined;
      throw err;
    }));
    if (signal === undefined) return void (await verified);
    const wait = { ...this.retryPolicy, maxAttempts: 1, attemptTimeoutMs: this.retryPolicy.deadlineMs };
    await callWithRetries(wait, { provider: this.provider, keyId: this.keyPath, operation: 'read key', signal }, () => verified);
  }

  async #requestOptions(): Promise<VaultRequestOptions | undefined> {
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) {
      let token: unknown;
      try {
        token = typeof this.#token === 'function' ? await this.#token() : this.#token;
      } catch (err) {
        throw new ProviderError({ provider: this.provider, keyId: this.keyPath, kind: 'auth', retryable: false, message: 'the token source failed', cause: err });
      }
      if (typeof token !== 'string' || token.length === 0) {
        throw new ProviderError({ provider: this.provider, keyId: this.keyPath, kind: 'auth', retryable: false, message: 'the token source returned no token' });
      }
      headers['X-Vault-Token'] = token;
    }
    if (this.#namespaceHeader !== undefined) headers['X-Vault-Namespace'] = this.#namespaceHeader;
    const options: VaultRequestOptions = {};
    if (Object.keys(headers).length > 0) options.headers = headers;
    // node-vault hands axios only `timeout` (no AbortSignal): it ends an attempt's request in flight.
    if (this.#timeoutMs > 0) options.timeout = this.#timeoutMs;
    return Object.keys(options).length > 0 ? options : undefined;
  }

  async #call(operation: string, body: Record<string, unknown>, keyId: string, what: string, signal: AbortSignal | undefined, deadline: number): Promise<unknown> {
    return this.#retrying(what, keyId, signal, deadline, async () => this.#client.write(`${this.mount}/${operation}/${this.keyName}`, body, await this.#requestOptions()));
  }

  /**
   * One Vault request under the retry policy. The token source is asked again on every attempt,
   * so a renewed token is picked up by the retry.
   */
  #retrying(what: string, keyId: string, signal: AbortSignal | undefined, deadline: number | undefined, attempt: () => Promise<unknown>): Promise<unknown> {
    return callWithRetries(
      this.retryPolicy,
      { provider: this.provider, keyId, operation: what, signal, ...(deadline !== undefined ? { deadline } : {}), toError: (err) => toProviderError(err, keyId, what) },
      attempt,
    );
  }
}
