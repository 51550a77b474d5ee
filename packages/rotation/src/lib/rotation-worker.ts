// The entry of a rotation worker thread: builds the job from the setup module named by the main
// thread (so keys are loaded here and never cross the message channel), then turns batches of
// records into outcomes.
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreRecord } from '../store.js';
import { mapLimit, recordProcessor, type RecordJob } from './process-record.js';

interface Setup {
  readonly module: string;
  readonly data: unknown;
  readonly attempts: number;
  readonly concurrency: number;
}

const setup = workerData as Setup;
const port = parentPort!;

async function start(): Promise<void> {
  let process: ((record: StoreRecord) => ReturnType<ReturnType<typeof recordProcessor>>) | undefined;
  try {
    const mod = (await import(setup.module)) as { default?: (data: unknown) => RecordJob | Promise<RecordJob> };
    if (typeof mod.default !== 'function') throw new TypeError('the rotation worker module must export a default function returning the job');
    const job = await mod.default(setup.data);
    if (job === null || typeof job !== 'object' || typeof job.transform !== 'function') throw new TypeError('the rotation worker module returned no transform');
    process = recordProcessor(job, setup.attempts);
    port.postMessage({ ready: true });
  } catch (err) {
    // Only the error's class and code: a message could echo key material from a bad key file.
    const e = err as { name?: unknown; code?: unknown };
    port.postMessage({ setupError: `${typeof e?.name === 'string' ? e.name : 'Error'}${typeof e?.code === 'string' ? ` ${e.code}` : ''}` });
    return;
  }
  port.on('message', (msg: { id: number; records: StoreRecord[] }) => {
    mapLimit(msg.records, setup.concurrency, process!).then(
      (outcomes) => port.postMessage({ id: msg.id, outcomes }),
      () => port.postMessage({ id: msg.id, error: 'ERR_INTERNAL' }),
    );
  });
}

void start();
