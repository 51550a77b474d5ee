// Keeps the Prisma benchmark from rotting: tiny counts, checks the result is well formed. Says
// nothing about speed (run `node benchmarks/prisma.mjs` for that).
import { expect, test } from 'vitest';
import { runPrismaBench } from './prisma/workload.js';

test('the Prisma benchmark runs both subjects on both workloads', async () => {
  const r = await runPrismaBench({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', rows: 5, rounds: 1 });
  expect(r).toMatchObject({ rows: 5, rounds: 1 });
  for (const k of ['createPlainMs', 'createSealedMs', 'findManyPlainMs', 'findManySealedMs'] as const) expect(r[k]).toBeGreaterThan(0);
});
