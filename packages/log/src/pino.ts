import { replaceSelected } from './lib/walk.js';
import { toPinoPaths } from './lib/pino-paths.js';
import { replacerOf, type LogRedactionOptions } from './lib/replacer.js';
import type { SensitivePaths } from './sensitive-paths.js';
import { InvalidArgumentError } from '@fieldseal/core';

/** The pino options {@link pinoRedaction} returns: spread them into `pino({...})`. */
export interface PinoRedactionConfig {
  /** pino's own `redact`, for every selector its path syntax can express (the fast path). */
  readonly redact?: { readonly paths: string[]; readonly censor: string | ((value: unknown) => unknown) };
  /**
   * A `streamWrite` hook that applies the other selectors (descendant `..`, negative indices) to
   * each finished line, child bindings and serialized errors included. Present only when needed.
   */
  readonly hooks?: { readonly streamWrite: (line: string) => string };
  /** The pino paths used on the fast path, and the selectors left to the formatters (for review and tests). */
  readonly plan: { readonly pinoPaths: readonly string[]; readonly walkedSelectors: readonly string[] };
}

/**
 * pino options that keep the sensitive paths out of every log line: selectors that pino's path
 * syntax can express go to pino's own `redact` (fast), the rest to `formatters.log` and
 * `formatters.bindings` (a walk per line), so no selector is dropped. The `msg` string is never
 * searched: do not interpolate sensitive values into messages.
 *
 * Importable from `@fieldseal/log`.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { defineSensitivePaths, pinoRedaction } from '@fieldseal/log';
 * const sensitive = defineSensitivePaths(['$.ssn', '$.cards[*].number', '$..password']);
 * const logger = pino(pinoRedaction(sensitive));                          // censor
 * const joinable = pino(pinoRedaction(sensitive, { mode: 'beacon', beaconKey })); // keyed beacons
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options (a missing or short beacon key).
 */
export function pinoRedaction(paths: SensitivePaths, options?: LogRedactionOptions): PinoRedactionConfig {
  if (paths === null || typeof paths !== 'object' || !Array.isArray(paths.segments)) throw new InvalidArgumentError('pinoRedaction takes the result of defineSensitivePaths');
  const replace = replacerOf(options);
  const pinoPaths: string[] = [];
  const walked: number[] = [];
  paths.segments.forEach((segments, i) => {
    const compiled = toPinoPaths(segments);
    if (compiled === undefined) walked.push(i);
    else for (const p of compiled) if (!pinoPaths.includes(p)) pinoPaths.push(p);
  });
  const walkedSegments = walked.map((i) => paths.segments[i]!);
  // pino applies formatters.bindings to the root logger only (children reset it), so the walk runs
  // on the finished line, where bindings, serializers and `redact` have all been applied.
  const streamWrite = (line: string): string => {
    const newline = line.endsWith('\n') ? '\n' : '';
    try {
      const parsed: unknown = JSON.parse(newline ? line.slice(0, -1) : line);
      return JSON.stringify(replaceSelected(parsed, walkedSegments, replace)) + newline;
    } catch {
      return JSON.stringify({ fieldseal_log_error: 'a log line could not be redacted and was withheld' }) + newline;
    }
  };
  const censor = options?.mode === 'beacon' ? (value: unknown) => replace(value) : (replace(undefined) as string);
  return {
    ...(pinoPaths.length > 0 ? { redact: { paths: pinoPaths, censor } } : {}),
    ...(walkedSegments.length > 0 ? { hooks: { streamWrite } } : {}),
    plan: { pinoPaths, walkedSelectors: walked.map((i) => paths.selectors[i]!) },
  };
}
