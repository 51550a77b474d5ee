import { AbortedError, FieldsealError, InvalidArgumentError, KeyUnavailableError, LimitExceededError, ProviderError } from '../errors.js';
import type { EncryptionContext, Keyring, Limits, WrapResult, WrappedKey } from '../types.js';
import { utf8Bytes, zeroize } from './bytes.js';
import { DATA_KEY_LENGTH } from './format/constants.js';

/**
 * Default deadline of one keyring call: long enough for a KMS call with its SDK's own retries,
 * short enough that a black-holed endpoint or a keyring whose promise never settles does not hang
 * a request for ever.
 */
export const DEFAULT_KEYRING_TIMEOUT_MS = 30_000;
// setTimeout turns larger delays into 1 ms, so a huge deadline would fire at once.
const MAX_KEYRING_TIMEOUT_MS = 2_147_483_647;

/** The caller's abort signal and the deadline of each keyring call of one operation. */
export interface KeyringCallControl {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
}

/** Used where the caller gave neither a signal nor a deadline. */
export const DEFAULT_CALL_CONTROL: KeyringCallControl = Object.freeze({ signal: undefined, timeoutMs: DEFAULT_KEYRING_TIMEOUT_MS });

/** Precondition: `signal` is an AbortSignal and `keyringTimeoutMs` a whole number of milliseconds setTimeout can hold. */
export function callControl(signal: unknown, timeoutMs: unknown): KeyringCallControl {
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_KEYRING_TIMEOUT_MS)) {
    throw new InvalidArgumentError(`keyringTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_KEYRING_TIMEOUT_MS}`);
  }
  if (signal === undefined) return timeoutMs === undefined ? DEFAULT_CALL_CONTROL : { signal: undefined, timeoutMs };
  if (!(signal instanceof AbortSignal)) throw new InvalidArgumentError('signal must be an AbortSignal');
  const control = { signal, timeoutMs: (timeoutMs as number | undefined) ?? DEFAULT_KEYRING_TIMEOUT_MS };
  throwIfAborted(control);
  return control;
}

/** Stop before starting work when the caller has already given up. */
export function throwIfAborted(control: KeyringCallControl): void {
  const signal = control.signal;
  if (signal === undefined) return;
  let aborted: boolean;
  try {
    aborted = signal.aborted;
  } catch (cause) {
    throw new InvalidArgumentError('signal must be an AbortSignal', { cause });
  }
  if (aborted) throw new AbortedError('the operation was aborted', { cause: signal.reason });
}

/** A pending keyring call's deadline, on the shared deadline timer. */
interface Deadline {
  readonly at: number;
  readonly expire: () => void;
}

// One timer serves every pending keyring call (issue 18): a timer per call cost a setTimeout and a
// clearTimeout per document, about a tenth of a cached one-field decrypt. The timer is armed for
// the earliest deadline, re-armed after each sweep, and unref'd while no call is pending, so an
// idle process still exits as it did when each call cleared its own timer.
const pendingDeadlines = new Set<Deadline>();
let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
let deadlineTimerAt = Infinity;

function setTimerRef(ref: boolean): void {
  const t = deadlineTimer as unknown as { ref?: () => void; unref?: () => void } | undefined;
  // Node timers can be ref'd; a browser's are numbers and keep nothing alive.
  if (t !== undefined && typeof t === 'object' && typeof t.unref === 'function' && typeof t.ref === 'function') {
    if (ref) t.ref();
    else t.unref();
  }
}

function armDeadlineTimer(at: number): void {
  if (deadlineTimer !== undefined) {
    if (deadlineTimerAt <= at) return setTimerRef(true);
    clearTimeout(deadlineTimer);
  }
  deadlineTimerAt = at;
  deadlineTimer = setTimeout(sweepDeadlines, Math.max(0, Math.ceil(at - performance.now())));
}

