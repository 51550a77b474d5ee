import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '@fieldseal/core';

const LABEL = Buffer.from('fieldseal/v1/log-beacon\0', 'latin1');

/** Check a 32-byte log beacon key, copying it so the caller can zero theirs. */
export function logBeaconKey(key: unknown): Buffer {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new InvalidArgumentError('a log beacon key must be 32 bytes (a Uint8Array); derive it per environment and keep it like any key');
  return Buffer.from(key);
}

/**
 * `lb1.` ‖ base64url(first 16 bytes of HMAC-SHA256(key, "fieldseal/v1/log-beacon\0" ‖ input)), where
 * input is the UTF-8 of a string value, or of `JSON.stringify` for anything else. Equal values give
 * equal beacons under one key, so log lines stay joinable and searchable without plaintext.
 */
export function computeLogBeacon(key: Buffer, value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  } catch {
    text = String(Object.prototype.toString.call(value));
  }
  const mac = createHmac('sha256', key).update(LABEL).update(text, 'utf8').digest();
  return `lb1.${mac.subarray(0, 16).toString('base64url')}`;
}
