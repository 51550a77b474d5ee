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

/** Merge caller overrides over the defaults, checking each is a positive safe integer. */
export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  if (overrides === null || typeof overrides !== 'object') throw new InvalidArgumentError('limits must be an object');
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS)) {
    const v = (overrides as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`limits.${key} must be a positive integer`);
    out[key] = v;
  }
  // Format ceilings: counts are stored in u8 fields.
  if (out.maxGroups! > 255 || out.maxWrappedKeys! > 255) throw new InvalidArgumentError('limits.maxGroups and limits.maxWrappedKeys are at most 255');
  return out as unknown as Limits;
}
