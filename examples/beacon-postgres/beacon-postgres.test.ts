import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Client } from 'pg';
import { openTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { runBeaconExample, type ExampleResult } from './example.js';

// 10,000 rows against the real PostgreSQL: encrypt, beacon, insert, look up by beacon, decrypt, filter.
describe('beacon-postgres example', () => {
  let db: TestDatabase;
  let client: Client;
  let result: ExampleResult;

  beforeAll(async () => {
    db = await openTestDatabase();
    client = await db.connect();
    result = await runBeaconExample({ client, rows: 10_000, lookups: 200 });
    // The measurement this example exists for (no plaintext: counts only).
    console.log(
      `[beacon-postgres] ${db.embedded ? 'embedded PGlite' : 'PostgreSQL server'}: ${result.rows} rows, ${result.distinctEmails} distinct emails, ${result.bits}-bit beacons ` +
        `(safe ${result.bounds?.min}..${result.bounds?.max}); false positives per lookup measured ${result.meanFalsePositives.toFixed(2)} vs formula ${result.expectedFalsePositives.toFixed(2)}; ` +
        `over all distinct emails ${result.meanFalsePositivesAllValues.toFixed(2)}; ${result.distinctBeacons} distinct beacons (expected ${result.expectedDistinctBeacons.toFixed(1)})`,
    );
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await db?.stop();
  });

  test('every lookup returns exactly the matching rows, including repeats written in another case', () => {
    expect(result.lookups).toHaveLength(200);
    for (const l of result.lookups) {
      expect(l.expected.length).toBeGreaterThan(0);
      expect(l.found).toEqual(l.expected);
      // Every match came through the beacon query: no false negatives.
      for (const id of l.expected) expect(l.candidates).toContain(id);
    }
    expect(result.lookups.some((l) => l.expected.length > 1)).toBe(true);
  });

  test('the beacon query returns false positives at the rate the formula predicts', () => {
    // Truncation is doing its job: candidates are more than the matches.
    expect(result.meanFalsePositives).toBeGreaterThan(1);
    // (rows - matches) / 2^bits per lookup; 200 lookups of ~10 expected each keep the mean within a few percent.
    expect(result.meanFalsePositives / result.expectedFalsePositives).toBeGreaterThan(0.7);
    expect(result.meanFalsePositives / result.expectedFalsePositives).toBeLessThan(1.3);
    const perValue = (result.rows - result.rows / result.distinctEmails) / 2 ** result.bits;
    expect(result.meanFalsePositivesAllValues / perValue).toBeGreaterThan(0.85);
    expect(result.meanFalsePositivesAllValues / perValue).toBeLessThan(1.15);
    expect(result.distinctBeacons).toBeLessThanOrEqual(2 ** result.bits);
    expect(result.distinctBeacons).toBeGreaterThan(result.expectedDistinctBeacons * 0.95);
  });

  test('the chosen length is inside the safe range, and loading the beacon key cost one unwrap', () => {
    expect(result.bounds).toBeDefined();
    expect(result.bits).toBeGreaterThanOrEqual(result.bounds!.min);
    expect(result.bits).toBeLessThanOrEqual(result.bounds!.max);
    expect(result.keyringUnwrapsForBeaconKey).toBe(1);
  });
});