function sweepDeadlines(): void {
  deadlineTimer = undefined;
  deadlineTimerAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  for (const d of pendingDeadlines) {
    if (d.at <= now) {
      pendingDeadlines.delete(d);
      d.expire();
    } else if (d.at < next) next = d.at;
  }
  if (next !== Infinity) armDeadlineTimer(next);
}

function addDeadline(d: Deadline): void {
  pendingDeadlines.add(d);
  armDeadlineTimer(d.at);
}

function removeDeadline(d: Deadline): void {
  pendingDeadlines.delete(d);
  if (pendingDeadlines.size === 0) setTimerRef(false);
}

/**
 * Run one keyring call under the operation's deadline and the caller's signal. The keyring gets a
 * signal of its own that fires on either, so it can stop its work; this call does not wait for it.
 * A result that arrives too late is handed to `discard` (data keys get zeroed).
 *
 * `run` receives a getter for that signal: its AbortController is made only when the keyring reads
 * the signal (a cache hit never does), and a signal read after the call failed is already aborted.
 */
export function guardedCall<T>(what: string, control: KeyringCallControl, run: (signal: () => AbortSignal) => T | PromiseLike<T>, discard: (late: unknown) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let inner: AbortController | undefined;
    let failedWith: FieldsealError | undefined;
    const outer = control.signal;
    let done = false;
    const signal = (): AbortSignal => {
      if (inner === undefined) {
        inner = new AbortController();
        if (failedWith !== undefined) inner.abort(failedWith);
      }
      return inner.signal;
    };
    const fail = (err: FieldsealError): void => {
      if (done) return;
      finish();
      failedWith = err;
      inner?.abort(err);
      reject(err);
    };
    const onAbort = (): void => fail(new AbortedError('the operation was aborted', { cause: outer?.reason }));
    const deadline: Deadline = {
      at: performance.now() + control.timeoutMs,
      expire: () => fail(new ProviderError({ provider: 'keyring', kind: 'unavailable', retryable: true, message: `the keyring's ${what} did not answer within ${control.timeoutMs} ms` })),
    };
    addDeadline(deadline);
    const finish = (): void => {
      done = true;
      removeDeadline(deadline);
      outer?.removeEventListener('abort', onAbort);
    };
    if (outer !== undefined) {
      try {
        if (outer.aborted) return onAbort();
        outer.addEventListener('abort', onAbort, { once: true });
      } catch (cause) {
        finish();
        return reject(new InvalidArgumentError('signal must be an AbortSignal', { cause }));
      }
    }
    let pending: Promise<T>;
    try {
      // Promise.resolve also absorbs a keyring that returns a non-promise or a hostile thenable.
      pending = Promise.resolve(run(signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        if (done) return discard(value);
        finish();
        resolve(value);
      },
      (err: unknown) => {
        if (done) return;
        finish();
        reject(err);
      },
    );
  });
}

// Prototypes of keyrings whose calls are a few microseconds of CPU in the calling thread.
const signalFree = new WeakSet<object>();

/**
 * @internal Register a keyring class's prototype as needing no signal (LocalKeyring's module does):
 * see {@link withSignal}. A registry, so this layer does not import the keyrings built on it.
 */
export function registerSignalFree(prototype: object): void {
  signalFree.add(prototype);
}

/**
 * A keyring request whose `signal` is an own, enumerable getter (a keyring may spread the request)
 * that makes the AbortController only when read. Defined on the plain object rather than written as
 * a getter in an object literal: V8 builds such a literal on a slow path and the keyring then reads
 * a dictionary-mode object, which cost several microseconds per cached unwrap (issue 18).
 *
 * A LocalKeyring gets no signal: its work is a few microseconds of CPU in this thread, and it reads
 * the signal only to throw if it has already fired, which it cannot have at the start of a call made
 * here (a later firing rejects the call here at once; the key it still returns is discarded and
 * zeroed, as for any late answer). The AbortController that read made was about a tenth of a
 * rewrap's CPU time, mostly in garbage collection. The call stays under the deadline and the
 * caller's signal all the same. Exact instances only (the keyring's prototype is the registered
 * one): a subclass may do slower work that should see the signal.
 */
