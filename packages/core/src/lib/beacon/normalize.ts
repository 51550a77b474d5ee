import { InvalidArgumentError, LimitExceededError, MalformedError } from '../../errors.js';
import { BEACON_NORMALIZER_PRESETS, type BeaconNormalizer, type BeaconNormalizerFunction, type BeaconNormalizerStep } from '../../beacons/normalizers.js';

/**
 * Longest beacon input, in UTF-16 code units, before and after normalization. Beacons index short
 * identifiers (emails, phone numbers, national ids); the bound keeps hostile megabyte strings from
 * costing normalization time, and is checked again after NFKC, which can expand a string.
 */
export const MAX_BEACON_INPUT_LENGTH = 65_536;

/*
 * Unicode White_Space (PropList.txt; the set has been stable since Unicode 6.3) plus U+FEFF, which
 * pasted text often carries as a stray byte-order mark. Spelled out rather than using \s or trim()
 * so the set is fixed by this file, not by the runtime's Unicode version.
 */
const WS = '\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
const LEADING_WS = new RegExp(`^[${WS}]+`);
const TRAILING_WS = new RegExp(`[${WS}]+$`);
const WS_RUN = new RegExp(`[${WS}]+`, 'g');
const NOT_DIGIT = /[^0-9]/g;
const ASCII_UPPER = /[A-Z]/g;

const STEPS: Readonly<Record<BeaconNormalizerStep, (s: string) => string>> = {
  nfc: (s) => s.normalize('NFC'),
  nfkc: (s) => s.normalize('NFKC'),
  trim: (s) => s.replace(LEADING_WS, '').replace(TRAILING_WS, ''),
  'collapse-whitespace': (s) => s.replace(WS_RUN, ' '),
  lowercase: (s) => s.toLowerCase(),
  'ascii-lowercase': (s) => s.replace(ASCII_UPPER, (c) => String.fromCharCode(c.charCodeAt(0) | 0x20)),
  digits: (s) => s.replace(NOT_DIGIT, ''),
};

/** A validated normalizer: the step names (for docs and vectors) and the function that applies them. */
export interface CompiledNormalizer {
  /** Built-in step names, or `custom` for application functions. */
  readonly steps: readonly string[];
  readonly apply: (value: unknown) => string;
}

/** Precondition: a preset name or a non-empty list of known steps and functions. */
export function compileNormalizer(spec: BeaconNormalizer | undefined, field: string): CompiledNormalizer {
  const list: readonly (BeaconNormalizerStep | BeaconNormalizerFunction)[] = spec === undefined ? BEACON_NORMALIZER_PRESETS.exact : typeof spec === 'string' ? presetSteps(spec, field) : spec;
  if (!Array.isArray(list) || list.length === 0 || list.length > 32) throw new InvalidArgumentError(`beacon field "${field}": normalize must be a preset name or a list of 1 to 32 steps`);
  const fns: ((s: string) => string)[] = [];
  const names: string[] = [];
  for (const step of list as unknown[]) {
    if (typeof step === 'function') {
      fns.push(guardCustom(step as BeaconNormalizerFunction, field));
      names.push('custom');
    } else if (typeof step === 'string' && Object.prototype.hasOwnProperty.call(STEPS, step)) {
      fns.push(STEPS[step as BeaconNormalizerStep]);
      names.push(step);
    } else {
      throw new InvalidArgumentError(`beacon field "${field}": unknown normalizer step ${typeof step === 'string' ? JSON.stringify(step.slice(0, 40)) : `of type ${typeof step}`}`);
    }
  }
  const apply = (value: unknown): string => {
    // Messages name the field and the rule broken, never the value: it is the PII being indexed.
    if (typeof value !== 'string') throw new MalformedError(`beacon field "${field}": the value must be a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    checkInput(value, field, 'the value');
    let s = value;
    for (const fn of fns) s = fn(s);
    checkInput(s, field, 'the normalized value');
    if (s.length === 0) throw new MalformedError(`beacon field "${field}": the value normalizes to the empty string`);
    return s;
  };
  return Object.freeze({ steps: Object.freeze(names), apply });
}

function presetSteps(name: string, field: string): readonly BeaconNormalizerStep[] {
  if (!Object.prototype.hasOwnProperty.call(BEACON_NORMALIZER_PRESETS, name)) throw new InvalidArgumentError(`beacon field "${field}": unknown normalizer preset ${JSON.stringify(name.slice(0, 40))}`);
  return BEACON_NORMALIZER_PRESETS[name as keyof typeof BEACON_NORMALIZER_PRESETS];
}

function checkInput(s: string, field: string, what: string): void {
  if (s.length > MAX_BEACON_INPUT_LENGTH) throw new LimitExceededError(`beacon field "${field}": ${what} is longer than ${MAX_BEACON_INPUT_LENGTH} UTF-16 code units`, 'maxBeaconInputLength');
  // A lone surrogate has no UTF-8 encoding; TextEncoder would silently turn it into U+FFFD and make
  // distinct inputs share a beacon.
  if (!isWellFormed(s)) throw new MalformedError(`beacon field "${field}": ${what} contains a lone surrogate (not well-formed Unicode)`);
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

function guardCustom(fn: BeaconNormalizerFunction, field: string): (s: string) => string {
  return (s) => {
    let out: unknown;
    try {
      out = fn(s);
    } catch {
      // The cause is dropped on purpose: an application error message may quote the value.
      throw new MalformedError(`beacon field "${field}": a custom normalizer threw`);
    }
    if (typeof out !== 'string') throw new MalformedError(`beacon field "${field}": a custom normalizer returned ${out === null ? 'null' : typeof out}, not a string`);
    return out;
  };
}
