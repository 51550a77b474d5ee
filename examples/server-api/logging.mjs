// Request logging that keeps the record's PII out of the logs, with the same selectors that seal it
// (PII_PATHS), in one of three modes: censor, beacon (joinable without plaintext) or seal (an
// authorised responder opens the line with `fieldseal decrypt --ndjson`).
import pino from 'pino';
import { defineSensitivePaths, pinoRedaction, sealingStream } from '@fieldseal/log';

/** The paths sealed in the database are the paths kept out of the logs; records are logged under `record`. */
export const PII_PATHS = ['$.ssn', '$.email', '$.phone', '$.dateOfBirth', '$.cards[*].number'];
export const LOG_PATHS = defineSensitivePaths(PII_PATHS, { at: ['$.record'] });

/**
 * A pino logger for request lines.
 * @param {{ mode: 'censor' | 'beacon' | 'seal', destination: NodeJS.WritableStream, beaconKey?: Uint8Array, keyring?: import('@fieldseal/core').Keyring }} options
 */
export function requestLogger({ mode, destination, beaconKey, keyring }) {
  const base = { base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (mode === 'seal') return pino(base, sealingStream(LOG_PATHS, destination, { keyring, context: { log: 'server-api' } }));
  return pino({ ...base, ...pinoRedaction(LOG_PATHS, mode === 'beacon' ? { mode, beaconKey } : {}) }, destination);
}
