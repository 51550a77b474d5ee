/**
 * How many rows of one `openRows`/`sealRows` call are in flight at once. With every row of a
 * 1,000-row batch started together, each row's intermediate keys, headers and buffers stayed alive
 * until the last one finished, and the garbage collector took a quarter of the CPU: 64 at a time
 * halved the cost of a row with a local keyring (issue 18). A key service gains nothing from more:
 * the AWS SDK opens at most 50 sockets per client by default.
 */
export const ROWS_IN_FLIGHT = 64;

/**
 * `fn` over `items` with at most `limit` calls in flight, results in input order. The first failure
 * rejects the whole call and no item is started after it (those in flight finish on their own).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
