import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { runPrismaExample } from './example.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

test('the example stores ciphertext, reads plaintext, finds by beacon and refuses a substring filter', async () => {
  const result = await runPrismaExample({ url });
  expect(String(result.stored.email)).toMatch(/^fs1\./);
  expect(String(result.stored.ssn)).toMatch(/^fs1\./);
  expect(JSON.stringify(result.stored)).not.toMatch(/ada@example|078-05-1120/);
  expect(result.read).toEqual({ email: 'ada@example.com', ssn: '078-05-1120', orders: [{ address: '12 Analytical Row' }] });
  expect(result.found).toEqual(['Ada']);
  expect(result.refused).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
});

test('node examples/prisma/run.mjs runs as a newcomer would run it', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(new URL('./run.mjs', import.meta.url))]);
  expect(stdout).toContain('through the extension: ada@example.com, 078-05-1120, ships to 12 Analytical Row');
  expect(stdout).toContain('through the beacon: Ada');
  expect(stdout).toContain('is refused: ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  expect(stdout).not.toMatch(/email=ada|078-05-1120…/);
});