export function withSignal<T extends object>(keyring: Keyring, request: T, signal: () => AbortSignal): T & { readonly signal?: AbortSignal } {
  if (signalFree.has(Object.getPrototypeOf(keyring) as object)) return request;
  return Object.defineProperty(request, 'signal', { get: signal, enumerable: true }) as T & { readonly signal: AbortSignal };
}

/**
 * @internal The synchronous cache hits of a CachingKeyring, registered by its constructor. A hit
 * cannot hang or fail, so it needs no deadline, no abort listener and no promise: skipping the
 * guarded call saved a few microseconds of every cached document (issue 18). Each answers
 * `undefined` for anything but a plain hit, and the keyring is then called as usual.
 */
export interface CacheHits {
  /** The `unwrap` and `wrap` the hits stand for: an override (subclass or instance) turns them off. */
  readonly unwrap: Keyring['unwrap'];
  readonly wrap: Keyring['wrap'];
  unwrapHit(wrapped: readonly WrappedKey[], context: EncryptionContext): Uint8Array | undefined;
  wrapHit(context: EncryptionContext, plaintextBytes: number | undefined): WrapResult | undefined;
}

// Keyed by the registered object itself: a Proxy around it is another object and is never looked
// up here, so reading `unwrap`/`wrap` below runs no trap.
const cacheHits = new WeakMap<object, CacheHits>();

/** @internal Register a keyring's synchronous cache hits (CachingKeyring's constructor). */
export function registerCacheHits(keyring: object, hits: CacheHits): void {
  cacheHits.set(keyring, hits);
}

/** A registered keyring's synchronous answer, when `method` is still the one registered; else undefined. */
function cacheHit<T>(keyring: Keyring, method: 'wrap' | 'unwrap', hit: (hits: CacheHits) => T | undefined): T | undefined {
  const hits = cacheHits.get(keyring);
  if (hits === undefined) return undefined;
  try {
    return keyring[method] === hits[method] ? hit(hits) : undefined;
  } catch {
    // Whatever failed is met again, and typed, by the ordinary call.
    return undefined;
  }
}

/** Zero a buffer a keyring handed over; a hostile one (a Proxy, a getter) may refuse, and holds nothing of ours. */
function zeroTheirs(value: unknown): void {
  try {
    if (value instanceof Uint8Array) value.fill(0);
  } catch {
    // nothing to do
  }
}

function discardKey(late: unknown): void {
  if (late instanceof Uint8Array) return zeroTheirs(late);
  try {
    if (late !== null && typeof late === 'object') zeroTheirs((late as { dataKey?: unknown }).dataKey);
  } catch {
    // A hostile late result: nothing of ours is in it.
  }
}

/** Precondition: something with wrap and unwrap methods. */
export function assertKeyring(keyring: unknown, what: string): asserts keyring is Keyring {
  let ok: boolean;
  try {
    ok = keyring !== null && typeof keyring === 'object' && typeof (keyring as Keyring).wrap === 'function' && typeof (keyring as Keyring).unwrap === 'function';
  } catch (cause) {
    throw new InvalidArgumentError(`${what} must be a keyring (an object with wrap and unwrap methods)`, { cause });
  }
  if (!ok) throw new InvalidArgumentError(`${what} must be a keyring (an object with wrap and unwrap methods)`);
}

const contract = (what: string, cause?: unknown): InvalidArgumentError => new InvalidArgumentError(`keyring contract violated: ${what}`, cause === undefined ? undefined : { cause });

/** A copy of bytes a keyring handed over, in memory of our own (it may reuse or zero its buffer). */
function ownCopy(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw contract(what);
  try {
    const out = new Uint8Array(value.length);
    out.set(value);
    return out;
  } catch (cause) {
    throw contract(what, cause);
  }
}

