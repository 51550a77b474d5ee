import type { EncryptionContext } from '@fieldseal/core';

/**
 * An encryption context as `[key, value]` pairs: a context is a null-prototype record (a key may
 * be `__proto__`), which a structured clone would not keep; pairs cross to a worker thread intact.
 */
export type ContextPairs = readonly (readonly [string, string])[];

/** The pairs of a context (undefined stays undefined). */
export function contextPairs(context: EncryptionContext | undefined): ContextPairs | undefined {
  return context === undefined ? undefined : Object.keys(context).map((k) => [k, context[k]!] as const);
}

/** The context of `pairs`, a null-prototype record as `parseContextFlags` makes. */
export function contextFromPairs(pairs: ContextPairs | undefined): EncryptionContext | undefined {
  if (pairs === undefined) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of pairs) out[k] = v;
  return out;
}
