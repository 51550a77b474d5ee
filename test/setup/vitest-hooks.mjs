import { afterEach } from 'vitest';
import { takeViolations } from './loopback-guard.mjs';

afterEach(() => {
  const seen = takeViolations();
  if (seen.length > 0) throw new Error(`non-loopback connection attempted:\n${seen.join('\n')}`);
});
