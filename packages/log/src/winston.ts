import { InvalidArgumentError } from '@fieldseal/core';
import { replaceSelected } from './lib/walk.js';
import { replacerOf, type LogRedactionOptions } from './lib/replacer.js';
import type { SensitivePaths } from './sensitive-paths.js';

/** A logform format (what `winston.format.combine` and `createLogger({ format })` take). */
export interface WinstonRedactionFormat {
  transform<T extends object>(info: T, options?: unknown): T;
}

/**
 * A winston (logform) format that replaces every value at the sensitive paths, in a copy of the
 * `info` object (winston shares nested objects with the caller's metadata, so nothing is changed in
 * place; Symbol keys are kept). Put it after `splat()` and before `json()`/`printf()`. The
 * `message` string is never searched: do not interpolate sensitive values into messages.
 *
 * Importable from `@fieldseal/log`.
 *
 * @example
 * ```ts
 * import winston from 'winston';
 * import { defineSensitivePaths, winstonRedaction } from '@fieldseal/log';
 * const sensitive = defineSensitivePaths(['$.ssn', '$..password']);
 * const logger = winston.createLogger({
 *   format: winston.format.combine(winstonRedaction(sensitive), winston.format.json()),
 *   transports: [new winston.transports.Console()],
 * });
 * ```
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for bad options.
 */
export function winstonRedaction(paths: SensitivePaths, options?: LogRedactionOptions): WinstonRedactionFormat {
  if (paths === null || typeof paths !== 'object' || !Array.isArray(paths.segments)) throw new InvalidArgumentError('winstonRedaction takes the result of defineSensitivePaths');
  const replace = replacerOf(options);
  return {
    transform: <T extends object>(info: T): T => replaceSelected(info, paths.segments, replace) as T,
  };
}
