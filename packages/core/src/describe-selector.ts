import { compileSelector } from './lib/selector.js';

/** One selector of a segment: a member name, an array index (negative counts from the end), or every child. */
export type SelectorStep = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'index'; readonly index: number } | { readonly kind: 'wildcard' };

/** One segment of a selector: its steps apply to the children (or, when `descendant`, to every node below and the node itself). */
export interface SelectorSegment {
  readonly descendant: boolean;
  readonly selectors: readonly SelectorStep[];
}

/**
 * Parses a selector of fieldseal's JSONPath subset (RFC 9535 syntax: names, indices, wildcards,
 * unions, descendant segments) into its segments, with the same parser `encrypt` uses, so that
 * other tools (log redaction, ORM integrations) apply exactly the paths that are encrypted.
 *
 * Importable from `@fieldseal/core`.
 *
 * @example
 * ```ts
 * import { describeSelector } from '@fieldseal/core';
 * describeSelector('$.cards[*].number');
 * // [{ descendant: false, selectors: [{ kind: 'name', name: 'cards' }] },
 * //  { descendant: false, selectors: [{ kind: 'wildcard' }] },
 * //  { descendant: false, selectors: [{ kind: 'name', name: 'number' }] }]
 * ```
 * @throws {InvalidSelectorError} `ERR_FIELDSEAL_INVALID_SELECTOR` for a selector outside the subset.
 */
export function describeSelector(source: string): readonly SelectorSegment[] {
  return compileSelector(source).segments;
}
