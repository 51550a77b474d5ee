// The entry of a `fieldseal encrypt|decrypt --ndjson --workers N` thread: builds the command's
// transform once from the job module and its data (keyring specs, not keys: keys are loaded here
// and never cross the message channel), then turns batches of lines into output text, one batch
// at a time, in the order they arrive.
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../describe-error.js';
import { keyFilePolicy } from '../keyring-spec.js';
import { transformBatch, type DocumentTransform, type LineBatch } from './ndjson-batch.js';

/** What the main thread gives each worker. */
export interface NdjsonWorkerData {
  /** URL of a module whose default export builds the transform from `data`. */
  readonly module: string;
  readonly data: unknown;
  readonly maxBytes: number;
  /** `--on-error stop`: a batch ends at its first failed line. */
  readonly stop: boolean;
  /** `--allow-insecure-key-file` of the command (module state does not cross threads). */
  readonly allowInsecureKeyFile: boolean;
}

const setup = workerData as NdjsonWorkerData;
const port = parentPort!;

async function start(): Promise<void> {
  keyFilePolicy.allowInsecure = setup.allowInsecureKeyFile;
  let transform: DocumentTransform;
  try {
    const mod = (await import(setup.module)) as { default?: (data: unknown) => Promise<DocumentTransform> };
    if (typeof mod.default !== 'function') throw new TypeError('the job module of a worker must export a default function returning the transform');
    transform = await mod.default(setup.data);
  } catch (err) {
    // What the command prints for the same error on the main thread: paths and codes, no key bytes.
    port.postMessage({ setupError: describeError(err) });
    return;
  }
  port.postMessage({ ready: true });
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: LineBatch & { id: number }) => {
    queue = queue.then(async () => {
      const result = await transformBatch(msg, transform, setup.maxBytes, setup.stop);
      port.postMessage({ id: msg.id, result });
    });
  });
}

void start();
