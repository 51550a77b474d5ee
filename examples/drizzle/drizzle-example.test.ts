import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runDrizzleExample } from './example.js';

const SECRETS = ['ada@example.com', 'ada.lovelace@example.com', 'grace@example.com', '078-05-1120', '1815-12-10', 'analytical engine'];

describe('examples/drizzle', () => {
  test.each([
    ['PGlite', undefined],
    ['PostgreSQL', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'],
  ])('runs on %s: stores no plaintext, reads plaintext back, refuses like()', async (_name, databaseUrl) => {
    const result = await runDrizzleExample(databaseUrl === undefined ? {} : { databaseUrl });
    const stored = JSON.stringify(result.stored);
    for (const s of SECRETS) expect(stored).not.toContain(s);
    expect(result.stored[0]!.email).toMatch(/^fs1\./);
    expect(result.found).toEqual([{ name: 'Ada', email: 'ada@example.com' }]);
    expect(result.withNotes[0]).toEqual({ name: 'Ada', notes: [{ title: 'empty', body: null }, { title: 'engine', body: 'notes on the analytical engine' }] });
    expect(result.updatedEmail).toBe('ada.lovelace@example.com');
    expect(result.refusedCode).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
  }, 120_000); // PGlite's WebAssembly start-up alone takes seconds on a loaded 2-core machine

  test('the one command a newcomer runs works with no server', async () => {
    const run = fileURLToPath(new URL('./run.mjs', import.meta.url));
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const { stdout } = await promisify(execFile)(process.execPath, [run], { env });
    expect(stdout).toContain('database: PGlite (in memory)');
    expect(stdout).toContain('refused with ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    expect(stdout.trim().endsWith('done')).toBe(true);
  }, 120_000);
});
