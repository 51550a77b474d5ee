#!/usr/bin/env node
// How much two threads gain over one on this machine for work that shares nothing: the
// mandatory-cryptography floors of lib/floor.mjs (a verified rewrap of a stored record, W1 encrypt
// and decrypt) run in one worker thread, then in two at once, alternating for ROUNDS rounds. Each
// thread does the same fixed amount of work; the gain is 2 x (one thread's time) / (two threads'
// time). This is the ceiling of any `--workers 2` speed-up here, and the rewrap floor's two-thread
// records/s is the ceiling of a verified rotation with local keys: a virtual machine's two vCPUs
// need not give twice one. Usage: node benchmarks/scaling.mjs [ROUNDS=5]
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { customerPii, customerRecord } from './lib/data.mjs';
import { makeFloor, makeRewrapFloor } from './lib/floor.mjs';

/** Units of work per thread and round: about a second of CPU each. */
const WORK = { rewrap: 10_000, 'W1 encrypt': 25_000, 'W1 decrypt': 25_000 };

async function runInThread(name, units) {
  if (name === 'rewrap') {
    const floor = makeRewrapFloor();
    const lines = Array.from({ length: 1000 }, (_, i) => floor.sealRecord(i + 1));
    for (let i = 0; i < units; i++) floor.rewrapLine(lines[i % lines.length]);
    return;
  }
  const floor = makeFloor(customerPii(customerRecord()));
  const op = name === 'W1 encrypt' ? floor.encrypt : floor.decrypt;
  for (let i = 0; i < units; i++) await op();
}

if (!isMainThread) {
  const { name, units } = workerData;
  // Warm up, tell the main thread, then run when told to, so thread start-up is not timed.
  await runInThread(name, Math.ceil(units / 10));
  parentPort.postMessage('ready');
  parentPort.once('message', async () => {
    await runInThread(name, units);
    parentPort.postMessage('done');
  });
} else {
  const rounds = Number(process.argv[2] ?? 5);
  /** Wall-clock milliseconds for `threads` workers each doing `units` of `name` at once. */
  const timed = async (name, threads) => {
    const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { name, units: WORK[name] } }));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const t0 = performance.now();
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once('message', resolve);
      w.postMessage('go');
    })));
    const ms = performance.now() - t0;
    await Promise.all(workers.map((w) => w.terminate()));
    return ms;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = { cores: availableParallelism(), node: process.version, rounds, loadavg1: [loadavg()[0]], workloads: {} };
  for (const name of Object.keys(WORK)) {
    const gains = [];
    const one = [];
    const two = [];
    for (let r = 0; r < rounds; r++) {
      const t1 = await timed(name, 1);
      const t2 = await timed(name, 2);
      one.push((WORK[name] * 1000) / t1);
      two.push((2 * WORK[name] * 1000) / t2);
      gains.push((2 * t1) / t2);
    }
    result.workloads[name] = {
      oneThreadPerSecond: Math.round(median(one)),
      twoThreadsPerSecond: Math.round(median(two)),
      gain: +median(gains).toFixed(2),
      gains: gains.map((g) => +g.toFixed(2)),
    };
    result.loadavg1.push(+loadavg()[0].toFixed(2));
  }
  console.log(JSON.stringify(result, null, 2));
}
