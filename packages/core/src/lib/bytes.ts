import { MalformedError } from '../errors.js';

/** Concatenate byte strings. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Overwrite secret bytes with zeros (best effort: JS engines may have copied them). */
export function zeroize(...buffers: readonly (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

/** Compare two byte strings lexicographically (unsigned), for canonical sorting. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const utf8Encoder = new TextEncoder();
/** Bytes of an ASCII label (labels are constants; computed once at module load). */
export function ascii(label: string): Uint8Array {
  return utf8Encoder.encode(label);
}

/**
 * Write an ASCII string into `target` from `offset`, one byte per code unit. Returns false, with
 * `target` partly written, at the first code unit that is not ASCII.
 */
export function writeAscii(text: string, target: Uint8Array, offset: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return false;
    target[offset + i] = c;
  }
  return true;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The string of UTF-8 bytes, exactly as a fatal `TextDecoder` (throws a TypeError on invalid
 * UTF-8). A `decode()` call costs about 0.3 µs whatever the length, and a header holds a dozen short
 * strings (pointers, group and key names, context pairs), nearly always ASCII: those are read here
 * byte by byte (ASCII is valid UTF-8 and decodes to the same code units), everything else by the
 * decoder.
 */
export function utf8String(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 64) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return utf8Decoder.decode(bytes);
}

/**
 * UTF-8 of a string, exactly as `TextEncoder.encode` (a lone surrogate becomes U+FFFD).
 * Node's `encode()` costs about 1.6 µs per call whatever the length, more than a whole field's
 * cipher setup; the format's short strings (pointers, group names, key ids, context pairs) are
 * mostly ASCII, so those are copied here, and everything else goes through `encodeInto`.
 */
export function utf8Bytes(text: string): Uint8Array {
  const n = text.length;
  if (n <= 256) {
    const out = new Uint8Array(n);
    if (writeAscii(text, out, 0)) return out;
  } else {
    // Optimistic: every code unit gives at least one byte, so reading all of it into n bytes means ASCII.
    const out = new Uint8Array(n);
    if (utf8Encoder.encodeInto(text, out).read === n) return out;
  }
  const out = new Uint8Array(n * 3);
  const { written } = utf8Encoder.encodeInto(text, out);
  return out.slice(0, written);
}

// Engines keep a typed array of more than 64 bytes off the JS heap, and Node 20 pays about 2 µs
// (zero-filled allocation plus external-memory accounting) for each one: more than a field's
// whole AES-GCM call. The format's short public byte strings are carved out of a shared slab.
const SLAB_BYTES = 16 * 1024;
const SLAB_MAX_REQUEST = 2048;
let slab = new Uint8Array(0);
let slabOffset = 0;

/**
 * Zero-filled bytes for PUBLIC, internal data only (AAD, MAC input, header encodings): the view
 * shares its `ArrayBuffer` with unrelated neighbours, so key material, plaintext or anything
 * handed to a caller must never come from here. A fresh slab is zeroed and every range is handed
 * out once, so no fill is needed.
 */
export function allocPublic(length: number): Uint8Array {
  if (length > SLAB_MAX_REQUEST) return new Uint8Array(length);
  if (slabOffset + length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOffset = 0;
  }
  const out = slab.subarray(slabOffset, slabOffset + length);
  slabOffset += (length + 7) & ~7;
  return out;
}

/**
 * Growable big-endian writer for the binary header and canonical encodings, on {@link allocPublic}
 * memory: never write secrets with it, and copy what it returns before handing it to a caller.
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  /** @param capacity Initial size; the writer grows (by doubling) past it. */
  constructor(capacity = 128) {
    this.#buf = allocPublic(capacity);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  #ensure(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let size = Math.max(this.#buf.length * 2, 16);
    while (size < this.#len + extra) size *= 2;
    const next = allocPublic(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(n: number): this {
    this.#ensure(1);
    this.#view.setUint8(this.#len, n);
    this.#len += 1;
    return this;
  }

  u16(n: number): this {
    this.#ensure(2);
    this.#view.setUint16(this.#len, n);
    this.#len += 2;
    return this;
  }

  u32(n: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#len, n);
    this.#len += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  get length(): number {
    return this.#len;
  }

  /** The bytes written: a view into public slab memory (see {@link allocPublic}). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** Bounds-checked big-endian reader; any overrun is a MalformedError. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  readonly #what: string;

  constructor(buf: Uint8Array, what: string) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.length) throw new MalformedError(`${this.#what} is truncated`);
  }

  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#pos++);
  }

  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }
}
