import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError } from '@fieldseal/core';
import type { StoreRecord } from '../store.js';
import type { Outcome } from './process-record.js';

/** Where the worker entry is: beside this file once compiled; from the sources, its build in dist. */
function workerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL(here.replace(/\/src\/lib\/worker-pool\.ts$/, '/dist/lib/rotation-worker.js')) : new URL('./rotation-worker.js', here);
}

/**
 * The parent's flags minus the repository's `fieldseal-source` resolve condition (set by the test
 * runner): the worker runs compiled code, and that condition would point it at TypeScript sources.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--conditions=fieldseal-source' || a === '-C=fieldseal-source') continue;
    if ((a === '--conditions' || a === '-C') && args[i + 1] === 'fieldseal-source') {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * A small young generation per worker: each isolate otherwise reserves its own (16 MiB semi-spaces),
 * which put two workers over the 200 MiB budget of a 1,000,000-record run (237 MiB measured,
 * 164 MiB with 4 MiB, at the same CPU time per record).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 };

/**
 * A worker with the parent's flags, or without them when the parent runs with one a thread cannot
 * take (a V8 flag such as `node --stack-size=…`): Node refuses those in a worker's execArgv, which
 * used to fail every `--workers` run started that way.
 */
function startWorker(options: { resourceLimits: { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number }; workerData: unknown }): Worker {
  try {
    return new Worker(workerEntry(), { execArgv: workerExecArgv(), ...options });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return new Worker(workerEntry(), { execArgv: [], ...options });
  }
}

interface Slot {
  readonly worker: Worker;
  readonly waiting: Map<number, { resolve: (o: Outcome[]) => void; reject: (e: Error) => void }>;
}

/**
 * A fixed pool of worker threads that transform records. Each batch is split into one slice per
 * worker; the main thread keeps all I/O, counting and checkpoints, so crash safety is unchanged.
 */
export class WorkerPool {
  readonly #slots: Slot[] = [];
  #nextId = 0;
  #failure: Error | undefined;

  private constructor() {}

  /** Start `count` workers and wait until each has built its job. */
  static async start(options: { count: number; module: string; data: unknown; attempts: number; concurrency: number; resourceLimits?: { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number } }): Promise<WorkerPool> {
    const pool = new WorkerPool();
    try {
      await Promise.all(
        Array.from({ length: options.count }, async () => {
          const worker = startWorker({ resourceLimits: options.resourceLimits ?? WORKER_LIMITS, workerData: { module: options.module, data: options.data, attempts: options.attempts, concurrency: options.concurrency } });
          const slot: Slot = { worker, waiting: new Map() };
          pool.#slots.push(slot);
          await new Promise<void>((resolve, reject) => {
            const onMessage = (msg: { ready?: boolean; setupError?: string }) => {
              worker.off('message', onMessage);
              if (msg.ready === true) resolve();
              else reject(new InvalidArgumentError(`a rotation worker could not build its job (${msg.setupError ?? 'no reason'})`));
            };
            worker.on('message', onMessage);
            worker.once('error', () => reject(new InvalidArgumentError('a rotation worker failed to start')));
          });
          worker.on('message', (msg: { id: number; outcomes?: Outcome[]; error?: string }) => {
            const w = slot.waiting.get(msg.id);
            if (w === undefined) return;
            slot.waiting.delete(msg.id);
            if (msg.outcomes !== undefined) w.resolve(msg.outcomes);
            else w.reject(new Error(`a rotation worker failed (${msg.error ?? 'unknown'})`));
          });
          const fail = (err: Error) => {
            pool.#failure ??= err;
            for (const w of slot.waiting.values()) w.reject(err);
            slot.waiting.clear();
          };
          worker.on('error', () => fail(new Error('a rotation worker crashed')));
          worker.on('exit', (code) => fail(new Error(`a rotation worker exited (${code})`)));
        }),
      );
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** The default size: one worker per core. */
  static defaultCount(): number {
    return Math.max(1, availableParallelism());
  }

  /** Transform one batch across the workers; outcomes in input order. */
  async run(records: readonly StoreRecord[]): Promise<Outcome[]> {
    if (this.#failure !== undefined) throw this.#failure;
    const n = this.#slots.length;
    const size = Math.ceil(records.length / n);
    const parts = await Promise.all(
      this.#slots.map((slot, i) => {
        const slice = records.slice(i * size, (i + 1) * size);
        if (slice.length === 0) return Promise.resolve<Outcome[]>([]);
        const id = this.#nextId++;
        return new Promise<Outcome[]>((resolve, reject) => {
          slot.waiting.set(id, { resolve, reject });
          slot.worker.postMessage({ id, records: slice.map((r) => ({ id: r.id, text: r.text })) });
        });
      }),
    );
    return parts.flat();
  }

  /** Stop every worker. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    for (const s of slots) s.worker.removeAllListeners('exit');
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
