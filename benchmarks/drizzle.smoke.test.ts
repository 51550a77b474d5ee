// Keeps benchmarks/drizzle.mjs from rotting: a tiny run on PGlite, checked for a well-formed table
// in which every subject returned its rows. It asserts nothing about speed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

test('benchmarks/drizzle.mjs runs and prints one row per keyring', async () => {
  const script = fileURLToPath(new URL('./drizzle.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--driver', 'pglite', '--rounds', '1', '--rows', '20']);
  const rows = stdout.split('\n').filter((l) => l.startsWith('| PGlite'));
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    const cells = row.split('|').map((c) => c.trim());
    for (const cell of cells.slice(3, 7)) expect(cell).toMatch(/^\d+\.\d ms \(CPU \d+\.\d\)$/);
    expect(Number(cells[8]!.replaceAll(',', ''))).toBeGreaterThan(0);
  }
}, 120_000);