/** Constant time: whether `key` occurs anywhere in `bytes` (no early exit, no branch on secret bytes). */
function containsKey(bytes: Uint8Array, key: Uint8Array): boolean {
  const n = key.length;
  let found = 0;
  for (let i = 0; i + n <= bytes.length; i++) {
    let d = 0;
    for (let j = 0; j < n; j++) d |= bytes[i + j]! ^ key[j]!;
    found |= (d - 1) >>> 31;
  }
  return found === 1;
}

/**
 * Check and copy the wrapped keys a keyring produced. Each property is read once (a getter cannot
 * answer one thing to the check and another to the encoder), each ciphertext is copied (the
 * keyring may reuse its buffer), and no wrapped key may carry `dataKey` in the clear.
 */
export function checkWrapped(list: unknown, limits: Limits, dataKey?: Uint8Array): WrappedKey[] {
  if (!Array.isArray(list)) throw contract('wrap returned no list of wrapped keys');
  let length: number;
  try {
    length = list.length;
  } catch (cause) {
    throw contract('wrap returned an unreadable list of wrapped keys', cause);
  }
  if (length === 0) throw contract('wrap returned no wrapped keys');
  if (length > limits.maxWrappedKeys) throw new LimitExceededError(`a keyring produced more than ${limits.maxWrappedKeys} wrapped keys`, 'maxWrappedKeys');
  const out: WrappedKey[] = new Array(length);
  for (let i = 0; i < length; i++) {
    let provider: unknown, keyId: unknown, ciphertext: unknown;
    try {
      const k: unknown = list[i];
      if (k === null || typeof k !== 'object') throw contract('a wrapped key is missing (a sparse list) or not an object');
      ({ provider, keyId, ciphertext } = k as WrappedKey);
    } catch (err) {
      throw err instanceof FieldsealError ? err : contract('a wrapped key could not be read', err);
    }
    if (typeof provider !== 'string' || typeof keyId !== 'string') throw contract('malformed wrapped key');
    const bytes = ownCopy(ciphertext, 'malformed wrapped key');
    const p = utf8Bytes(provider).length;
    if (p === 0 || p > 255 || utf8Bytes(keyId).length > 0xffff || bytes.length > 0xffff || bytes.length === 0) {
      throw contract('wrapped key fields out of range');
    }
    if (!provider.isWellFormed() || !keyId.isWellFormed()) throw contract('provider or key id is not well-formed Unicode');
    if (dataKey !== undefined && containsKey(bytes, dataKey)) throw contract(`a wrapped key from provider "${provider}" contains the data key in the clear`);
    out[i] = Object.freeze({ provider, keyId, ciphertext: bytes });
  }
  return out;
}

function isAllZero(key: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < key.length; i++) d |= key[i]!;
  return d === 0;
}

/** Keyring errors that are not fieldseal errors become a typed error; the original is the cause. */
function typedWrapError(err: unknown): FieldsealError {
  if (err instanceof FieldsealError) return err;
  return new ProviderError({ provider: 'keyring', kind: 'other', retryable: false, message: 'the keyring\'s wrap failed with an error that is not a fieldseal error (see cause)', cause: err });
}

/**
 * Call a keyring's wrap and check its postconditions (ESDK-style template method): a 32-byte data
 * key that is not all zeros, at least one and at most `maxWrappedKeys` well-formed wrapped keys,
 * none containing the data key. Everything returned is copied, so a keyring that later reuses or
 * zeroes its buffers cannot change a document, and the keyring's data key buffer is zeroed here
 * (the caller owns it, per the {@link Keyring} contract). A faulty keyring cannot produce a
 * malformed document.
 */
