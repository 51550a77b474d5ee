import { describeSelector, InvalidArgumentError, type SelectorSegment } from '@fieldseal/core';

/**
 * An application's sensitive paths, declared once: pass `selectors` to `encrypt` (as `paths`), to
 * a beacon index, and to the log redactors of this package, so the lists cannot drift apart.
 */
export interface SensitivePaths {
  /** The selectors as given (fieldseal's RFC 9535 subset), e.g. `['$.ssn', '$.cards[*].number']`. */
  readonly selectors: readonly string[];
  /** @internal Parsed segments, one list per selector, by core's own parser. */
  readonly segments: readonly (readonly SelectorSegment[])[];
}

/**
 * Declares the sensitive paths of an application, checked by the same parser `encrypt` uses, and
 * optionally re-rooted where the document sits inside log lines (`at`).
 *
 * Importable from `@fieldseal/log`.
 *
 * @example
 * ```ts
 * import { defineSensitivePaths } from '@fieldseal/log';
 * export const sensitive = defineSensitivePaths(['$.ssn', '$.email', '$.cards[*].number', '$..password']);
 * // encrypt(doc, { keyring, paths: sensitive.selectors }) and pino(pinoRedaction(sensitive))
 * ```
 * @throws {InvalidSelectorError} `ERR_FIELDSEAL_INVALID_SELECTOR` for a selector outside the subset.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when `selectors` is not a non-empty array of strings.
 */
export function defineSensitivePaths(selectors: readonly string[], options?: SensitivePathsOptions): SensitivePaths {
  if (!Array.isArray(selectors) || selectors.length === 0 || selectors.some((s) => typeof s !== 'string')) {
    throw new InvalidArgumentError('sensitive paths must be a non-empty array of selector strings');
  }
  const roots = options?.at ?? ['$'];
  if (!Array.isArray(roots) || roots.length === 0 || roots.some((r) => typeof r !== 'string')) throw new InvalidArgumentError('at must be a non-empty array of selectors');
  for (const s of selectors) describeSelector(s);
  // A document logged under `$.body` has its `$.ssn` at `$.body.ssn`: the same selector, re-rooted.
  const list = Object.freeze(roots.flatMap((root) => selectors.map((s) => (root === '$' ? s : root + s.slice(1)))));
  return Object.freeze({ selectors: list, segments: Object.freeze(list.map((s) => describeSelector(s))) });
}

/** Options of {@link defineSensitivePaths}. */
export interface SensitivePathsOptions {
  /**
   * Where the document appears in a log line: selectors of its root, e.g. `['$', '$.body']` when
   * request logs carry the record under `body`. Default `['$']`.
   */
  readonly at?: readonly string[];
}
