import { InvalidArgumentError } from '@fieldseal/core';
import { computeLogBeacon, logBeaconKey } from './beacon.js';

/** How a selected value appears in a log line. */
export interface LogRedactionOptions {
  /**
   * `censor` (default): the value is replaced by the `censor` text. `beacon`: by a keyed beacon
   * (`lb1.…`) of the value, so lines stay joinable and searchable without the plaintext; needs
   * `beaconKey`. To seal values so that an authorised person can open them later, see `sealingStream`.
   */
  readonly mode?: 'censor' | 'beacon';
  /** The replacement text in `censor` mode. Default `[REDACTED]`. */
  readonly censor?: string;
  /** 32 secret bytes for `beacon` mode (one per environment; never a literal in code). */
  readonly beaconKey?: Uint8Array;
}

/** The replacement function of a mode, checked once. */
export function replacerOf(options: LogRedactionOptions | undefined): (value: unknown) => unknown {
  const o = options ?? {};
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('log redaction options must be an object');
  const mode = o.mode ?? 'censor';
  if (mode === 'censor') {
    const text = o.censor ?? '[REDACTED]';
    if (typeof text !== 'string') throw new InvalidArgumentError('censor must be a string');
    return () => text;
  }
  if (mode === 'beacon') {
    const key = logBeaconKey(o.beaconKey);
    return (value) => computeLogBeacon(key, value);
  }
  throw new InvalidArgumentError(`unknown log redaction mode ${JSON.stringify(mode)} (use "censor" or "beacon"; for sealing use sealingStream)`);
}
