import { LimitExceededError, MalformedError, UnsupportedVersionError } from '../../errors.js';
import type { Limits, WrappedKey } from '../../types.js';
import type { Backend } from '../backend/types.js';
import { ByteReader, ByteWriter, allocPublic, compareBytes, utf8Bytes, utf8String } from '../bytes.js';
import { RESERVED_CONTEXT_PREFIX, RESERVED_DOCUMENT_CONTEXT_PREFIX, type ContextEntry } from '../context.js';
import { parsePointer } from '../pointer.js';
import { COMMITMENT_LENGTH, FORMAT_VERSION, HEADER_PREFIX, MAC_LENGTH, MESSAGE_ID_LENGTH, isKnownSuite } from './constants.js';

/** One key group as stored in the header. */
export interface HeaderGroup {
  readonly name: string;
  readonly wrapped: readonly WrappedKey[];
  readonly commitment: Uint8Array;
  /** RFC 6901 pointers of the fields this group encrypted. */
  readonly pointers: readonly string[];
  /** The parsed tokens of each pointer, when decoded (decrypt locates fields with them). */
  readonly pointerTokens?: readonly (readonly string[])[];
}

/** The decoded header. `body` is the exact authenticated bytes; `macs[i]` belongs to `groups[i]`. */
export interface Header {
  readonly version: number;
  readonly suite: number;
  readonly messageId: Uint8Array;
  readonly storedContext: readonly ContextEntry[];
  readonly requiredKeys: readonly string[];
  readonly groups: readonly HeaderGroup[];
  readonly body: Uint8Array;
  readonly macs: readonly Uint8Array[];
}

function str(r: ByteReader, length: number, what: string): string {
  try {
    return utf8String(r.bytes(length));
  } catch {
    throw new MalformedError(`header: ${what} is not valid UTF-8`);
  }
}

/**
 * Keys encrypt can never write (FORMAT.md §2): refused before any keyring sees the context. The
 * `fieldseal.` prefix marks internal wraps (beacon root keys): a header carrying one is a forgery
 * that tries to have decrypt unwrap such a key.
 */
function checkContextKey(key: string): void {
  if (key.length === 0 || key.startsWith(RESERVED_CONTEXT_PREFIX) || key.startsWith(RESERVED_DOCUMENT_CONTEXT_PREFIX)) throw new MalformedError('header: an encryption context key is empty or reserved');
}

/**
 * A count or length about to be written into a field `max` can hold. A DataView wraps larger values
 * silently: the header would be authenticated as written and decoded as something else, and the
 * document could never be opened. Encrypt normally refuses such inputs earlier (limits, keyring
 * checks); this is the last line, at the width of each field.
 */
function fits(n: number, max: number, what: string): number {
  if (n > max) throw new LimitExceededError(`the header cannot hold ${what} (at most ${max})`, what);
  return n;
}

