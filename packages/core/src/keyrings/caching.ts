/**
 * {@link CachingKeyring}: reuse data keys within limits and cache unwrapped ones, in front of any keyring.
 * @module
 */
import { backend } from '#backend';
import { InvalidArgumentError } from '../errors.js';
import type { EncryptionContext, Keyring, ServiceRewrapCapable, UnwrapRequest, WrapRequest, WrapResult, WrappedKey } from '../types.js';
import { concatBytes, utf8Bytes } from '../lib/bytes.js';
import { assertKeyring, registerCacheHits } from '../lib/keyring-call.js';

const DATA_KEY_BYTES = 32;

/** Limits of the encrypt-side cache: a data key is reused until the first of them is reached. */
export interface CachingKeyringEncryptOptions {
  /** How long a data key is reused, in milliseconds. Default 300,000 (5 minutes). */
  readonly maxAgeMs?: number;
  /** How many `wrap` calls (key groups sealed, normally one per document) one data key serves. Default 10,000. */
  readonly maxDocuments?: number;
  /**
   * How many plaintext bytes one data key protects, counted from {@link CachingWrapRequest.plaintextBytes}
   * when the caller reports it. Default 1 GiB.
   */
  readonly maxBytes?: number;
  /** How many distinct encryption contexts hold a reusable data key at once (least recently used go first). Default 1,000. */
  readonly maxEntries?: number;
}

/** Limits of the decrypt-side cache of unwrapped data keys. */
export interface CachingKeyringDecryptOptions {
  /** How long an unwrapped data key stays cached, in milliseconds. Default 300,000 (5 minutes). */
  readonly maxAgeMs?: number;
  /** How many unwrapped data keys are cached at once (least recently used go first). Default 1,000. */
  readonly maxEntries?: number;
}

/** Options of {@link CachingKeyring}. */
export interface CachingKeyringOptions {
  /** The keyring that really wraps and unwraps (a KMS keyring, a multi-keyring, …). */
  readonly keyring: Keyring;
  /** Encrypt-side limits, or `false` to never reuse a data key. */
  readonly encrypt?: CachingKeyringEncryptOptions | false;
  /** Decrypt-side limits, or `false` to never cache unwrapped keys. */
  readonly decrypt?: CachingKeyringDecryptOptions | false;
  /**
   * Called synchronously for every cache event. Exceptions it throws are ignored, so a faulty
   * listener cannot break encryption. On Node, forward events to `node:diagnostics_channel` here
   * if you want them there (core never imports it, so the browser build stays free of Node built-ins).
   */
  readonly onEvent?: (event: CachingKeyringEvent) => void;
  /** The clock, in milliseconds. Default `Date.now`. For tests and simulations. */
  readonly now?: () => number;
}

/** A {@link WrapRequest} with an optional size hint that lets the `maxBytes` limit count. */
export interface CachingWrapRequest extends WrapRequest {
  /** How many plaintext bytes the caller will encrypt under the returned data key. */
  readonly plaintextBytes?: number;
}

/** Which side of the cache an event or counter belongs to. */
export type CachingKeyringOperation = 'wrap' | 'unwrap';

/** Why a cached data key was dropped (and zeroed). */
export type CachingKeyringEvictionReason = 'expired' | 'documents' | 'bytes' | 'capacity' | 'cleared';

/** An observable cache event. Events never carry key bytes. */
export type CachingKeyringEvent =
  | { readonly type: 'hit' | 'miss' | 'coalesced' | 'bypass'; readonly operation: CachingKeyringOperation }
  | { readonly type: 'evict'; readonly operation: CachingKeyringOperation; readonly reason: CachingKeyringEvictionReason }
  | { readonly type: 'error'; readonly operation: CachingKeyringOperation; readonly error: unknown };

