/**
 * The crypto seam: the only primitives core needs, implemented once over node:crypto and once over
 * WebCrypto (chosen by the `#backend` import condition). Nothing else in core touches a crypto API,
 * so both backends produce byte-identical output and are tested against the same vectors.
 */

/** One field to seal: its additional authenticated data and its plaintext. */
export interface SealItem {
  readonly aad: Uint8Array;
  readonly plaintext: Uint8Array;
  /**
   * Internal only: a fixed IV, for reproducing the published test vectors byte for byte, or the IV
   * that local wrap version 2 derives together with its single-use key. Public APIs never accept
   * an IV; every other path draws a fresh random one.
   */
  readonly iv?: Uint8Array;
}

/** One field to open: its additional authenticated data and its `iv ‖ ciphertext ‖ tag` blob. */
export interface OpenItem {
  readonly aad: Uint8Array;
  readonly blob: Uint8Array;
}

export interface Backend {
  readonly name: 'node' | 'web';
  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;
  /** HKDF-SHA256 (RFC 5869) extract-and-expand. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** HMAC-SHA256. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM with a fresh random 96-bit IV per item; returns `iv ‖ ciphertext ‖ tag` per item. */
  sealMany(key: Uint8Array, items: readonly SealItem[]): Promise<Uint8Array[]>;
  /**
   * `sealMany` of one item, answered as the base64url of `iv ‖ ciphertext ‖ tag` instead of the
   * bytes: for a large plaintext the backend can encode the pieces without first copying them into
   * one blob. Optional; core uses it for fields of {@link LARGE_FIELD_BYTES} or more.
   */
  sealToBase64url?(key: Uint8Array, item: SealItem): string;
  /**
   * Seal a large string field (type byte `tag`, then the UTF-8 of `text`) without first encoding it
   * into one buffer: the text is encoded slice by slice into a reused buffer and fed to the cipher as
   * it goes; answered as the base64url of `iv ‖ ciphertext ‖ tag`, the same text `sealMany` and
   * `base64urlEncode` give. Optional; core uses it for string fields of {@link LARGE_FIELD_BYTES} code
   * units or more. `text` must be well-formed.
   */
  sealTextToBase64url?(key: Uint8Array, aad: Uint8Array, tag: number, text: string): string;
  /** The UTF-8 length of a well-formed string, without encoding it into one buffer. Present with `sealTextToBase64url`. */
  utf8Length?(text: string): number;
  /** Inverse of `sealMany`; throws DecryptionFailedError if any item fails authentication. */
  openMany(key: Uint8Array, items: readonly OpenItem[]): Promise<Uint8Array[]>;
  /** Constant-time equality of two byte strings (false when lengths differ). */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /** base64url without padding. */
  base64urlEncode(bytes: Uint8Array): string;
  /** Strict base64url decoding (no padding, no other alphabet); returns undefined when invalid. */
  base64urlDecode(text: string): Uint8Array | undefined;
  /** UTF-8 encoding of a well-formed string. */
  utf8Encode(text: string): Uint8Array;
  /** Strict UTF-8 decoding. */
  utf8Decode(bytes: Uint8Array): string;
}

/**
 * From this plaintext size on, a field is sealed with `sealToBase64url` where the backend has it: one
 * copy of the ciphertext fewer, which for a 1 MiB field was a copy and a megabyte for the garbage
 * collector per document (W2, issue 18); below it the blob costs less than the pieces.
 */
export const LARGE_FIELD_BYTES = 64 * 1024;

/** AES-GCM parameters shared by both backends (NIST SP 800-38D). */
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
export const KEY_LENGTH = 32;
