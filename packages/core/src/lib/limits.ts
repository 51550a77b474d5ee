import { InvalidArgumentError } from '../errors.js';
import type { Limits } from '../types.js';

/** Defaults chosen so ordinary documents never meet them and hostile ones fail fast. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxDepth: 128,
  maxFieldBytes: 16 * 1024 * 1024,
  maxFields: 100_000,
  maxWrappedKeys: 16,
  maxGroups: 16,
  maxHeaderBytes: 1024 * 1024,
  maxContextPairs: 64,
});

/**
 * The most each limit may be set to: what the header's count fields can hold (FORMAT.md §2: u16
 * context-pair and required-key counts, u8 group and wrapped-key counts, u32 field count per group).
 * A larger limit would let encrypt write a count that wraps, giving a document that never opens.
 */
export const LIMIT_CEILINGS: Readonly<Partial<Record<keyof Limits, number>>> = Object.freeze({
  maxContextPairs: 0xffff,
  maxGroups: 0xff,
  maxWrappedKeys: 0xff,
  maxFields: 0xffffffff,
});

/** Merge caller overrides over the defaults, checking each is a positive safe integer the format can hold. */
export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  if (overrides === null || typeof overrides !== 'object') throw new InvalidArgumentError('limits must be an object');
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    let v: unknown;
    try {
      v = (overrides as Record<string, unknown>)[key];
    } catch (cause) {
      throw new InvalidArgumentError(`limits.${key} could not be read`, { cause });
    }
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`limits.${key} must be a positive integer`);
    const ceiling = LIMIT_CEILINGS[key];
    if (ceiling !== undefined && v > ceiling) throw new InvalidArgumentError(`limits.${key} is at most ${ceiling}: the format cannot hold more`);
    out[key] = v;
  }
  return Object.freeze(out) as unknown as Limits;
}
