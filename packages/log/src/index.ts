/**
 * fieldseal log: keep the paths an application encrypts out of its pino and winston logs, with the
 * same selectors — censored, replaced by keyed beacons, or sealed for an authorised responder.
 * @module
 */
export { defineSensitivePaths, type SensitivePaths, type SensitivePathsOptions } from './sensitive-paths.js';
export { pinoRedaction, type PinoRedactionConfig } from './pino.js';
export { winstonRedaction, type WinstonRedactionFormat } from './winston.js';
export { sealingStream, type SealingStreamOptions } from './sealing-stream.js';
export { logBeacon } from './log-beacon.js';
export type { LogRedactionOptions } from './lib/replacer.js';
