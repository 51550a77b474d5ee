// The emulators' own CRC32C (Castagnoli), kept here because emulators never depend on provider
// packages. Table-driven over the reflected polynomial 0x82F63B78, as Cloud KMS specifies it.

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
 * CRC32C of `data` as an unsigned 32-bit integer (`crc32c("123456789") === 0xE3069283`).
 * @param data - The bytes to checksum.
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
