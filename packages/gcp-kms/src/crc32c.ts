/**
 * CRC32C (Castagnoli), the checksum Cloud KMS uses for end-to-end integrity of every request and
 * response. Neither `@google-cloud/kms` nor google-gax computes or checks it, and Node 20 has none.
 * @module
 */

// Table-driven over the reflected polynomial 0x82F63B78 (RFC 3720 §B.4).
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32C of `data` as an unsigned 32-bit integer.
 *
 * @param data - The bytes to checksum.
 * @returns The checksum, e.g. `0xE3069283` for the ASCII bytes of `"123456789"`.
 * @example
 * ```ts
 * import { crc32c } from '@fieldseal/gcp-kms';
 * crc32c(new TextEncoder().encode('123456789')); // 0xE3069283
 * ```
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The value of an `Int64Value` checksum as the client returns it (`{ value: '123' }`), or undefined when absent or not a number. */
export function checksumValue(field: { value?: unknown } | null | undefined): number | undefined {
  if (field === null || field === undefined) return undefined;
  const raw = field.value;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,10}$/.test(raw) ? Number(raw) : typeof raw === 'bigint' ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}