/** Counters for one side of the cache. */
export interface CachingKeyringCounters {
  /** Requests answered from the cache. */
  readonly hits: number;
  /** Requests that found nothing usable and called the inner keyring. */
  readonly misses: number;
  /** Requests answered by waiting for another request's in-flight inner call instead of making their own. */
  readonly coalesced: number;
  /** Requests passed straight through (a `wrap` given a data key to wrap, or reporting more than `maxBytes`). */
  readonly bypassed: number;
  /** Calls made to the inner keyring. */
  readonly innerCalls: number;
  /** Inner calls that failed. */
  readonly innerErrors: number;
  /** Cached data keys dropped and zeroed. */
  readonly evictions: number;
  /** Data keys cached right now. */
  readonly entries: number;
}

/** A snapshot of {@link CachingKeyring} statistics. */
export interface CachingKeyringStats {
  /** The encrypt side. */
  readonly wrap: CachingKeyringCounters;
  /** The decrypt side. */
  readonly unwrap: CachingKeyringCounters;
}

interface EncryptEntry {
  readonly dataKey: Uint8Array;
  readonly wrapped: readonly WrappedKey[];
  readonly createdAt: number;
  documents: number;
  bytes: number;
}

interface DecryptEntry {
  readonly dataKey: Uint8Array;
  readonly createdAt: number;
}

// The data-free events, built once: a cache hit is the hot path of every cached document, and
// building an event object per hit for a cache nobody listens to was pure allocation (issue 18).
// Frozen, so one listener cannot change what the next one sees.
const SIMPLE_EVENTS = Object.freeze({
  wrap: Object.freeze({
    hit: Object.freeze({ type: 'hit', operation: 'wrap' } as const),
    miss: Object.freeze({ type: 'miss', operation: 'wrap' } as const),
    coalesced: Object.freeze({ type: 'coalesced', operation: 'wrap' } as const),
    bypass: Object.freeze({ type: 'bypass', operation: 'wrap' } as const),
  }),
  unwrap: Object.freeze({
    hit: Object.freeze({ type: 'hit', operation: 'unwrap' } as const),
    miss: Object.freeze({ type: 'miss', operation: 'unwrap' } as const),
    coalesced: Object.freeze({ type: 'coalesced', operation: 'unwrap' } as const),
    bypass: Object.freeze({ type: 'bypass', operation: 'unwrap' } as const),
  }),
});

type MutableCounters = { -readonly [K in keyof CachingKeyringCounters]: CachingKeyringCounters[K] };

const newCounters = (): MutableCounters => ({ hits: 0, misses: 0, coalesced: 0, bypassed: 0, innerCalls: 0, innerErrors: 0, evictions: 0, entries: 0 });

/**
 * A keyring in front of another keyring that cuts the calls to it, which matters when every call
 * is a paid, rate-limited KMS request.
 *
 * - **Encrypt:** a data key from the inner keyring is reused for up to 10,000 `wrap` calls, 5
 *   minutes or 1 GiB of reported plaintext, whichever comes first (configurable). The cache is keyed
 *   by the full encryption context, so a data key is never reused across different contexts (a
 *   context with a row id therefore never reuses one). 1,000 records sealed with one context cost
 *   one inner `wrap`.
 * - **Decrypt:** unwrapped data keys are cached by the wrapped keys' bytes (provider, key id,
 *   ciphertext of every one in the group) plus the full context, for 5 minutes, at most 1,000 keys,
 *   least recently used evicted first.
 * - **Coalescing:** concurrent misses for the same entry wait for one inner call: 64 concurrent
 *   encrypts on a cold cache make one inner `wrap`. If that call fails, every waiter gets its error;
 *   failures are never cached.
 * - **Observability:** {@link CachingKeyring.stats} counts hits, misses, coalesced waits and inner
 *   calls; `onEvent` and {@link CachingKeyring.subscribe} deliver events.
 *
 * Every caller gets its own copy of a data key (core zeroes what it receives). Cached keys are
 * zeroed when evicted or on {@link CachingKeyring.clear}; expired keys are dropped on the next
 * access or insert.
 *
 * Why reusing a data key is safe: core never encrypts a field with the data key itself. For every
 * document it draws a random 256-bit message id and derives the document's field keys with
 * HKDF-SHA256 from the data key and that id, so documents sharing a data key still use
 * independent AES-256-GCM keys, and the random-IV bound of NIST SP 800-38D §8.3 (2^32 messages per
 * key) applies per document, not per cached key. The header MAC and key commitment are derived per
 * document too. What reuse does change is exposure: whoever obtains one cached data key (or the
 * right to unwrap one document's key) can read every document sealed under it, up to the limits
 * above; lower them where that matters more than KMS cost. Put the cache outside a
 * {@link MultiKeyring}, not inside it: a wrapped-under-several-KEKs key is then reused as a whole.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { CachingKeyring, LocalKeyring, encrypt } from '@fieldseal/core';
 * const inner = await LocalKeyring.generate(); // in production: a KMS keyring
 * const keyring = new CachingKeyring({ keyring: inner, encrypt: { maxAgeMs: 60_000, maxDocuments: 1_000 } });
 * for (const record of records) {
 *   await encrypt(record, { keyring, paths: ['$.ssn'], context: { tenant: 't1' } });
 * }
 * console.log(keyring.stats().wrap); // { hits: 999, misses: 1, innerCalls: 1, … }
 * ```
 */
