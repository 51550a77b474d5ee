// Test-only: a crypto backend whose "random" bytes come from a seeded HMAC-SHA256 counter stream,
// so the published vectors can be regenerated and re-checked byte for byte. Never use in production.
import { createHmac } from 'node:crypto';

/** A deterministic byte stream: HMAC-SHA256(seed, u32 counter) blocks. */
export function drbg(seedText) {
  let counter = 0;
  let buffer = new Uint8Array(0);
  return (length) => {
    while (buffer.length < length) {
      const block = createHmac('sha256', seedText).update(Buffer.from([counter >>> 24, (counter >>> 16) & 255, (counter >>> 8) & 255, counter & 255])).digest();
      counter++;
      const next = new Uint8Array(buffer.length + block.length);
      next.set(buffer);
      next.set(block, buffer.length);
      buffer = next;
    }
    const out = buffer.slice(0, length);
    buffer = buffer.slice(length);
    return out;
  };
}

/** Wrap a real backend so message ids and IVs come from `random`. */
export function deterministicBackend(base, random) {
  return {
    ...base,
    randomBytes: (n) => random(n),
    sealMany: (key, items) => base.sealMany(key, items.map((item) => ({ ...item, iv: random(12) }))),
  };
}