export async function wrapChecked(
  keyring: Keyring,
  context: EncryptionContext,
  limits: Limits,
  dataKey?: Uint8Array,
  plaintextBytes?: number,
  control: KeyringCallControl = DEFAULT_CALL_CONTROL,
): Promise<{ dataKey: Uint8Array; wrapped: WrappedKey[] }> {
  throwIfAborted(control);
  // The keyring must not modify the key it is given; a copy makes sure it cannot.
  const given = dataKey?.slice();
  let raw: unknown = given === undefined ? cacheHit(keyring, 'wrap', (hits) => hits.wrapHit(context, plaintextBytes)) : undefined;
  if (raw === undefined) try {
    raw = await guardedCall(
      'wrap',
      control,
      (signal) => {
        const request: { context: EncryptionContext; dataKey?: Uint8Array; plaintextBytes?: number } = { context };
        if (given !== undefined) request.dataKey = given;
        if (plaintextBytes !== undefined) request.plaintextBytes = plaintextBytes;
        return keyring.wrap(withSignal(keyring, request, signal));
      },
      discardKey,
    );
  } catch (err) {
    zeroize(given);
    throw typedWrapError(err);
  }
  let key: Uint8Array | undefined;
  try {
    if (raw === null || typeof raw !== 'object') throw contract('wrap must return a 32-byte data key');
    let returnedKey: unknown, list: unknown;
    try {
      ({ dataKey: returnedKey, wrapped: list } = raw as { dataKey: unknown; wrapped: unknown });
    } catch (cause) {
      throw contract('wrap returned an unreadable result', cause);
    }
    key = ownCopy(returnedKey, 'wrap must return a 32-byte data key');
    if (returnedKey !== given) zeroTheirs(returnedKey);
    if (key.length !== DATA_KEY_LENGTH) throw contract('wrap must return a 32-byte data key');
    if (isAllZero(key)) throw contract('wrap returned an all-zero data key (a buffer zeroed after use?)');
    if (dataKey !== undefined && !sameBytes(dataKey, key)) throw contract('wrap replaced the data key it was given');
    return { dataKey: key, wrapped: checkWrapped(list, limits, key) };
  } catch (err) {
    zeroize(key);
    throw err;
  } finally {
    zeroize(given);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * At most one entry per provider and key id reaches a keyring: a KEK wraps a group's data key once,
 * so a second entry under the same key is never needed, and a hostile header that lists 16 wrapped
 * keys naming the configured key in each of 16 groups would otherwise cost 256 key-service calls
 * for one decrypt (issue 23.9). The first entry is kept.
 */
export function onePerKey(wrapped: readonly WrappedKey[]): readonly WrappedKey[] {
  if (wrapped.length < 2) return wrapped;
  const seen = new Set<string>();
  const out: WrappedKey[] = [];
  for (const w of wrapped) {
    const id = JSON.stringify([w.provider, w.keyId]);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(w);
  }
  return out.length === wrapped.length ? wrapped : out;
}

/**
 * Call a keyring's unwrap under the deadline and the caller's signal; check the key length; turn
 * foreign errors into KeyUnavailableError so callers see one typed failure (the original stays as
 * the reason's cause, never in the message). The returned key is a copy of our own.
 */
export async function unwrapChecked(
  keyring: Keyring,
  wrapped: readonly WrappedKey[],
  context: EncryptionContext,
  groupName: string,
  control: KeyringCallControl = DEFAULT_CALL_CONTROL,
): Promise<Uint8Array> {
  throwIfAborted(control);
  const candidates = onePerKey(wrapped);
  let key: unknown = cacheHit(keyring, 'unwrap', (hits) => hits.unwrapHit(candidates, context));
  if (key === undefined) try {
    key = await guardedCall('unwrap', control, (signal) => keyring.unwrap(withSignal(keyring, { wrapped: candidates, context }, signal)), discardKey);
  } catch (err) {
    if (err instanceof FieldsealError) throw err;
    throw new KeyUnavailableError(`no data key for key group "${groupName}"`, [{ provider: 'keyring', message: 'the keyring threw an untyped error', cause: err }]);
  }
  const copy = ownCopy(key, 'unwrap must return a 32-byte data key');
  zeroTheirs(key);
  if (copy.length !== DATA_KEY_LENGTH) {
    zeroize(copy);
    throw contract('unwrap must return a 32-byte data key');
  }
  return copy;
}
