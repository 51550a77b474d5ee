// Timing: tinybench collects per-call latency samples; we run a workload's tasks in several
// interleaved rounds (task order rotated each round) and pool the samples, so slow drift on a shared
// machine hits the baseline and the subjects alike instead of whichever task ran last.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';

/**
 * A full garbage collection, run before each task's warmup and timed phase (outside the timing):
 * otherwise the garbage one task leaves is collected while the next is timed. At megabyte sizes
 * (W2) that moved 20-35% of the time between subjects: (a) timed twice in one run differed by up
 * to 1.35x. Each task still pays for the garbage it makes while it is timed.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');

/**
 * @typedef {{ id: string, fn: () => Promise<unknown> }} TimedTask
 * @typedef {{ samples: number, opsPerSec: number, meanMs: number, p50Ms: number, p99Ms: number, rmePct: number, cpuUsPerOp: number }} Stats
 */

/** Summary statistics of latency samples in milliseconds. */
export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) return { samples: 0, opsPerSec: 0, meanMs: NaN, p50Ms: NaN, p99Ms: NaN, rmePct: NaN };
  let sum = 0;
  for (const s of sorted) sum += s;
  const mean = sum / n;
  let sq = 0;
  for (const s of sorted) sq += (s - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  const q = (p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  return {
    samples: n,
    opsPerSec: mean > 0 ? 1000 / mean : 0,
    meanMs: mean,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    // 95% margin of error of the mean, relative (normal approximation; n is large for fast tasks).
    rmePct: mean > 0 ? (100 * 1.96 * sd) / Math.sqrt(n) / mean : 0,
  };
}

/**
 * Time `tasks` in `rounds` interleaved rounds of `timeMs / rounds` each (after one warmup round).
 * @param {TimedTask[]} tasks
 * @param {{ timeMs: number, warmupMs: number, rounds: number, minIterations: number }} opts
 * @returns {Promise<Map<string, Stats>>}
 */
export async function measureTasks(tasks, { timeMs, warmupMs, rounds, minIterations }) {
  const pooled = new Map(tasks.map((t) => [t.id, []]));
  // CPU time per operation (process.cpuUsage: every thread of this process, user + system) over the
  // timed phase: far less sensitive than wall time to other processes taking the CPU away.
  const cpu = new Map(tasks.map((t) => [t.id, { micros: 0, calls: 0 }]));
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({
      time: timeMs / rounds,
      iterations: minIterations,
      warmup: r === 0,
      warmupTime: warmupMs,
      warmupIterations: Math.min(16, minIterations),
      retainSamples: true,
      throws: true,
    });
    const order = tasks.map((_, i) => tasks[(i + r) % tasks.length]);
    for (const t of order) {
      const acc = cpu.get(t.id);
      let counting = false;
      let start;
      const fn = t.fn;
      bench.add(
        t.id,
        async () => {
          if (counting) acc.calls++;
          return fn();
        },
        {
          async: true,
          beforeAll(mode) {
            collectGarbage();
            if (mode !== 'run') return;
            counting = true;
            start = process.cpuUsage();
          },
          afterAll(mode) {
            if (mode !== 'run') return;
            const used = process.cpuUsage(start);
            acc.micros += used.user + used.system;
            counting = false;
          },
        },
      );
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`task ${task.name} ${result.state}: ${result.error?.message ?? ''}`);
      const samples = result.latency.samples;
      if (samples === undefined) throw new Error('tinybench did not retain samples');
      const into = pooled.get(task.name);
      for (const s of samples) into.push(s);
    }
  }
  return new Map(
    [...pooled].map(([id, samples]) => {
      const c = cpu.get(id);
      return [id, { ...summarize(samples), cpuUsPerOp: c.calls > 0 ? c.micros / c.calls : NaN }];
    }),
  );
}
