/**
 * UTF-8 of a long string, a slice at a time, through one reused buffer.
 *
 * A 1 MiB field encoded in one piece costs a fresh megabyte per document: an allocation the
 * operating system must fault in and zero, a copy the caller then zeroes, and a megabyte more for
 * the garbage collector. Slices of at most {@link SLICE_UNITS} UTF-16 code units always fit the
 * 64 KiB buffer (UTF-8 takes at most 3 bytes per code unit: 3 for a BMP character, 4 for a
 * surrogate pair of 2 units), stay in the CPU's cache, and cost no allocation (W2, issue 18).
 */

/** Code units per slice: 3 bytes each at most, so a slice's UTF-8 always fits {@link SLICE_BYTES}. */
export const SLICE_UNITS = 21_845;
const SLICE_BYTES = SLICE_UNITS * 3;

const scratch = new Uint8Array(SLICE_BYTES);
const encoder = new TextEncoder();
let inUse = false;

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * Encode `text` (well-formed: the caller checks `isWellFormed()`) to UTF-8 slice by slice, handing
 * each slice's bytes to `each` synchronously, and return the total byte length. A slice never ends
 * between the two halves of a surrogate pair. The bytes are a view of a shared buffer that is
 * overwritten by the next slice and zeroed before this function returns or throws: `each` must use
 * them at once (a cipher's `update` copies what it needs) and must not call this function.
 * Without `each`, it only counts.
 */
export function eachUtf8Slice(text: string, each?: (bytes: Uint8Array) => void): number {
  if (inUse) throw new Error('eachUtf8Slice is not reentrant');
  inUse = true;
  let total = 0;
  let widest = 0;
  try {
    for (let start = 0; start < text.length; ) {
      let end = Math.min(start + SLICE_UNITS, text.length);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      const { read, written } = encoder.encodeInto(end - start === text.length ? text : text.slice(start, end), scratch);
      // Cannot happen for a well-formed slice (it always fits); a short read would lose text.
      if (read !== end - start) throw new Error('a UTF-8 slice did not fit its buffer');
      if (written > widest) widest = written;
      total += written;
      each?.(scratch.subarray(0, written));
      start = end;
    }
    return total;
  } finally {
    scratch.fill(0, 0, widest);
    inUse = false;
  }
}
