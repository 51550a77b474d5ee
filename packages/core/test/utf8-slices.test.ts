import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { eachUtf8Slice, SLICE_UNITS } from '../src/lib/utf8-slices.js';

// eachUtf8Slice encodes a long string through one reused buffer. Its slices, joined, must be
// exactly the string's UTF-8 (no surrogate pair cut in two), and the buffer must hold nothing of
// the text once it returns or throws.

const reference = new TextEncoder();

function slices(text: string): { views: Uint8Array[]; joined: Uint8Array; total: number } {
  const views: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  const total = eachUtf8Slice(text, (bytes) => {
    views.push(bytes);
    copies.push(bytes.slice());
  });
  const joined = new Uint8Array(copies.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of copies) {
    joined.set(c, at);
    at += c.length;
  }
  return { views, joined, total };
}

/** Strings whose slice boundaries fall on, before and after surrogate pairs and multi-byte characters. */
function boundaryCases(): string[] {
  const out: string[] = [];
  for (const filler of ['a', 'é', '€', '😀']) {
    for (const delta of [-2, -1, 0, 1, 2]) {
      const head = filler.repeat(Math.max(0, Math.floor((SLICE_UNITS + delta) / filler.length)));
      for (const tail of ['', 'x', '😀', 'é😀', '😀'.repeat(SLICE_UNITS)]) out.push(head + tail);
    }
  }
  return out;
}

describe('eachUtf8Slice', () => {
  test('the slices join to the UTF-8 of the text, the total is its length, and no slice is empty or over 64 KiB', () => {
    for (const text of ['', 'a', ...boundaryCases()]) {
      const { joined, total, views } = slices(text);
      const expected = reference.encode(text);
      expect(total, `length ${text.length}`).toBe(expected.length);
      expect(Buffer.from(joined).equals(Buffer.from(expected)), `length ${text.length}`).toBe(true);
      for (const v of views) expect(v.length > 0 && v.length <= SLICE_UNITS * 3).toBe(true);
    }
  });

  test('property: any well-formed string, stretched across several slices', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 3 * SLICE_UNITS }), (piece, times) => {
        const text = (piece.length === 0 ? 'z' : piece).repeat(Math.ceil(times / Math.max(1, piece.length)));
        const { joined, total } = slices(text);
        const expected = reference.encode(text);
        return total === expected.length && Buffer.from(joined).equals(Buffer.from(expected));
      }),
      { numRuns: 60 },
    );
  });

  test('without a callback it only counts', () => {
    const text = '€'.repeat(SLICE_UNITS * 2 + 7) + '😀';
    expect(eachUtf8Slice(text)).toBe(reference.encode(text).length);
  });

  test('the shared buffer is zeroed when it returns and when the callback throws', () => {
    const text = 'secret-'.repeat(SLICE_UNITS);
    const { views } = slices(text);
    expect(views.length).toBeGreaterThan(2);
    for (const v of views) expect(v.every((b) => b === 0)).toBe(true);
    let seen: Uint8Array | undefined;
    expect(() =>
      eachUtf8Slice(text, (bytes) => {
        seen = bytes;
        throw new Error('the callback failed');
      }),
    ).toThrow('the callback failed');
    expect(seen!.length).toBeGreaterThan(0);
    expect(seen!.every((b) => b === 0)).toBe(true);
  });

  test('a callback that calls it again is refused, and the outer call still zeroes and can be used again', () => {
    const text = 'x'.repeat(SLICE_UNITS + 1);
    expect(() => eachUtf8Slice(text, () => void eachUtf8Slice('inner'))).toThrow('not reentrant');
    expect(eachUtf8Slice(text)).toBe(SLICE_UNITS + 1);
  });
});
