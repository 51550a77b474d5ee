import { backend } from '#backend';
import { ascii, concatBytes } from '../bytes.js';
import { contextEntries, encodeEntries } from '../context.js';

/*
 * Beacon derivation, specified in docs/BEACONS.md ("Format"):
 *   field key = HKDF-SHA256(IKM = root key, salt = empty, info = LABEL_BEACON_FIELD ‖ UTF-8(field), L = 32)
 *   tag       = HMAC-SHA256(field key, UTF-8(normalized value))
 *   beacon    = key id ‖ ":" ‖ lowercase hex of the first `bits` bits of tag, ceil(bits / 4) digits
 *   check     = HMAC-SHA256(HKDF-SHA256(root key, salt = empty, info = LABEL_BEACON_CHECK, L = 32),
 *                           u8 len ‖ key id ‖ canonical context)[0..16]
 * Field names cannot contain a zero byte, so the two infos never collide. The check authenticates the
 * document's id and context under the root key itself, so an edited document is caught even with a
 * keyring that does not bind the context (RSA-OAEP).
 */
export const LABEL_BEACON_FIELD = ascii('fieldseal/v1/beacon-field\0');
export const LABEL_BEACON_CHECK = ascii('fieldseal/v1/beacon-check\0');
export const ROOT_KEY_LENGTH = 32;
export const CHECK_LENGTH = 16;
export const BEACON_SEPARATOR = ':';
const EMPTY = new Uint8Array(0);

/** Per-field HMAC key from the root key. */
export function deriveFieldKey(rootKey: Uint8Array, field: string): Promise<Uint8Array> {
  return backend.hkdfSha256(rootKey, EMPTY, concatBytes(LABEL_BEACON_FIELD, backend.utf8Encode(field)), 32);
}

/** Key check value stored in the key document: detects a wrong root key, or an edited id or context, without revealing the key. */
export async function deriveKeyCheck(rootKey: Uint8Array, id: string, context: Readonly<Record<string, string>>): Promise<Uint8Array> {
  const checkKey = await backend.hkdfSha256(rootKey, EMPTY, LABEL_BEACON_CHECK, 32);
  const idBytes = backend.utf8Encode(id);
  const message = concatBytes(Uint8Array.of(idBytes.length), idBytes, encodeEntries(contextEntries(context, 'context', 0xffff)));
  const tag = await backend.hmacSha256(checkKey, message);
  checkKey.fill(0);
  const check = tag.slice(0, CHECK_LENGTH);
  tag.fill(0);
  return check;
}

/** The truncated HMAC of a normalized value, as fixed-width lowercase hex. */
export async function beaconDigits(fieldKey: Uint8Array, normalized: string, bits: number): Promise<string> {
  const tag = await backend.hmacSha256(fieldKey, backend.utf8Encode(normalized));
  // Read the first 8 bytes big-endian and keep the top `bits` bits (bits <= 64).
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(tag[i]!);
  tag.fill(0);
  return (v >> BigInt(64 - bits)).toString(16).padStart(Math.ceil(bits / 4), '0');
}

export { backend };
