import { ascii } from '../bytes.js';

/** Format version byte of the header. */
export const FORMAT_VERSION = 1;
/**
 * Suite 1: AES-256-GCM (96-bit random IV, 128-bit tag) per field; HKDF-SHA256 per-document keys;
 * HMAC-SHA256 header MAC; 256-bit key commitment.
 */
export const SUITE_V1 = 1;
/**
 * Suite 2: suite 1's primitives, and every keyring call also receives the key group's name as the
 * context pair `fieldseal.group` (docs/FORMAT.md §5.1), so a data key wrapped for one group never
 * unwraps as another group's, even under a shared key-encryption key (issue 23.1).
 */
export const SUITE_V2 = 2;
/** The suite encrypt writes. Readers accept every suite in {@link SUITE_NAMES}. */
export const CURRENT_SUITE = SUITE_V2;
export const SUITE_NAMES: Readonly<Record<number, string>> = {
  [SUITE_V1]: 'AES-256-GCM/HKDF-SHA256/HMAC-SHA256-commit',
  [SUITE_V2]: 'AES-256-GCM/HKDF-SHA256/HMAC-SHA256-commit, group-bound key wraps',
};
/** Suites a decoder accepts. */
export function isKnownSuite(suite: number): boolean {
  return suite === SUITE_V1 || suite === SUITE_V2;
}
/** The keyring-context key that carries the key group's name under suite 2. */
export const GROUP_CONTEXT_KEY = 'fieldseal.group';

/** Prefix of every field ciphertext string. */
export const FIELD_PREFIX = 'fs1.';
/** Prefix of the header string. */
export const HEADER_PREFIX = 'fs1h.';
/** Default name of the reserved header property. */
export const DEFAULT_HEADER_NAME = '_fieldseal';
/** Default key group name. */
export const DEFAULT_GROUP = 'default';

export const MESSAGE_ID_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
/** Header MAC: HMAC-SHA256 truncated to 128 bits. */
export const MAC_LENGTH = 16;
export const DATA_KEY_LENGTH = 32;

/** Plaintext type tags (first plaintext byte of a field). */
export const TYPE_STRING = 0x73; // 's': UTF-8 of the string
export const TYPE_JSON = 0x6a; // 'j': UTF-8 of JSON.stringify(value)

/** Domain-separation labels; each ends with a zero byte in the encodings. */
export const LABEL_KEYS = ascii('fieldseal/v1/keys\0');
export const LABEL_FIELD = ascii('fieldseal/v1/field\0');
export const LABEL_HEADER = ascii('fieldseal/v1/header\0');
export const LABEL_LOCAL_WRAP = ascii('fieldseal/v1/local-wrap\0');
/** Local wrap version 2 (docs/FORMAT.md §7): HKDF info of the per-wrap key, and the wrap's AAD label. */
export const LABEL_LOCAL_WRAP_KEY = ascii('fieldseal/v1/local-wrap-key\0');
export const LABEL_LOCAL_WRAP_2 = ascii('fieldseal/v1/local-wrap2\0');
