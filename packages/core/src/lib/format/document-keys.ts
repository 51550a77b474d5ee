import type { Backend } from '../backend/types.js';
import { ByteWriter, allocPublic, utf8Bytes } from '../bytes.js';
import type { EncryptionContext } from '../../types.js';
import type { ContextEntry } from '../context.js';
import { COMMITMENT_LENGTH, DATA_KEY_LENGTH, GROUP_CONTEXT_KEY, LABEL_FIELD, LABEL_HEADER, LABEL_KEYS, MAC_LENGTH, SUITE_V1 } from './constants.js';

/** The keys one key group uses in one document. Zero them with `zeroize` when done. */
export interface GroupKeys {
  readonly encryptionKey: Uint8Array;
  readonly macKey: Uint8Array;
  readonly commitment: Uint8Array;
}

// `info` depends only on the suite and the (public) group name; documents use a handful of names,
// so build each once. Bounded, dropped wholesale when full.
const infoCache = [new Map<string, Uint8Array>(), new Map<string, Uint8Array>(), new Map<string, Uint8Array>()];

function keysInfo(suite: number, groupName: string): Uint8Array {
  const cache = infoCache[suite]!;
  let info = cache.get(groupName);
  if (info === undefined) {
    const name = utf8Bytes(groupName);
    info = new ByteWriter().bytes(LABEL_KEYS).u8(suite).u8(name.length).bytes(name).finish();
    if (cache.size >= 256) cache.clear();
    cache.set(groupName, info);
  }
  return info;
}

/**
 * What a keyring is given as context for one key group's data key: the full context, plus under
 * suite 2 the group's name as `fieldseal.group`. A KMS binds it like any other pair (AWS encryption
 * context, Vault derivation context, Google AAD, the local wrap's AAD), so a wrapped key made for one
 * group does not unwrap for another, and a key policy can grant a reader one group only
 * (issue 23.1). Documents can never carry a `fieldseal.` key themselves, so the pair cannot collide.
 */
export function groupKeyringContext(suite: number, full: readonly ContextEntry[], groupName: string): EncryptionContext {
  // Built from the entries in one pass: spreading a null-prototype record into a new object cost
  // three times as much, once per keyring call (issue 18).
  const out: Record<string, string> = Object.create(null);
  for (const e of full) out[e.key] = e.value;
  if (suite !== SUITE_V1) out[GROUP_CONTEXT_KEY] = groupName;
  return Object.freeze(out);
}

/**
 * HKDF-SHA256(ikm = DEK, salt = message id, info = "fieldseal/v1/keys\0" ‖ suite ‖ u8 len ‖ group name, L = 96),
 * split into encryption key [0,32), MAC key [32,64) and key commitment [64,96).
 * The random per-document salt makes every document's field key fresh even when a cache reuses the
 * DEK, so the GCM random-IV bound applies per document, not per DEK (security property 3). The
 * group name in `info` separates groups that share a DEK.
 */
export async function deriveGroupKeys(backend: Backend, dataKey: Uint8Array, messageId: Uint8Array, groupName: string, suite: number): Promise<GroupKeys> {
  const info = keysInfo(suite, groupName);
  const okm = await backend.hkdfSha256(dataKey, messageId, info, DATA_KEY_LENGTH * 2 + COMMITMENT_LENGTH);
  // Views of the derivation's own output, not copies: every caller zeroes both keys when it is
  // done, which zeroes those bytes and leaves only the public commitment, and a copy each is three
  // more buffers per document that Node's crypto must give memory of their own (issue 18).
  return {
    encryptionKey: okm.subarray(0, 32),
    macKey: okm.subarray(32, 64),
    commitment: okm.subarray(64, 96),
  };
}

/**
 * The document-constant prefix of every field AAD:
 * "fieldseal/v1/field\0" ‖ suite ‖ message id ‖ u8 len ‖ group name ‖ u32 len ‖ canonical full context.
 * A field's AAD is this prefix followed by the UTF-8 of its JSON Pointer.
 */
export function fieldAadPrefix(messageId: Uint8Array, groupName: string, canonicalContext: Uint8Array, suite: number): Uint8Array {
  const name = utf8Bytes(groupName);
  return new ByteWriter(LABEL_FIELD.length + 1 + messageId.length + 1 + name.length + 4 + canonicalContext.length).bytes(LABEL_FIELD).u8(suite).bytes(messageId).u8(name.length).bytes(name).u32(canonicalContext.length).bytes(canonicalContext).finish();
}

/** AAD of one field: prefix ‖ UTF-8(pointer). */
export function fieldAad(prefix: Uint8Array, pointer: string): Uint8Array {
  return fieldAads(prefix, [pointer])[0]!;
}

/** AADs of a group's fields, in order: prefix ‖ UTF-8(pointer), all in one allocation. */
export function fieldAads(prefix: Uint8Array, pointers: readonly string[]): Uint8Array[] {
  const encoded = pointers.map(utf8Bytes);
  let total = 0;
  for (const p of encoded) total += prefix.length + p.length;
  const all = allocPublic(total);
  const out: Uint8Array[] = new Array(encoded.length);
  let offset = 0;
  for (let i = 0; i < encoded.length; i++) {
    const p = encoded[i]!;
    all.set(prefix, offset);
    all.set(p, offset + prefix.length);
    out[i] = all.subarray(offset, offset + prefix.length + p.length);
    offset += prefix.length + p.length;
  }
  return out;
}

/**
 * MAC of one group: the first 16 bytes of
 * HMAC-SHA256(macKey, "fieldseal/v1/header\0" ‖ body ‖ u32 len ‖ canonical full context).
 * Truncation to 128 bits (RFC 2104 §5, NIST SP 800-107 §5.3.3) gives the same forgery bound as the
 * fields' GCM tags; the key commitment, which needs collision resistance, stays 256 bits.
 */
export async function headerMac(backend: Backend, macKey: Uint8Array, body: Uint8Array, canonicalContext: Uint8Array): Promise<Uint8Array> {
  const input = new ByteWriter(LABEL_HEADER.length + body.length + 4 + canonicalContext.length).bytes(LABEL_HEADER).bytes(body).u32(canonicalContext.length).bytes(canonicalContext).finish();
  // A view of the HMAC's own output (public), not a copy.
  return (await backend.hmacSha256(macKey, input)).subarray(0, MAC_LENGTH);
}
