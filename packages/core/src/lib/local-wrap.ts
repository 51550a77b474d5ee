import { DecryptionFailedError } from '../errors.js';
import type { Backend } from './backend/types.js';
import { IV_LENGTH, TAG_LENGTH } from './backend/types.js';
import { ByteWriter, zeroize } from './bytes.js';
import { DATA_KEY_LENGTH, LABEL_LOCAL_WRAP, LABEL_LOCAL_WRAP_2, LABEL_LOCAL_WRAP_KEY } from './format/constants.js';

/**
 * LocalKeyring's wrapped-key ciphertexts (docs/FORMAT.md §7).
 *
 * Version 1 (`IV ‖ ct ‖ tag`, 60 bytes) encrypts under the long-lived KEK with a random IV, which
 * NIST SP 800-38D §8.3 caps at 2^32 encryptions per key. Version 2 removes that cap: every wrap
 * derives a one-time AES key and IV from the KEK and a fresh random salt (HKDF-SHA256), so the KEK
 * itself never meets AES-GCM and no key is used twice. Version 1 is only ever opened, never written.
 */
export const LOCAL_WRAP_V2 = 0x02;
/**
 * 128-bit salt. Two wraps share a key and IV only if their salts collide: probability about
 * n^2 / 2^129 after n wraps (2^-65 at 2^32 wraps, 2^-33 at 2^48), against v1's 2^32-wrap cap.
 * The IV is derived rather than stored, which keeps a header with one local KEK within 300 bytes.
 */
export const LOCAL_WRAP_SALT_LENGTH = 16;
export const LOCAL_WRAP_V1_LENGTH = IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH;
export const LOCAL_WRAP_V2_LENGTH = 1 + LOCAL_WRAP_SALT_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH;

/** HKDF-SHA256(KEK, salt, "fieldseal/v1/local-wrap-key\0", 44) = wrap key (32) ‖ IV (12). */
async function wrapKeyAndIv(backend: Backend, kek: Uint8Array, salt: Uint8Array): Promise<{ key: Uint8Array; iv: Uint8Array }> {
  const okm = await backend.hkdfSha256(kek, salt, LABEL_LOCAL_WRAP_KEY, DATA_KEY_LENGTH + IV_LENGTH);
  return { key: okm.subarray(0, DATA_KEY_LENGTH), iv: okm.subarray(DATA_KEY_LENGTH) };
}

function aad(label: Uint8Array, keyId: string, canonicalContext: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(keyId);
  return new ByteWriter().bytes(label).u16(id.length).bytes(id).bytes(canonicalContext).finish();
}

/** `fixedSalt` is for reproducing published vectors only; every production wrap draws a fresh salt. */
export async function localWrap(
  backend: Backend,
  kek: Uint8Array,
  keyId: string,
  canonicalContext: Uint8Array,
  dataKey: Uint8Array,
  fixedSalt?: Uint8Array,
): Promise<Uint8Array> {
  const salt = fixedSalt ?? backend.randomBytes(LOCAL_WRAP_SALT_LENGTH);
  const wrap = await wrapKeyAndIv(backend, kek, salt);
  try {
    const [blob] = await backend.sealMany(wrap.key, [{ aad: aad(LABEL_LOCAL_WRAP_2, keyId, canonicalContext), plaintext: dataKey, iv: wrap.iv }]);
    // blob = IV ‖ ct ‖ tag; the IV is derived, so it is not stored.
    const out = new Uint8Array(LOCAL_WRAP_V2_LENGTH);
    out[0] = LOCAL_WRAP_V2;
    out.set(salt, 1);
    out.set(blob!.subarray(IV_LENGTH), 1 + LOCAL_WRAP_SALT_LENGTH);
    return out;
  } finally {
    zeroize(wrap.key, wrap.iv);
  }
}

/**
 * Opens a version 1 or 2 wrapped key; throws (DecryptionFailedError) when it does not authenticate
 * or has neither layout. The caller checks the data key's length.
 */
export async function localUnwrap(backend: Backend, kek: Uint8Array, keyId: string, canonicalContext: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  if (ciphertext.length === LOCAL_WRAP_V1_LENGTH) {
    const [dataKey] = await backend.openMany(kek, [{ aad: aad(LABEL_LOCAL_WRAP, keyId, canonicalContext), blob: ciphertext }]);
    return dataKey!;
  }
  if (ciphertext.length !== LOCAL_WRAP_V2_LENGTH || ciphertext[0] !== LOCAL_WRAP_V2) {
    // Same failure as a bad tag: the wrapped key is not one this keyring wrote.
    throw new DecryptionFailedError();
  }
  const wrap = await wrapKeyAndIv(backend, kek, ciphertext.subarray(1, 1 + LOCAL_WRAP_SALT_LENGTH));
  const blob = new Uint8Array(IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH);
  blob.set(wrap.iv);
  blob.set(ciphertext.subarray(1 + LOCAL_WRAP_SALT_LENGTH), IV_LENGTH);
  try {
    const [dataKey] = await backend.openMany(wrap.key, [{ aad: aad(LABEL_LOCAL_WRAP_2, keyId, canonicalContext), blob }]);
    return dataKey!;
  } finally {
    zeroize(wrap.key, wrap.iv);
  }
}
