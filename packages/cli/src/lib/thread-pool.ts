import { Worker } from 'node:worker_threads';
import { EXIT_FAILURE, ExitError } from '../exit-error.js';

/**
 * A worker thread failed outside of any one input line: it crashed (an uncaught error, out of
 * memory) or exited. Exit code 1; the message names the cause by code only, never by input text.
 */
export class WorkerThreadError extends ExitError {
  readonly code = 'ERR_FIELDSEAL_CLI_WORKER';
  constructor(message: string) {
    super(EXIT_FAILURE, message);
    this.name = 'WorkerThreadError';
  }
}

/** What a worker sends when its setup failed, and what a command prints for it. */
export interface WorkerFailure {
  readonly exitCode: number;
  readonly message: string;
}

/**
 * The URL of a module's compiled copy: from the sources (`…/src/x/y.ts`, as the tests run them),
 * the file under dist; a compiled module is its own.
 */
export function compiledUrl(url: string): string {
  return url.endsWith('.ts') ? url.replace(/\/src\/((?:[^/]+\/)*[^/]+)\.ts$/, '/dist/$1.js') : url;
}

/**
 * The parent's flags minus the repository's `fieldseal-source` resolve condition (set by the test
 * runner): a worker runs compiled code, and that condition would point it at TypeScript sources.
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
 * The young generation of each worker. 4 MiB (rotation's choice, where a 200 MiB budget holds)
 * made two workers spend 13–18% more CPU per record than one thread, mostly in scavenges; at 16 MiB
 * it was 6–9%, at the same peak RSS (about 200 MiB for decrypt), in two alternating idle runs
 * of `scripts/ndjson-bench.mjs` (issue 18).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16 };

/** A worker with the parent's flags; without them when the parent runs with one a thread cannot take (`node --trace-gc`, a V8 flag). */
function startWorker(entry: URL, workerData: unknown): Worker {
  try {
    return new Worker(entry, { execArgv: workerExecArgv(), resourceLimits: WORKER_LIMITS, workerData });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return new Worker(entry, { execArgv: [], resourceLimits: WORKER_LIMITS, workerData });
  }
}

interface Slot {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly waiting: Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>;
}

/**
 * A fixed set of worker threads running `entry`, each given `workerData` once. The protocol: a
 * worker first posts `{ ready: true }` or `{ setupError: WorkerFailure }`, then answers each
 * `{ id, ... }` request with `{ id, result }`. Requests go to the worker with the fewest waiting;
 * messages posted before a worker is up are queued by Node, so start-up overlaps the caller's
 * reading. After any failure every waiting and later request rejects with it: nothing hangs.
 */
export class ThreadPool<Request extends object, Result> {
  readonly #slots: Slot[] = [];
  #nextId = 0;
  #failure: Error | undefined;

  /** Start `count` workers (not waiting for them: the first request waits). */
  constructor(options: { count: number; entry: URL; workerData: unknown }) {
    for (let i = 0; i < options.count; i++) {
      const worker = startWorker(options.entry, options.workerData);
      const waiting: Slot['waiting'] = new Map();
      const ready = new Promise<void>((resolve, reject) => {
        const onSetup = (msg: { ready?: boolean; setupError?: WorkerFailure }) => {
          worker.off('message', onSetup);
          if (msg.ready === true) {
            worker.on('message', (reply: { id: number; result: unknown }) => {
              const w = waiting.get(reply.id);
              waiting.delete(reply.id);
              w?.resolve(reply.result);
            });
            resolve();
            return;
          }
          const f = msg.setupError;
          const err = new ExitError(f?.exitCode ?? EXIT_FAILURE, `a worker thread could not build its job: ${f?.message ?? 'no reason given'}`);
          this.#fail(err);
          reject(err);
        };
        worker.on('message', onSetup);
        // Only the error's code or class: an uncaught error's message could quote a document.
        worker.on('error', (err: Error & { code?: unknown }) => {
          const e = new WorkerThreadError(`a worker thread crashed (${typeof err?.code === 'string' ? err.code : (err?.name ?? 'Error')})`);
          this.#fail(e);
          reject(e);
        });
        worker.on('exit', (code) => {
          const e = new WorkerThreadError(`a worker thread exited unexpectedly (exit code ${code})`);
          this.#fail(e);
          reject(e);
        });
      });
      // Observed through the requests; this keeps a failure with none waiting from being unhandled.
      ready.catch(() => undefined);
      this.#slots.push({ worker, ready, waiting });
    }
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const slot of this.#slots) {
      for (const w of slot.waiting.values()) w.reject(this.#failure);
      slot.waiting.clear();
    }
  }

  /** Whether every worker already has at least `depth` requests waiting (none is about to idle). */
  saturated(depth: number): boolean {
    return this.#slots.every((s) => s.waiting.size >= depth);
  }

  /** Send one request to the least busy worker; its result, or the pool's first failure. */
  async run(request: Request): Promise<Result> {
    if (this.#failure !== undefined) throw this.#failure;
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.waiting.size < slot.waiting.size) slot = s;
    const id = this.#nextId++;
    const result = new Promise<Result>((resolve, reject) => slot.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject }));
    // Awaited below unless the worker's setup fails first: then this rejection is that same failure.
    result.catch(() => undefined);
    slot.worker.postMessage({ ...request, id });
    await slot.ready;
    return result;
  }

  /** Stop every worker (idempotent); nothing waiting resolves afterwards. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    for (const s of slots) {
      s.worker.removeAllListeners('exit');
      s.worker.removeAllListeners('error');
      // A worker may still report an error while it is being terminated: keep it handled.
      s.worker.on('error', () => undefined);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
