import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { progressReporter } from '../src/progress.js';

function stream(tty: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (tty) s.isTTY = true;
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

describe('NDJSON progress line', () => {
  test('on a terminal: records, records/s, percentage and ETA from the input size', async () => {
    let now = 0;
    const { s, text } = stream(true);
    const p = progressReporter(s, 1000, () => now);
    p.bytes(250);
    now = 1000; // 1 s for the first 100 records, a quarter of the input
    for (let i = 0; i < 100; i++) p.record();
    await new Promise((r) => setImmediate(r));
    expect(text()).toContain('1 records, 1 records/s, 25%, ETA 0:03');
    now = 2000;
    p.bytes(250);
    p.record();
    await new Promise((r) => setImmediate(r));
    expect(text()).toContain('101 records, 51 records/s, 50%, ETA 0:02');
    p.done();
    await new Promise((r) => setImmediate(r));
    expect(text().endsWith('\n')).toBe(true);
  });

  test('not a terminal: nothing at all, so logs and pipes stay clean', async () => {
    const { s, text } = stream(false);
    const p = progressReporter(s, 1000, () => 0);
    p.bytes(1000);
    for (let i = 0; i < 1000; i++) p.record();
    p.done();
    p.clear();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('');
  });

  test('no known size: no percentage, no ETA', async () => {
    let now = 0;
    const { s, text } = stream(true);
    const p = progressReporter(s, undefined, () => now);
    p.bytes(500);
    now = 500;
    p.record();
    await new Promise((r) => setImmediate(r));
    expect(text()).toMatch(/1 records, 2 records\/s$/);
  });
});