/** Encode everything but the MACs (the authenticated body), range-checking every count and length. */
export function encodeHeaderBody(h: Omit<Header, 'body' | 'macs' | 'version'>): Uint8Array {
  if (!isKnownSuite(h.suite)) throw new UnsupportedVersionError(`unsupported algorithm suite ${h.suite}`);
  const w = new ByteWriter(512).u8(FORMAT_VERSION).u8(h.suite).bytes(h.messageId);
  w.u16(fits(h.storedContext.length, 0xffff, 'contextPairs'));
  for (const e of h.storedContext) w.u16(fits(e.keyBytes.length, 0xffff, 'contextKeyBytes')).bytes(e.keyBytes).u16(fits(e.valueBytes.length, 0xffff, 'contextValueBytes')).bytes(e.valueBytes);
  const required = h.requiredKeys.map((k) => utf8Bytes(k)).sort(compareBytes);
  w.u16(fits(required.length, 0xffff, 'requiredContextKeys'));
  for (const k of required) w.u16(fits(k.length, 0xffff, 'contextKeyBytes')).bytes(k);
  w.u8(fits(h.groups.length, 0xff, 'groups'));
  for (const g of h.groups) {
    const name = utf8Bytes(g.name);
    w.u8(fits(name.length, 0xff, 'groupNameBytes')).bytes(name).u8(fits(g.wrapped.length, 0xff, 'wrappedKeys'));
    for (const k of g.wrapped) {
      const provider = utf8Bytes(k.provider);
      const keyId = utf8Bytes(k.keyId);
      w.u8(fits(provider.length, 0xff, 'providerBytes')).bytes(provider);
      w.u16(fits(keyId.length, 0xffff, 'keyIdBytes')).bytes(keyId);
      w.u16(fits(k.ciphertext.length, 0xffff, 'wrappedKeyBytes')).bytes(k.ciphertext);
    }
    w.bytes(g.commitment).u32(fits(g.pointers.length, 0xffffffff, 'fields'));
    for (const p of g.pointers) {
      const pb = utf8Bytes(p);
      if (pb.length > 0xffff) throw new LimitExceededError('a selected field\'s JSON Pointer exceeds 65,535 UTF-8 bytes', 'pointerBytes');
      w.u16(pb.length).bytes(pb);
    }
  }
  return w.finish();
}

/** The header string: prefix + base64url(body ‖ mac_1 ‖ … ‖ mac_n). */
export function headerToString(backend: Backend, body: Uint8Array, macs: readonly Uint8Array[]): string {
  const all = allocPublic(body.length + macs.length * MAC_LENGTH);
  all.set(body, 0);
  macs.forEach((m, i) => all.set(m, body.length + i * MAC_LENGTH));
  return HEADER_PREFIX + backend.base64urlEncode(all);
}

/**
 * Decode and structurally validate a header string. Checks every length, count and limit, the
 * canonical ordering of context keys, pointer syntax, uniqueness; authenticity is checked later
 * with the group's MAC key.
 */
