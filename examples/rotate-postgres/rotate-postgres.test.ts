import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { DEFAULT_DATABASE_URL, PgClient } from '../../test/helpers/postgres.js';

const script = fileURLToPath(new URL('./run.mjs', import.meta.url));

interface Summary {
  table: string;
  embedded: boolean;
  rows: number;
  stored: number;
  dryRun: { scanned: number; wouldRotate: number };
  killedWith: string | null;
  resumed: boolean;
  report: { scanned: number; rotated: number; skipped: number; failed: number; conflicts: number };
  keyIdsAfter: string[];
  verified: number;
}

describe('rotate-postgres example', () => {
  test('runs end to end against PostgreSQL: dry run, crash, resume, every row under the new key and equal to its plaintext', async () => {
    const rows = 1200;
    const child = spawn(process.execPath, [script], { env: { ...process.env, FIELDSEAL_EXAMPLE_ROWS: String(rows) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as Summary;
    expect(summary).toMatchObject({ rows, stored: rows, verified: rows, killedWith: 'SIGKILL', resumed: true, keyIdsAfter: [expect.stringMatching(/^main\/[A-Za-z0-9_-]{11}\/v2$/)] });
    expect(summary.dryRun).toEqual({ scanned: rows, wouldRotate: rows });
    expect(summary.report).toMatchObject({ scanned: rows, failed: 0, conflicts: 0 });
    // Rows rotated before the crash are counted there (or, for the batch in flight, skipped as already current).
    expect(summary.report.rotated + summary.report.skipped).toBe(rows);
    // The example cleans up after itself.
    if (!summary.embedded) {
      const c = new PgClient({ connectionString: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL });
      await c.connect();
      const { rows: r } = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${summary.table}"`]);
      await c.end();
      expect(r[0]!.t).toBeNull();
    }
  }, 120_000);
});
