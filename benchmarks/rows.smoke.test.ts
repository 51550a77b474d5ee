// Keeps `npm run bench:rows` from rotting: two batches (one is warm-up), checks every subject and
// the floor print a CPU time and a ratio. Says nothing about speed (run `npm run bench:rows`).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

test('bench:rows prints (a), the floor and every fieldseal subject with a ratio', () => {
  const script = fileURLToPath(new URL('./rows.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script, '2'], { encoding: 'utf8', timeout: 240_000 });
  for (const subject of ['(a) one field', 'floor one field', 'fieldseal encrypt', 'fieldseal decrypt', 'sealRow ', 'openRow ', 'sealRows 1,000 rows', 'openRows 1,000 rows', 'floor W1', 'fieldseal W1 decrypt']) {
    const line = out.split('\n').find((l) => l.trim().startsWith(subject));
    expect(line, subject).toBeDefined();
    expect(line).toMatch(/\d+\.\d µs CPU\/op {2}ratio \d+\.\d{3}/);
  }
}, 250_000);
