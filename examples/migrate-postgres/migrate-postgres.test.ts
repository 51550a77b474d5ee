import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const script = fileURLToPath(new URL('./run.mjs', import.meta.url));

describe('migrate-postgres example', () => {
  test('seals a plaintext table in place while the application writes, the application reads every row through openRow, SQL finds no plaintext', async () => {
    const rows = 800;
    const child = spawn(process.execPath, [script], { env: { ...process.env, FIELDSEAL_EXAMPLE_ROWS: String(rows) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as { rows: number; verified: number; appWritesDuringMigration: number; dryRun: { wouldSeal: number }; untilClean: { plaintextValuesLeft: number }; plaintextValuesBySql: number };
    expect(summary.dryRun.wouldSeal).toBe(rows);
    expect(summary.appWritesDuringMigration).toBeGreaterThan(0);
    expect(summary.rows).toBeGreaterThan(rows);
    expect(summary).toMatchObject({ verified: summary.rows, untilClean: { plaintextValuesLeft: 0 }, plaintextValuesBySql: 0 });
    // The summary holds counts only, never a value.
    expect(out).not.toMatch(/@example\.com|078-05-/);
  }, 120_000);
});
