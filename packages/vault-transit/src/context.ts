import type { EncryptionContext } from '@fieldseal/core';

const encoder = new TextEncoder();

/**
 * fieldseal's canonical context encoding (FORMAT.md): u32 pair count, then per pair u32 key
 * length, key, u32 value length, value (big-endian lengths, UTF-8), pairs sorted by the UTF-8
 * bytes of their keys.
 */
function canonicalContext(context: EncryptionContext): Uint8Array {
  const pairs = Object.keys(context)
    .map((k) => [encoder.encode(k), encoder.encode(context[k]!)] as const)
    .sort(([a], [b]) => Buffer.compare(a, b));
  let length = 4;
  for (const [k, v] of pairs) length += 8 + k.length + v.length;
  const out = Buffer.alloc(length);
  let offset = out.writeUInt32BE(pairs.length, 0);
  for (const [k, v] of pairs) {
    offset = out.writeUInt32BE(k.length, offset);
    out.set(k, offset);
    offset = out.writeUInt32BE(v.length, offset + k.length);
    out.set(v, offset);
    offset += v.length;
  }
  return out;
}

/**
 * The encryption context as Vault transit receives it: base64 of fieldseal's canonical context
 * encoding (the same bytes core binds into every field), so the binding is exact, independent of
 * key order, and reproducible by another implementation from FORMAT.md.
 *
 * An empty context still yields a non-empty encoding (a zero pair count), which matters because
 * Vault refuses derived-key operations without a context.
 */
export function vaultContext(context: EncryptionContext): string {
  return Buffer.from(canonicalContext(context)).toString('base64');
}