export function decodeHeader(backend: Backend, value: unknown, limits: Limits): Header {
  if (typeof value !== 'string' || !value.startsWith(HEADER_PREFIX)) throw new MalformedError('the header is missing or not a fieldseal header');
  // maxHeaderBytes bounds the body (as encrypt does); the string also carries one MAC per group.
  const encodedLimit = Math.ceil(((limits.maxHeaderBytes + limits.maxGroups * MAC_LENGTH) * 4) / 3) + HEADER_PREFIX.length + 4;
  if (value.length > encodedLimit) throw new LimitExceededError(`the header exceeds ${limits.maxHeaderBytes} bytes`, 'maxHeaderBytes');
  const bytes = backend.base64urlDecode(value.slice(HEADER_PREFIX.length));
  if (bytes === undefined) throw new MalformedError('the header is not valid base64url');
  const r = new ByteReader(bytes, 'header');
  const version = r.u8();
  if (version !== FORMAT_VERSION) throw new UnsupportedVersionError(`unsupported format version ${version}`);
  const suite = r.u8();
  if (!isKnownSuite(suite)) throw new UnsupportedVersionError(`unsupported algorithm suite ${suite}`);
  const messageId = r.bytes(MESSAGE_ID_LENGTH);

  const pairCount = r.u16();
  if (pairCount > limits.maxContextPairs) throw new LimitExceededError(`the header context has more than ${limits.maxContextPairs} pairs`, 'maxContextPairs');
  const storedContext: ContextEntry[] = [];
  for (let i = 0; i < pairCount; i++) {
    const klen = r.u16();
    const keyBytes = r.bytes(klen);
    const vlen = r.u16();
    const valueBytes = r.bytes(vlen);
    let key: string, val: string;
    try {
      key = utf8String(keyBytes);
      val = utf8String(valueBytes);
    } catch {
      throw new MalformedError('header: a context entry is not valid UTF-8');
    }
    checkContextKey(key);
    const prev = storedContext[i - 1];
    if (prev !== undefined && compareBytes(prev.keyBytes, keyBytes) >= 0) throw new MalformedError('header: context keys are not in canonical order');
    storedContext.push({ key, value: val, keyBytes, valueBytes });
  }

  const requiredCount = r.u16();
  if (requiredCount > limits.maxContextPairs) throw new LimitExceededError(`the header names more than ${limits.maxContextPairs} required context keys`, 'maxContextPairs');
  const requiredKeys: string[] = [];
  let prevRequired: Uint8Array | undefined;
  for (let i = 0; i < requiredCount; i++) {
    const kb = r.bytes(r.u16());
    if (prevRequired !== undefined && compareBytes(prevRequired, kb) >= 0) throw new MalformedError('header: required context keys are not in canonical order');
    prevRequired = kb;
    const k = str(new ByteReader(kb, 'header'), kb.length, 'a required context key');
    checkContextKey(k);
    if (storedContext.some((e) => e.key === k)) throw new MalformedError('header: a context key is both stored and required');
    requiredKeys.push(k);
  }

  const groupCount = r.u8();
  if (groupCount === 0) throw new MalformedError('header: no key groups');
  if (groupCount > limits.maxGroups) throw new LimitExceededError(`the header has more than ${limits.maxGroups} key groups`, 'maxGroups');
  const groups: HeaderGroup[] = [];
  const allPointers = new Set<string>();
  let totalFields = 0;
  for (let g = 0; g < groupCount; g++) {
    const nameLen = r.u8();
    if (nameLen === 0) throw new MalformedError('header: empty group name');
    const name = str(r, nameLen, 'a group name');
    if (groups.some((x) => x.name === name)) throw new MalformedError('header: duplicate group name');
    const wrappedCount = r.u8();
    if (wrappedCount === 0) throw new MalformedError('header: a key group has no wrapped keys');
    if (wrappedCount > limits.maxWrappedKeys) throw new LimitExceededError(`a key group has more than ${limits.maxWrappedKeys} wrapped keys`, 'maxWrappedKeys');
    const wrapped: WrappedKey[] = [];
    for (let k = 0; k < wrappedCount; k++) {
      const provider = str(r, r.u8(), 'a provider id');
      const keyId = str(r, r.u16(), 'a key id');
      const ciphertext = r.bytes(r.u16()).slice();
      wrapped.push(Object.freeze({ provider, keyId, ciphertext }));
    }
    const commitment = r.bytes(COMMITMENT_LENGTH).slice();
    const fieldCount = r.u32();
    totalFields += fieldCount;
    if (totalFields > limits.maxFields) throw new LimitExceededError(`the header lists more than ${limits.maxFields} fields`, 'maxFields');
    // Each pointer takes at least 2 bytes: refuse counts the remaining bytes cannot hold before allocating.
    if (fieldCount * 2 > r.remaining) throw new MalformedError('header is truncated');
    const pointers: string[] = [];
    const pointerTokens: string[][] = [];
    for (let f = 0; f < fieldCount; f++) {
      const p = str(r, r.u16(), 'a field pointer');
      const tokens = parsePointer(p);
      if (tokens === undefined || tokens.length === 0) throw new MalformedError('header: invalid field pointer');
      if (allPointers.has(p)) throw new MalformedError('header: a field is listed twice');
      allPointers.add(p);
      pointers.push(p);
      pointerTokens.push(tokens);
    }
    groups.push({ name, wrapped, commitment, pointers, pointerTokens });
  }
  const body = bytes.subarray(0, r.position);
  const macs: Uint8Array[] = [];
  for (let g = 0; g < groupCount; g++) macs.push(r.bytes(MAC_LENGTH));
  if (r.remaining !== 0) throw new MalformedError('header has trailing bytes');
  if (body.length > limits.maxHeaderBytes) throw new LimitExceededError(`the header exceeds ${limits.maxHeaderBytes} bytes`, 'maxHeaderBytes');
  return { version, suite, messageId, storedContext, requiredKeys, groups, body, macs };
}
