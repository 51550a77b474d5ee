import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

test('log-demo prints a request line in censor, beacon and seal modes, with no PII in any of them', () => {
  const script = fileURLToPath(new URL('./log-demo.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  for (const secret of ['ada@example.com', '078-05-1120', '4111111111111111']) expect(r.stdout).not.toContain(secret);
  const lines = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), JSON.parse(l.slice(l.indexOf(':') + 2))]));
  expect(lines.censor.record).toEqual({ name: 'Ada', email: '[REDACTED]', ssn: '[REDACTED]', cards: [{ number: '[REDACTED]', exp: '12/30' }] });
  expect(lines.beacon.record.ssn).toMatch(/^lb1\./);
  expect(lines.seal.record.ssn).toMatch(/^fs1\./);
  expect(lines.seal._fieldseal).toMatch(/^fs1h\./);
  expect(lines.seal.record.name).toBe('Ada');
});