export class CachingKeyring implements Keyring, ServiceRewrapCapable {
  /** The keyring that really wraps and unwraps. */
  readonly keyring: Keyring;
  readonly #enc: Required<CachingKeyringEncryptOptions> | undefined;
  readonly #dec: Required<CachingKeyringDecryptOptions> | undefined;
  readonly #now: () => number;
  readonly #listeners = new Set<(event: CachingKeyringEvent) => void>();
  readonly #encEntries = new Map<string, EncryptEntry>();
  readonly #encPending = new Map<string, Pending<WrapResult>>();
  readonly #decEntries = new Map<string, DecryptEntry>();
  readonly #decPending = new Map<string, Pending<Uint8Array>>();
  readonly #counters = { wrap: newCounters(), unwrap: newCounters() };
  /*
   * A lower bound of the creation times of each side's cached keys (exact after each sweep, lowered
   * by each insert, never raised by an eviction): while it is younger than maxAgeMs nothing can
   * have expired, so a fill skips the walk over up to maxEntries keys. Each of 1,000 rows with its
   * own data key used to walk the whole cache (issue 18).
   */
  #encOldest = Infinity;
  #decOldest = Infinity;
  /* Keys the decrypt-cache index, so index values cannot be precomputed from documents. */
  readonly #indexKey = backend.randomBytes(32);

