/**
 * {@link AwsKmsKeyring}: data keys wrapped by AWS KMS symmetric keys.
 * @module
 */
import { InvalidArgumentError, KeyUnavailableError, ProviderError } from '@fieldseal/core/errors';
import type { KeyUnavailableReason } from '@fieldseal/core/errors';
import type { Keyring, ServiceRewrapCapable, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '@fieldseal/core';
import { identifierKind, isKeyArn, parseKmsArn, regionOf } from './arn.js';
import { ClientPool, validateClientOptions } from './client.js';
import type { AwsKmsClientOptions } from './client.js';
import { toKmsEncryptionContext } from './context.js';
import { toProviderError } from './errors.js';

/** Provider id of data keys wrapped under AWS KMS symmetric keys. */
export const AWS_KMS_PROVIDER = 'aws-kms';

const DATA_KEY_BYTES = 32;
/* KMS: CiphertextBlob is 1..6144 bytes; anything longer cannot be a KMS ciphertext. */
const MAX_KMS_CIPHERTEXT = 6144;

/** Discovery: also unwrap with keys named in the document, if they belong to these accounts. */
export interface AwsKmsDiscoveryFilter {
  /** 12-digit AWS account ids whose keys may be used. At least one. */
  readonly accountIds: readonly string[];
  /** ARN partition. Default `aws`. */
  readonly partition?: string;
  /** Restrict to these regions too. Default: any. */
  readonly regions?: readonly string[];
}

/** Options of {@link AwsKmsKeyring}. */
export interface AwsKmsKeyringOptions extends AwsKmsClientOptions {
  /**
   * The KMS keys: key ARN (recommended), alias ARN, `alias/name` or key id. The first one generates
   * data keys (`GenerateDataKey`); every key wraps them (`Encrypt`); unwrap tries them in order.
   * May be empty only with {@link AwsKmsKeyringOptions.discovery}; such a keyring cannot wrap.
   */
  readonly keyIds: readonly string[];
  /**
   * Off by default. When set, unwrap also tries, after the configured keys, any `aws-kms` key ARN a
   * document names whose account (and partition, and region if given) is listed: for services that
   * must open documents sealed under keys they were not configured with, but only from accounts
   * they trust. Also bounds which source keys {@link AwsKmsKeyring.rewrapInService} re-encrypts from.
   */
  readonly discovery?: AwsKmsDiscoveryFilter;
  /** Grant tokens sent with every call, for keys shared through grants. */
  readonly grantTokens?: readonly string[];
}

/**
 * A keyring over AWS KMS symmetric keys (`SYMMETRIC_DEFAULT`), through the real
 * `@aws-sdk/client-kms`.
 *
 * - wrap: the first key generates the data key (`GenerateDataKey`, AES_256); when a multi-keyring
 *   passes one in, or for every further key, `Encrypt` wraps it. All keys must succeed.
 * - unwrap: `Decrypt` always names the configured key (`KeyId`), so KMS itself refuses a ciphertext
 *   made under another key (strict: a key id written in a document is never followed), except under
 *   the opt-in {@link AwsKmsKeyringOptions.discovery}.
 * - The full fieldseal encryption context is sent as KMS `EncryptionContext` on every call, so
 *   KMS binds it to the wrapped key (and logs it in CloudTrail: keep secrets out of it).
 * - Rotation: {@link AwsKmsKeyring.rewrapInService} re-wraps with `ReEncrypt`, server-side.
 *
 * Wrapped keys: provider id `aws-kms`, key id = the key ARN KMS reports
 * (`arn:aws:kms:<region>:<account>:key/<key-id>`), even when configured by alias.
 *
 * Errors: KMS failures become {@link ProviderError} (`ERR_FIELDSEAL_PROVIDER`) with `kind` and
 * `retryable`; unwrap failures are collected into a {@link KeyUnavailableError} whose reasons carry
 * them as `cause`.
 *
 * Importable from `@fieldseal/aws-kms`.
 *
 * @example
 * ```ts
 * import { encrypt, decrypt } from '@fieldseal/core';
 * import { AwsKmsKeyring } from '@fieldseal/aws-kms';
 *
 * const keyring = new AwsKmsKeyring({ keyIds: [process.env.FIELDSEAL_KMS_KEY_ARN!] }); // credentials: the SDK's default chain
 * const sealed = await encrypt(customer, { keyring, paths: ['$.ssn'], context: { tenant: 't1' } });
 * const opened = await decrypt(sealed, { keyring, context: { tenant: 't1' } });
 * keyring.destroy();
 * ```
 */
export class AwsKmsKeyring implements Keyring, ServiceRewrapCapable {
  /** The configured key identifiers, generator first. */
  readonly keyIds: readonly string[];
  /** The discovery filter, if enabled. */
  readonly discovery: AwsKmsDiscoveryFilter | undefined;
  /** Total deadline of one `wrap`/`unwrap`/`rewrapInService`, ms (SDK retries included). */
  readonly deadlineMs: number;
  readonly #grantTokens: string[] | undefined;
  readonly #pool: ClientPool;
  /** Key ARNs KMS reported for configured aliases and key ids, to try the likely blob first. */
  readonly #resolved = new Map<string, string>();

  /**
   * @param options Keys, discovery filter and client options.
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when a key id is malformed, there is neither a key nor discovery, or an option has the wrong type.
   */
  constructor(options: AwsKmsKeyringOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('AwsKmsKeyring options must be an object');
    if (!Array.isArray(options.keyIds)) throw new InvalidArgumentError('keyIds must be an array of KMS key ARNs, alias names, alias ARNs or key ids');
    for (const id of options.keyIds) {
      /* Precondition: every key id is a form KMS accepts. */
      if (typeof id !== 'string' || identifierKind(id) === undefined) throw new InvalidArgumentError(`keyIds: not a KMS key ARN, alias or key id: ${JSON.stringify(String(id)).slice(0, 200)}`);
    }
    if (new Set(options.keyIds).size !== options.keyIds.length) throw new InvalidArgumentError('keyIds must not repeat a key');
    /* Precondition: a keyring that can do nothing is not allowed. */
    if (options.keyIds.length === 0 && options.discovery === undefined) throw new InvalidArgumentError('AwsKmsKeyring needs at least one key id, or discovery');
    if (options.discovery !== undefined) validateDiscovery(options.discovery);
    if (options.grantTokens !== undefined && (!Array.isArray(options.grantTokens) || options.grantTokens.some((t) => typeof t !== 'string'))) {
      throw new InvalidArgumentError('grantTokens must be an array of strings');
    }
    validateClientOptions(options);
    this.keyIds = Object.freeze([...options.keyIds]);
    this.discovery =
      options.discovery === undefined
        ? undefined
        : Object.freeze({
            accountIds: Object.freeze([...options.discovery.accountIds]),
            partition: options.discovery.partition ?? 'aws',
            ...(options.discovery.regions !== undefined ? { regions: Object.freeze([...options.discovery.regions]) } : {}),
          });
    this.#grantTokens = options.grantTokens ? [...options.grantTokens] : undefined;
    const defaultRegion = options.region ?? options.keyIds.map(regionOf).find((r) => r !== undefined);
    this.#pool = new ClientPool({ ...options }, defaultRegion);
    this.deadlineMs = this.#pool.deadlineMs;
    for (const id of this.keyIds) if (isKeyArn(id)) this.#resolved.set(id, id);
    Object.freeze(this);
  }

  #grants(): { GrantTokens?: string[] } {
    return this.#grantTokens ? { GrantTokens: [...this.#grantTokens] } : {};
  }

  /** Check what KMS reported as the key: a key ARN, and the configured one when that was an ARN. */
  #reportedKeyArn(configured: string, reported: string | undefined, operation: string): string {
    if (reported === undefined || !isKeyArn(reported) || (isKeyArn(configured) && reported !== configured)) {
      throw new ProviderError({ provider: AWS_KMS_PROVIDER, keyId: configured, kind: 'other', retryable: false, message: `KMS ${operation} reported an unexpected key id` });
    }
    this.#resolved.set(configured, reported);
    return reported;
  }

  /**
   * Generate (or take) the data key and wrap it under every configured key.
   *
   * @param request The data key from another keyring, if any, and the full encryption context.
   * @returns The data key (the caller owns and zeroes it) and one `aws-kms` wrapped key per configured key.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when a KMS call fails (see `kind`, `retryable`).
   * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a discovery-only keyring or a bad data key.
   */
  async wrap(request: WrapRequest): Promise<WrapResult> {
    if (this.keyIds.length === 0) throw new InvalidArgumentError('a discovery-only AwsKmsKeyring cannot wrap; configure keyIds');
    const context = toKmsEncryptionContext(request.context);
    const ec = context ? { EncryptionContext: context } : {};
    const signal = request.signal;
    const deadline = this.#pool.deadline();
    let dataKey: Uint8Array | undefined;
    const wrapped: WrappedKey[] = [];
    let encryptUnder = this.keyIds;
    try {
      if (request.dataKey === undefined) {
        const generator = this.keyIds[0]!;
        const out = await this.#pool.call(
          regionOf(generator),
          { provider: AWS_KMS_PROVIDER, operation: 'GenerateDataKey', keyId: generator, signal, deadline },
          (ops, options) => ops.generateDataKey({ KeyId: generator, KeySpec: 'AES_256', ...ec, ...this.#grants() }, options),
          (late) => late.Plaintext?.fill?.(0),
        );
        const plaintext = out.Plaintext;
        if (!(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES || !(out.CiphertextBlob instanceof Uint8Array)) {
          plaintext?.fill?.(0);
          throw new ProviderError({ provider: AWS_KMS_PROVIDER, keyId: generator, kind: 'other', retryable: false, message: 'KMS GenerateDataKey returned a malformed response' });
        }
        dataKey = plaintext.slice();
        plaintext.fill(0);
        wrapped.push({ provider: AWS_KMS_PROVIDER, keyId: this.#reportedKeyArn(generator, out.KeyId, 'GenerateDataKey'), ciphertext: out.CiphertextBlob.slice() });
        encryptUnder = this.keyIds.slice(1);
      } else {
        if (!(request.dataKey instanceof Uint8Array) || request.dataKey.length !== DATA_KEY_BYTES) throw new InvalidArgumentError('dataKey must be a 32-byte Uint8Array');
        dataKey = request.dataKey.slice();
      }
      const key = dataKey;
      const more = await Promise.all(
        encryptUnder.map(async (keyId): Promise<WrappedKey> => {
          let out;
          // The SDK gets its own copy, zeroed once the request is built and sent.
          const plaintext = key.slice();
          try {
            out = await this.#pool.call(regionOf(keyId), { provider: AWS_KMS_PROVIDER, operation: 'Encrypt', keyId, signal, deadline }, (ops, options) =>
              ops.encrypt({ KeyId: keyId, Plaintext: plaintext, ...ec, ...this.#grants() }, options),
            );
          } finally {
            plaintext.fill(0);
          }
          if (!(out.CiphertextBlob instanceof Uint8Array)) throw new ProviderError({ provider: AWS_KMS_PROVIDER, keyId, kind: 'other', retryable: false, message: 'KMS Encrypt returned no ciphertext' });
          return { provider: AWS_KMS_PROVIDER, keyId: this.#reportedKeyArn(keyId, out.KeyId, 'Encrypt'), ciphertext: out.CiphertextBlob.slice() };
        }),
      );
      wrapped.push(...more);
      return { dataKey, wrapped };
    } catch (err) {
      dataKey?.fill(0);
      throw err;
    }
  }

  /** Wrapped keys a configured identifier may have made, likeliest first. */
  #candidates(configured: string, ours: readonly WrappedKey[]): WrappedKey[] {
    const kind = identifierKind(configured);
    if (kind === 'key-arn') return ours.filter((w) => w.keyId === configured);
    if (kind === 'key-id') return ours.filter((w) => parseKmsArn(w.keyId)?.resourceId === configured);
    // An alias: only KMS knows its target now (aliases move), so every blob in the alias's region
    // is a candidate; KMS answers IncorrectKeyException for the others. The last target seen goes first.
    const aliasArn = parseKmsArn(configured);
    const region = aliasArn?.region ?? this.#pool.defaultRegion;
    const inRegion = ours.filter((w) => {
      const arn = parseKmsArn(w.keyId);
      return arn !== undefined && (region === undefined || arn.region === region) && (aliasArn === undefined || arn.accountId === aliasArn.accountId);
    });
    const last = this.#resolved.get(configured);
    return [...inRegion.filter((w) => w.keyId === last), ...inRegion.filter((w) => w.keyId !== last)];
  }

  #discoverable(w: WrappedKey): boolean {
    const d = this.discovery;
    const arn = parseKmsArn(w.keyId);
    return d !== undefined && arn !== undefined && arn.resourceType === 'key' && arn.partition === d.partition && d.accountIds.includes(arn.accountId) && (d.regions === undefined || d.regions.includes(arn.region));
  }

  /**
   * Unwrap the data key with the first configured key that can (then, with discovery on, with a key
   * the document names from a trusted account).
   *
   * @param request The group's wrapped keys and the full encryption context.
   * @returns The 32-byte data key; the caller owns and zeroes it.
   * @throws {KeyUnavailableError} `ERR_FIELDSEAL_KEY_UNAVAILABLE` when no key could; one reason per
   *   key tried, each with the {@link ProviderError} as `cause` (check `cause.retryable`).
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const context = toKmsEncryptionContext(request.context);
    const ec = context ? { EncryptionContext: context } : {};
    const ours = (Array.isArray(request.wrapped) ? request.wrapped : []).filter(
      (w) => w?.provider === AWS_KMS_PROVIDER && typeof w.keyId === 'string' && w.ciphertext instanceof Uint8Array && w.ciphertext.length > 0 && w.ciphertext.length <= MAX_KMS_CIPHERTEXT,
    );
    const reasons: KeyUnavailableReason[] = [];
    const tried = new Set<WrappedKey>();
    const signal = request.signal;
    const deadline = this.#pool.deadline();

    const attempt = async (keyId: string, w: WrappedKey): Promise<Uint8Array | undefined> => {
      tried.add(w);
      let out;
      try {
        out = await this.#pool.call(
          regionOf(keyId) ?? regionOf(w.keyId),
          { provider: AWS_KMS_PROVIDER, operation: 'Decrypt', keyId: w.keyId, signal, deadline },
          (ops, options) => ops.decrypt({ CiphertextBlob: w.ciphertext.slice(), KeyId: keyId, ...ec, ...this.#grants() }, options),
          (late) => late.Plaintext?.fill?.(0),
        );
      } catch (err) {
        const pe = toProviderError(err, AWS_KMS_PROVIDER, 'Decrypt', w.keyId);
        // The caller asked to stop: trying further keys would ignore that.
        if (pe.kind === 'aborted') throw pe;
        reasons.push({ provider: AWS_KMS_PROVIDER, keyId: w.keyId, message: pe.message, cause: pe });
        return undefined;
      }
      const plaintext = out.Plaintext;
      /* Postcondition: KMS decrypted with the key the document names, and returned a 32-byte key. */
      if (out.KeyId !== w.keyId || !(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES) {
        plaintext?.fill?.(0);
        reasons.push({ provider: AWS_KMS_PROVIDER, keyId: w.keyId, message: 'KMS Decrypt answered with another key or a data key of the wrong size' });
        return undefined;
      }
      if (!isKeyArn(keyId)) this.#resolved.set(keyId, w.keyId);
      const dataKey = plaintext.slice();
      plaintext.fill(0);
      return dataKey;
    };

    for (const keyId of this.keyIds) {
      const candidates = this.#candidates(keyId, ours);
      if (candidates.length === 0) reasons.push({ provider: AWS_KMS_PROVIDER, keyId, message: 'the document has no key wrapped under this KMS key' });
      for (const w of candidates) {
        const dataKey = await attempt(keyId, w);
        if (dataKey) return dataKey;
      }
    }
    if (this.discovery !== undefined) {
      for (const w of ours) {
        if (tried.has(w)) continue;
        if (!this.#discoverable(w)) {
          reasons.push({ provider: AWS_KMS_PROVIDER, keyId: w.keyId, message: 'not a key ARN of an account the discovery filter allows' });
          continue;
        }
        const dataKey = await attempt(w.keyId, w);
        if (dataKey) return dataKey;
      }
    }
    if (ours.length === 0 && this.keyIds.length === 0) reasons.push({ provider: AWS_KMS_PROVIDER, message: 'the document has no aws-kms wrapped key' });
    throw new KeyUnavailableError('AWS KMS could not unwrap the data key', reasons);
  }

  /** Accounts whose source keys ReEncrypt may read from: the configured keys' and discovery's. */
  #trustedSourceAccounts(): Set<string> {
    const accounts = new Set<string>(this.discovery?.accountIds ?? []);
    for (const id of [...this.keyIds, ...this.#resolved.values()]) {
      const arn = parseKmsArn(id);
      if (arn) accounts.add(arn.accountId);
    }
    return accounts;
  }

  /**
   * Re-wrap server-side with KMS `ReEncrypt`: for each configured key, KMS decrypts one of the
   * document's `aws-kms` wrapped keys and encrypts it under the configured key, so the data key
   * never leaves KMS during this step. Source keys must be key ARNs in the same region and in an
   * account of a configured key ARN (or of the discovery filter); `SourceKeyId` is always sent, so
   * KMS checks the source blob against it.
   *
   * @param request The group's current wrapped keys and the full encryption context.
   * @returns One `aws-kms` wrapped key per configured key, or `undefined` when some configured key
   *   cannot be produced this way (no usable source, access denied, …), so the caller falls back to
   *   unwrap + wrap.
   * @throws {ProviderError} `ERR_FIELDSEAL_PROVIDER` when KMS is throttling or unavailable (`retryable` true): a fallback would fail too.
   */
  async rewrapInService(request: UnwrapRequest): Promise<readonly WrappedKey[] | undefined> {
    if (this.keyIds.length === 0) return undefined;
    const context = toKmsEncryptionContext(request.context);
    const trusted = this.#trustedSourceAccounts();
    const sources = (Array.isArray(request.wrapped) ? request.wrapped : []).filter((w) => {
      const arn = w?.provider === AWS_KMS_PROVIDER && typeof w.keyId === 'string' ? parseKmsArn(w.keyId) : undefined;
      return arn?.resourceType === 'key' && trusted.has(arn.accountId) && w.ciphertext instanceof Uint8Array && w.ciphertext.length > 0 && w.ciphertext.length <= MAX_KMS_CIPHERTEXT;
    });
    if (sources.length === 0) return undefined;
    const signal = request.signal;
    const deadline = this.#pool.deadline();
    const out: WrappedKey[] = [];
    for (const target of this.keyIds) {
      const targetRegion = regionOf(target) ?? this.#pool.defaultRegion;
      let produced: WrappedKey | undefined;
      for (const source of sources) {
        if (targetRegion !== undefined && regionOf(source.keyId) !== targetRegion) continue;
        let res;
        try {
          res = await this.#pool.call(targetRegion, { provider: AWS_KMS_PROVIDER, operation: 'ReEncrypt', keyId: target, signal, deadline }, (ops, options) =>
            ops.reEncrypt(
              {
                CiphertextBlob: source.ciphertext.slice(),
                SourceKeyId: source.keyId,
                DestinationKeyId: target,
                ...(context ? { SourceEncryptionContext: context, DestinationEncryptionContext: context } : {}),
                ...this.#grants(),
              },
              options,
            ),
          );
        } catch (err) {
          const pe = toProviderError(err, AWS_KMS_PROVIDER, 'ReEncrypt', target);
          if (pe.retryable) throw pe;
          continue;
        }
        if (res.SourceKeyId !== source.keyId || !(res.CiphertextBlob instanceof Uint8Array)) continue;
        produced = { provider: AWS_KMS_PROVIDER, keyId: this.#reportedKeyArn(target, res.KeyId, 'ReEncrypt'), ciphertext: res.CiphertextBlob.slice() };
        break;
      }
      if (produced === undefined) return undefined;
      out.push(produced);
    }
    return out;
  }

  /** Close the `KMSClient`s this keyring built (a client passed in is left alone). Idempotent. */
  destroy(): void {
    this.#pool.destroy();
  }
}

function validateDiscovery(d: AwsKmsDiscoveryFilter): void {
  if (d === null || typeof d !== 'object') throw new InvalidArgumentError('discovery must be an object with accountIds');
  /* Precondition: discovery is never unrestricted; at least one account is named. */
  if (!Array.isArray(d.accountIds) || d.accountIds.length === 0 || d.accountIds.some((a) => typeof a !== 'string' || !/^\d{12}$/.test(a))) {
    throw new InvalidArgumentError('discovery.accountIds must list at least one 12-digit AWS account id');
  }
  if (d.partition !== undefined && (typeof d.partition !== 'string' || !/^aws[a-z-]*$/.test(d.partition))) throw new InvalidArgumentError('discovery.partition must be an ARN partition such as aws');
  if (d.regions !== undefined && (!Array.isArray(d.regions) || d.regions.some((r) => typeof r !== 'string' || !/^[a-z0-9-]{1,64}$/.test(r)))) {
    throw new InvalidArgumentError('discovery.regions must be an array of region names');
  }
}
