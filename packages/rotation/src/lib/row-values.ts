/**
 * What core's `inspectRow` counts as a field ciphertext, spelled for SQL: the `fs1.` prefix and at
 * least the length of a one-byte field (prefix + base64url of IV, one byte, tag). The row tests
 * check SQL counts against `inspectRow` on the same rows.
 */
export const FIELD_SQL_PREFIX = 'fs1.';
export const FIELD_SQL_MIN_LENGTH = FIELD_SQL_PREFIX.length + Math.ceil(((12 + 16 + 1) * 4) / 3);
/** A POSIX regular expression for the prefix of `@47ng/cloak` ciphertext (see `looksLikeCloak`). */
export const CLOAK_SQL_PATTERN = '^v1\\.aesgcm256\\.';