  /**
   * @param options The inner keyring, the limits, an event callback.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when `keyring` is not a keyring or a limit is not a
   *   positive integer (`maxAgeMs` may be any positive number).
   */
  constructor(options: CachingKeyringOptions) {
    /* Precondition: options with an inner keyring. */
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('CachingKeyring needs options with a keyring');
    assertKeyring(options.keyring, 'CachingKeyring: options.keyring');
    this.keyring = options.keyring;
    const enc = options.encrypt;
    const dec = options.decrypt;
    this.#enc =
      enc === false
        ? undefined
        : {
            maxAgeMs: positive(enc?.maxAgeMs, 300_000, 'encrypt.maxAgeMs', false),
            maxDocuments: positive(enc?.maxDocuments, 10_000, 'encrypt.maxDocuments', true),
            maxBytes: positive(enc?.maxBytes, 2 ** 30, 'encrypt.maxBytes', true),
            maxEntries: positive(enc?.maxEntries, 1_000, 'encrypt.maxEntries', true),
          };
    this.#dec =
      dec === false
        ? undefined
        : {
            maxAgeMs: positive(dec?.maxAgeMs, 300_000, 'decrypt.maxAgeMs', false),
            maxEntries: positive(dec?.maxEntries, 1_000, 'decrypt.maxEntries', true),
          };
    if (options.onEvent !== undefined) {
      if (typeof options.onEvent !== 'function') throw new InvalidArgumentError('CachingKeyring: onEvent must be a function');
      this.#listeners.add(options.onEvent);
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidArgumentError('CachingKeyring: now must be a function');
    this.#now = options.now ?? Date.now;
    registerCacheHits(this, {
      unwrap: CachingKeyring.prototype.unwrap,
      wrap: CachingKeyring.prototype.wrap,
      unwrapHit: (wrapped, context) => this.#unwrapHit(wrapped, context),
      wrapHit: (context, plaintextBytes) => this.#wrapHit(context, plaintextBytes),
    });
  }

  /**
   * Add an event listener.
   * @param listener Called synchronously for every event; its exceptions are ignored.
   * @returns A function that removes the listener.
   * @throws `ERR_FIELDSEAL_INVALID_ARGUMENT` when `listener` is not a function.
   */
  subscribe(listener: (event: CachingKeyringEvent) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('CachingKeyring: listener must be a function');
    const own = (event: CachingKeyringEvent): void => listener(event);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /**
   * A snapshot of the counters.
   * @returns Counters for the encrypt (`wrap`) and decrypt (`unwrap`) sides.
   */
  stats(): CachingKeyringStats {
    return {
      wrap: Object.freeze({ ...this.#counters.wrap, entries: this.#encEntries.size }),
      unwrap: Object.freeze({ ...this.#counters.unwrap, entries: this.#decEntries.size }),
    };
  }

  /** Drop and zero every cached data key (for example after a key rotation or on shutdown). */
  clear(): void {
    for (const [key, entry] of [...this.#encEntries]) this.#evictEnc(key, entry, 'cleared');
    for (const [key, entry] of [...this.#decEntries]) this.#evictDec(key, entry, 'cleared');
  }

  /**
   * Return a cached data key for this context while it is within its limits, otherwise get a new
   * one from the inner keyring (one call for all concurrent callers) and cache it.
   *
   * @param request The context; a `dataKey` to wrap makes the call pass straight through; an
   *   optional `plaintextBytes` counts toward `maxBytes`.
   * @returns A copy of the data key and the wrapped keys.
   * @throws Whatever the inner keyring throws; `ERR_FIELDSEAL_INVALID_ARGUMENT` when
   *   `plaintextBytes` is not a non-negative integer or the inner keyring breaks its contract.
   */
  async wrap(request: CachingWrapRequest): Promise<WrapResult> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('CachingKeyring: wrap needs a request object');
    const limits = this.#enc;
    if (limits === undefined || request.dataKey !== undefined) {
      // Another keyring chose this data key; there is nothing to reuse.
      this.#count('wrap', 'bypassed', SIMPLE_EVENTS.wrap.bypass);
      return this.#innerWrap(request, request.signal);
    }
    const bytes = request.plaintextBytes ?? 0;
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InvalidArgumentError('CachingKeyring: plaintextBytes must be a non-negative integer');
    if (bytes > limits.maxBytes) {
      // Larger than one key may protect: a key of its own, and the cached key stays for smaller documents.
      this.#count('wrap', 'bypassed', SIMPLE_EVENTS.wrap.bypass);
      return this.#innerWrap({ context: request.context }, request.signal);
    }
    const key = contextKey(request.context);
    let waited = false;
    for (;;) {
      const entry = this.#encEntries.get(key);
      if (entry !== undefined) {
        const spent = this.#spent(entry, bytes, limits);
        if (spent === undefined) return this.#useEnc(key, entry, bytes, waited);
        this.#evictEnc(key, entry, spent);
      }
      const pending = this.#encPending.get(key);
      if (pending !== undefined) {
        waited = true;
        await join(this.#encPending, key, pending, request.signal);
        continue;
      }
      this.#count('wrap', 'misses', SIMPLE_EVENTS.wrap.miss);
      const controller = new AbortController();
      const fill: Pending<WrapResult> = { promise: this.#fillEnc(key, request.context, bytes, limits, controller.signal), controller, waiters: 0 };
      this.#encPending.set(key, fill);
      // Forgotten when it settles, not when this caller stops waiting: others may still wait for it.
      const forget = (): void => {
        if (this.#encPending.get(key) === fill) this.#encPending.delete(key);
      };
      fill.promise.then(forget, forget);
      return join(this.#encPending, key, fill, request.signal);
    }
  }

  /**
   * Return the cached data key for exactly these wrapped keys and context, otherwise unwrap with the
   * inner keyring (one call for all concurrent callers) and cache the result.
   *
   * @param request The group's wrapped keys and the full context.
   * @returns A copy of the data key.
   * @throws Whatever the inner keyring throws (normally `ERR_FIELDSEAL_KEY_UNAVAILABLE`);
   *   `ERR_FIELDSEAL_INVALID_ARGUMENT` when the inner keyring returns something other than a
   *   32-byte key.
   */
  async unwrap(request: UnwrapRequest): Promise<Uint8Array> {
    const limits = this.#dec;
    if (limits === undefined) {
      this.#count('unwrap', 'bypassed', SIMPLE_EVENTS.unwrap.bypass);
      return this.#innerUnwrap(request, request.signal);
    }
    // The common small request is indexed without an await (one less hop per cached document).
    const key = exactUnwrapKey(request) ?? (await hashedUnwrapKey(request, this.#indexKey));
    let waited = false;
    for (;;) {
      const entry = this.#decEntries.get(key);
      if (entry !== undefined) {
        if (this.#now() - entry.createdAt < limits.maxAgeMs) return this.#useDec(key, entry, waited);
        this.#evictDec(key, entry, 'expired');
      }
      const pending = this.#decPending.get(key);
      if (pending !== undefined) {
        waited = true;
        await join(this.#decPending, key, pending, request.signal);
        continue;
      }
      this.#count('unwrap', 'misses', SIMPLE_EVENTS.unwrap.miss);
      const controller = new AbortController();
      const fill: Pending<Uint8Array> = { promise: this.#fillDec(key, request, limits, controller.signal), controller, waiters: 0 };
      this.#decPending.set(key, fill);
      // Forgotten when it settles, not when this caller stops waiting: others may still wait for it.
      const forget = (): void => {
        if (this.#decPending.get(key) === fill) this.#decPending.delete(key);
      };
      fill.promise.then(forget, forget);
      return join(this.#decPending, key, fill, request.signal);
    }
  }

  /**
   * Server-side re-wrap, passed through to the inner keyring when it offers it (nothing is cached),
   * so a caching keyring can be the target of {@link rewrap} without losing AWS `ReEncrypt` or Vault
   * `rewrap`.
   *
   * @param request The wrapped keys to re-wrap and the context.
   * @returns The inner keyring's answer, or `undefined` when it cannot re-wrap in the service.
   * @throws Whatever the inner keyring throws.
   */
  async rewrapInService(request: UnwrapRequest): Promise<readonly WrappedKey[] | undefined> {
    const inner = this.keyring as Partial<ServiceRewrapCapable>;
    if (typeof inner.rewrapInService !== 'function') return undefined;
    return inner.rewrapInService(request);
  }

  /** A copy of a cached data key still within its limits, counted as used (most recently). */
  #useEnc(key: string, entry: EncryptEntry, bytes: number, waited: boolean): WrapResult {
    entry.documents += 1;
    entry.bytes += bytes;
    this.#encEntries.delete(key);
    this.#encEntries.set(key, entry);
    this.#count('wrap', waited ? 'coalesced' : 'hits', waited ? SIMPLE_EVENTS.wrap.coalesced : SIMPLE_EVENTS.wrap.hit);
    return { dataKey: entry.dataKey.slice(), wrapped: copyWrapped(entry.wrapped) };
  }

  #useDec(key: string, entry: DecryptEntry, waited: boolean): Uint8Array {
    this.#decEntries.delete(key);
    this.#decEntries.set(key, entry);
    this.#count('unwrap', waited ? 'coalesced' : 'hits', waited ? SIMPLE_EVENTS.unwrap.coalesced : SIMPLE_EVENTS.unwrap.hit);
    return entry.dataKey.slice();
  }

  /** What `wrap` answers at once when it has a usable cached key; undefined for anything else. */
  #wrapHit(context: EncryptionContext, plaintextBytes: number | undefined): WrapResult | undefined {
    const limits = this.#enc;
    const bytes = plaintextBytes ?? 0;
    if (limits === undefined || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > limits.maxBytes) return undefined;
    const key = contextKey(context);
    const entry = this.#encEntries.get(key);
    if (entry === undefined || this.#spent(entry, bytes, limits) !== undefined) return undefined;
    return this.#useEnc(key, entry, bytes, false);
  }

  /** What `unwrap` answers at once when it holds the key; undefined for anything else. */
  #unwrapHit(wrapped: readonly WrappedKey[], context: EncryptionContext): Uint8Array | undefined {
    const limits = this.#dec;
    if (limits === undefined) return undefined;
    const key = exactUnwrapKey({ wrapped, context });
    const entry = key === undefined ? undefined : this.#decEntries.get(key);
    if (key === undefined || entry === undefined || this.#now() - entry.createdAt >= limits.maxAgeMs) return undefined;
    return this.#useDec(key, entry, false);
  }

  async #fillEnc(key: string, context: EncryptionContext, bytes: number, limits: Required<CachingKeyringEncryptOptions>, signal: AbortSignal): Promise<WrapResult> {
    const result = await this.#innerWrap({ context }, signal);
    const entry: EncryptEntry = { dataKey: result.dataKey, wrapped: copyWrapped(result.wrapped), createdAt: this.#now(), documents: 1, bytes };
    const copy = { dataKey: result.dataKey.slice(), wrapped: copyWrapped(result.wrapped) };
    if (limits.maxDocuments > 1) {
      this.#sweep('wrap');
      while (this.#encEntries.size >= limits.maxEntries) {
        const [oldKey, oldEntry] = this.#encEntries.entries().next().value as [string, EncryptEntry];
        this.#evictEnc(oldKey, oldEntry, 'capacity');
      }
      this.#encEntries.set(key, entry);
      if (entry.createdAt < this.#encOldest) this.#encOldest = entry.createdAt;
    } else {
      entry.dataKey.fill(0);
    }
    // Every caller gave up: nobody will take this copy (the cached entry still serves the next one).
    if (signal.aborted) copy.dataKey.fill(0);
    return copy;
  }

  async #fillDec(key: string, request: UnwrapRequest, limits: Required<CachingKeyringDecryptOptions>, signal: AbortSignal): Promise<Uint8Array> {
    const dataKey = await this.#innerUnwrap(request, signal);
    const copy = dataKey.slice();
    if (signal.aborted) copy.fill(0);
    this.#sweep('unwrap');
    while (this.#decEntries.size >= limits.maxEntries) {
      const [oldKey, oldEntry] = this.#decEntries.entries().next().value as [string, DecryptEntry];
      this.#evictDec(oldKey, oldEntry, 'capacity');
    }
    const createdAt = this.#now();
    this.#decEntries.set(key, { dataKey, createdAt });
    if (createdAt < this.#decOldest) this.#decOldest = createdAt;
    return copy;
  }

  async #innerWrap(request: WrapRequest, signal: AbortSignal | undefined): Promise<WrapResult> {
    this.#counters.wrap.innerCalls += 1;
    let result: WrapResult;
    try {
      const sig = signal === undefined ? {} : { signal };
      result = await this.keyring.wrap(request.dataKey === undefined ? { context: request.context, ...sig } : { dataKey: request.dataKey, context: request.context, ...sig });
      /* Postcondition: the inner keyring returned a 32-byte data key and at least one wrapped key, so nothing malformed is cached. */
      if (!(result?.dataKey instanceof Uint8Array) || result.dataKey.length !== DATA_KEY_BYTES) {
        throw new InvalidArgumentError('keyring contract violated: wrap must return a 32-byte data key');
      }
      if (!Array.isArray(result.wrapped) || result.wrapped.length === 0 || !result.wrapped.every(isWrappedKey)) {
        result.dataKey.fill(0);
        throw new InvalidArgumentError('keyring contract violated: wrap returned no or malformed wrapped keys');
      }
    } catch (error) {
      this.#count('wrap', 'innerErrors', { type: 'error', operation: 'wrap', error });
      throw error;
    }
    return result;
  }

  async #innerUnwrap(request: UnwrapRequest, signal: AbortSignal | undefined): Promise<Uint8Array> {
    this.#counters.unwrap.innerCalls += 1;
    try {
      const dataKey = await this.keyring.unwrap({ wrapped: request.wrapped, context: request.context, ...(signal === undefined ? {} : { signal }) });
      /* Postcondition: the inner keyring returned a 32-byte data key, so nothing malformed is cached. */
      if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
        if (dataKey instanceof Uint8Array) dataKey.fill(0);
        throw new InvalidArgumentError('keyring contract violated: unwrap must return a 32-byte data key');
      }
      return dataKey;
    } catch (error) {
      this.#count('unwrap', 'innerErrors', { type: 'error', operation: 'unwrap', error });
      throw error;
    }
  }

  #spent(entry: EncryptEntry, bytes: number, limits: Required<CachingKeyringEncryptOptions>): CachingKeyringEvictionReason | undefined {
    if (this.#now() - entry.createdAt >= limits.maxAgeMs) return 'expired';
    if (entry.documents >= limits.maxDocuments) return 'documents';
    if (entry.bytes + bytes > limits.maxBytes) return 'bytes';
    return undefined;
  }

  /** Drop expired entries, so keys of contexts that are never used again do not linger until capacity pushes them out. */
  #sweep(operation: CachingKeyringOperation): void {
    const now = this.#now();
    if (operation === 'wrap') this.#encOldest = sweepExpired(this.#encEntries, now, this.#enc!.maxAgeMs, this.#encOldest, (key, entry) => this.#evictEnc(key, entry, 'expired'));
    else this.#decOldest = sweepExpired(this.#decEntries, now, this.#dec!.maxAgeMs, this.#decOldest, (key, entry) => this.#evictDec(key, entry, 'expired'));
  }

  #evictEnc(key: string, entry: EncryptEntry, reason: CachingKeyringEvictionReason): void {
    this.#encEntries.delete(key);
    entry.dataKey.fill(0);
    this.#count('wrap', 'evictions', { type: 'evict', operation: 'wrap', reason });
  }

  #evictDec(key: string, entry: DecryptEntry, reason: CachingKeyringEvictionReason): void {
    this.#decEntries.delete(key);
    entry.dataKey.fill(0);
    this.#count('unwrap', 'evictions', { type: 'evict', operation: 'unwrap', reason });
  }

  #count(operation: CachingKeyringOperation, counter: Exclude<keyof MutableCounters, 'entries'>, event: CachingKeyringEvent): void {
    this.#counters[operation][counter] += 1;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener must not be able to break encryption or leave the cache half-updated.
      }
    }
  }
}

/**
 * Evict the expired entries unless `oldest` (a lower bound of their creation times) shows none can
 * be; returns the new bound, exact over the entries kept.
 */
function sweepExpired<E extends { readonly createdAt: number }>(entries: Map<string, E>, now: number, maxAge: number, oldest: number, evict: (key: string, entry: E) => void): number {
  if (now - oldest < maxAge) return oldest;
  let next = Infinity;
  // Deleting the entry being visited is well defined for a Map: no copy of the cache per fill
  // (a batch of 1,000 new rows made 1,000 copies of a cache of up to 1,000 entries; issue 18).
  for (const [key, entry] of entries) {
    if (now - entry.createdAt >= maxAge) evict(key, entry);
    else if (entry.createdAt < next) next = entry.createdAt;
  }
  return next;
}

/** One in-flight inner call, shared by every concurrent caller that needs the same entry. */
interface Pending<T> {
  readonly promise: Promise<T>;
  /** Aborts the inner call once every caller waiting for it has given up. */
  readonly controller: AbortController;
  /** Callers still waiting. */
  waiters: number;
}

/**
 * Wait for a shared inner call, giving up when this caller's signal fires. The inner call is not
 * tied to any one caller's signal (others may still want it); when the last waiter gives up it is
 * aborted and forgotten, so a call that never settles cannot block this cache entry for ever.
 */
function join<T>(map: Map<string, Pending<T>>, key: string, pending: Pending<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) {
    // A caller without a signal never gives up: the inner call stays wanted.
    pending.waiters = Number.POSITIVE_INFINITY;
    return pending.promise;
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  pending.waiters += 1;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      pending.waiters -= 1;
      if (pending.waiters === 0) {
        pending.controller.abort(signal.reason);
        if (map.get(key) === pending) map.delete(key);
      }
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function positive(value: number | undefined, fallback: number, name: string, integer: boolean): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && value > 0 && (integer ? Number.isSafeInteger(value) : Number.isFinite(value));
  if (!ok) throw new InvalidArgumentError(`CachingKeyring: ${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return value;
}

function isWrappedKey(k: unknown): k is WrappedKey {
  const w = k as WrappedKey | null;
  return typeof w === 'object' && w !== null && typeof w.provider === 'string' && typeof w.keyId === 'string' && w.ciphertext instanceof Uint8Array;
}

/** Callers may keep or alter what they receive; the cached wrapped keys must stay as they were. */
function copyWrapped(list: readonly WrappedKey[]): WrappedKey[] {
  return list.map((w) => ({ provider: w.provider, keyId: w.keyId, ciphertext: w.ciphertext.slice() }));
}

/** An injective string for a context: its pairs sorted by key. Only used as a map key, never stored. */
function contextKey(context: EncryptionContext): string {
  if (context === null || typeof context !== 'object') throw new InvalidArgumentError('CachingKeyring: context must be an object of strings');
  const keys = Object.keys(context);
  // Insertion sort (by UTF-16 code units, as sort() without a comparator): a context has a few
  // keys, and sort() allocated its work space on every cached document (issue 18).
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  const parts: string[] = new Array(keys.length * 2);
  for (let i = 0; i < keys.length; i++) {
    const v = context[keys[i]!];
    if (typeof v !== 'string') throw new InvalidArgumentError('CachingKeyring: context values must be strings');
    parts[2 * i] = keys[i]!;
    parts[2 * i + 1] = v;
  }
  return JSON.stringify(parts);
}

// Up to this many characters the decrypt-cache index is the wrapped keys and context themselves.
const EXACT_INDEX_MAX_CHARS = 4096;

/**
 * The decrypt-cache index of a request. Small requests (every KMS and local wrapped key in
 * practice) are indexed by an injective string of the wrapped keys and the context: no hashing,
 * so no collision to reason about. Larger ones (a hostile header may carry 16 wrapped keys of
 * 64 KiB) by an HMAC-SHA256 under a per-cache random key over a length-prefixed encoding, so that
 * 1,000 cached entries never hold gigabytes of index. The `x`/`h` prefixes keep the two apart.
 */
function exactUnwrapKey(request: UnwrapRequest): string | undefined {
  if (request === null || typeof request !== 'object' || !Array.isArray(request.wrapped) || !request.wrapped.every(isWrappedKey)) {
    throw new InvalidArgumentError('CachingKeyring: unwrap needs an array of wrapped keys');
  }
  const context = contextKey(request.context);
  let chars = context.length;
  for (const w of request.wrapped) chars += w.provider.length + w.keyId.length + Math.ceil((w.ciphertext.length * 4) / 3) + 16;
  if (chars > EXACT_INDEX_MAX_CHARS) return undefined;
  // Injective by construction: the context is a JSON array and the provider and key id JSON strings,
  // each of which ends itself; the ciphertext's base64url is ended by '.', outside its alphabet. One
  // string built in place: the nested JSON.stringify it replaces was a tenth of a cached decrypt.
  let key = 'x' + context;
  for (const w of request.wrapped) key += JSON.stringify(w.provider) + JSON.stringify(w.keyId) + backend.base64urlEncode(w.ciphertext) + '.';
  return key;
}

/** The index of a request {@link exactUnwrapKey} found too large (already checked by it). */
async function hashedUnwrapKey(request: UnwrapRequest, indexKey: Uint8Array): Promise<string> {
  const parts: Uint8Array[] = [u32(request.wrapped.length)];
  for (const w of request.wrapped) {
    for (const field of [utf8Bytes(w.provider), utf8Bytes(w.keyId), w.ciphertext]) parts.push(u32(field.length), field);
  }
  parts.push(utf8Bytes(contextKey(request.context)));
  return 'h' + backend.base64urlEncode(await backend.hmacSha256(indexKey, concatBytes(...parts)));
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
