import { describe, expect, test } from 'vitest';
import { LocalKeyring, defineRowLayout, openRows, sealRows, type Keyring } from '../src/index.js';
import { mapBounded, ROWS_IN_FLIGHT } from '../src/lib/map-bounded.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('mapBounded', () => {
  test('keeps input order, never has more than the limit in flight, and uses the limit', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded(Array.from({ length: 40 }, (_, i) => i), 7, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later items finish first: the order of the results must still be the input's.
      await new Promise((resolve) => setTimeout(resolve, 40 - i));
      inFlight--;
      return i * 2;
    });
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(most).toBe(7);
  });

  test('the first failure rejects the call and no item starts after it', async () => {
    const started: number[] = [];
    const failure = new Error('item 5');
    await expect(
      mapBounded(Array.from({ length: 100 }, (_, i) => i), 4, async (i) => {
        started.push(i);
        await tick();
        if (i === 5) throw failure;
        return i;
      }),
    ).rejects.toBe(failure);
    // Items 0-8 at most were started (5 fails while at most three others are in flight); the rest never.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Math.max(...started)).toBeLessThan(12);
  });

  test('an empty list gives an empty list without calling anything', async () => {
    let calls = 0;
    expect(await mapBounded([], 3, async () => ++calls)).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('openRows and sealRows keep at most ROWS_IN_FLIGHT rows in flight', () => {
  test(`a slow keyring sees at most ${ROWS_IN_FLIGHT} calls at once over 300 rows, and more than one`, async () => {
    const inner = await LocalKeyring.generate();
    let inFlight = 0;
    let most = 0;
    const slow = <T>(f: () => Promise<T>) => async (): Promise<T> => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await tick();
        return await f();
      } finally {
        inFlight--;
      }
    };
    const keyring: Keyring = {
      wrap: (request) => slow(() => inner.wrap(request))(),
      unwrap: (request) => slow(() => inner.unwrap(request))(),
    };
    const layout = defineRowLayout({ columns: ['email'], header: 'fieldseal', id: 'id' });
    const rows = Array.from({ length: 300 }, (_, i) => ({ id: i, email: `u${i}@example.com`, fieldseal: null }));
    const sealed = await sealRows(rows, layout, { keyring });
    expect(most).toBe(ROWS_IN_FLIGHT);
    most = 0;
    const opened = await openRows(sealed, layout, { keyring });
    expect(most).toBe(ROWS_IN_FLIGHT);
    expect(opened.map((r) => r.email)).toEqual(rows.map((r) => r.email));
  });
});
