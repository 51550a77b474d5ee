import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { encrypt, InvalidArgumentError, isFieldsealError, type EncryptionContext, type JsonObject, type Keyring } from '@fieldseal/core';
import { replaceSelected, selectLocations, type LogPath } from './lib/walk.js';
import type { SensitivePaths } from './sensitive-paths.js';

/** Options of {@link sealingStream}. */
export interface SealingStreamOptions {
  /** The log keyring (put a `CachingKeyring` in front of a KMS: one data key serves many lines). */
  readonly keyring: Keyring;
  /** Encryption context stored in each sealed line, e.g. `{ log: 'api' }`; `fieldseal decrypt` checks it. */
  readonly context?: EncryptionContext;
  /** Called when a line could not be sealed (it is written censored instead) or was not JSON (it is dropped). */
  readonly onError?: (error: Error, line: number) => void;
  /** The censor text used when a line cannot be sealed. Default `[REDACTED]`. */
  readonly censor?: string;
  /** Longest line accepted, in characters; longer lines are dropped (reported). Default 1 MiB. */
  readonly maxLineLength?: number;
}

/**
 * A writable stream of NDJSON log lines (pino's output, or winston's through its `Stream`
 * transport) that seals the values at the sensitive paths of each line with `encrypt`, and writes
 * the sealed line to `destination`. An authorised responder opens them with
 * `fieldseal decrypt --keyring … --ndjson`. Lines with no sensitive value pass unchanged. A line
 * that cannot be sealed is written censored (and reported), a line that is not JSON is dropped
 * (and reported): no plaintext at a sensitive path ever reaches the destination. Log formatters
 * are synchronous and key wraps are not, which is why sealing happens here and not in a formatter.
 *
 * Importable from `@fieldseal/log`.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { defineSensitivePaths, sealingStream } from '@fieldseal/log';
 * const logger = pino(sealingStream(sensitive, process.stdout, { keyring: logKeyring, context: { log: 'api' } }));
 * ```
 */
export function sealingStream(paths: SensitivePaths, destination: NodeJS.WritableStream, options: SealingStreamOptions): Writable {
  if (paths === null || typeof paths !== 'object' || !Array.isArray(paths.segments)) throw new InvalidArgumentError('sealingStream takes the result of defineSensitivePaths');
  if (options === null || typeof options !== 'object' || options.keyring === undefined) throw new InvalidArgumentError('sealingStream needs a keyring');
  if (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function') throw new InvalidArgumentError('sealingStream needs a writable destination');
  const censor = options.censor ?? '[REDACTED]';
  const maxLine = options.maxLineLength ?? 1024 * 1024;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  const report = (error: Error, line: number): void => {
    try {
      options.onError?.(error, line);
    } catch {
      /* a faulty reporter must not break logging */
    }
  };
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const ok = destination.write(text, (err?: Error | null) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else destination.once('drain', () => resolve());
    });

  const sealLine = async (line: string): Promise<void> => {
    lineNumber++;
    if (line.trim() === '') return write(line + '\n');
    if (line.length > maxLine) return report(new InvalidArgumentError(`log line ${lineNumber} is longer than ${maxLine} characters: dropped`), lineNumber);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return report(new InvalidArgumentError(`log line ${lineNumber} is not JSON: dropped`), lineNumber);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return report(new InvalidArgumentError(`log line ${lineNumber} is not a JSON object: dropped`), lineNumber);
    const tooDeep = new Map<string, LogPath>();
    const hit = paths.segments.some((s) => selectLocations(parsed, s, tooDeep).some((p) => p.length > 0)) || tooDeep.size > 0;
    if (!hit) return write(line + '\n');
    try {
      const sealed = await encrypt(parsed as JsonObject, { keyring: options.keyring, paths: paths.selectors, ...(options.context ? { context: options.context } : {}) });
      return write(JSON.stringify(sealed) + '\n');
    } catch (err) {
      const censored = replaceSelected(parsed, paths.segments, () => censor) as Record<string, unknown>;
      censored.fieldseal_log_error = isFieldsealError(err) ? (err as { code: string }).code : 'ERR_FIELDSEAL';
      report(err instanceof Error ? err : new Error('sealing failed'), lineNumber);
      return write(JSON.stringify(censored) + '\n');
    }
  };

  const drainLines = async (text: string): Promise<void> => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      await sealLine(line);
    }
    if (pending.length > maxLine) {
      pending = '';
      lineNumber++;
      report(new InvalidArgumentError(`log line ${lineNumber} is longer than ${maxLine} characters: dropped`), lineNumber);
    }
  };

  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      drainLines(typeof chunk === 'string' ? chunk : decoder.write(chunk)).then(() => callback(), callback);
    },
    final(callback) {
      const rest = pending + decoder.end();
      pending = '';
      (rest.length > 0 ? sealLine(rest) : Promise.resolve()).then(() => callback(), callback);
    },
  });
}
