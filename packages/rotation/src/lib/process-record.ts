import { inspect, isFieldsealError, type JsonObject } from '@fieldseal/core';
import type { RecordTransform, RecordVerifier, TransformResult } from '../transform.js';
import type { StoreRecord } from '../store.js';

/** What the engine decided for one record (plain data: it crosses worker-thread boundaries). */
export type Outcome =
  | { kind: 'skipped'; reason: string; keys: string[] }
  | { kind: 'failed'; reason: string; keys: string[] }
  | { kind: 'rotate'; text: string; keys: string[] };

/** The per-record parts of a job: what a worker thread rebuilds from its setup module. */
export interface RecordJob {
  readonly transform: RecordTransform;
  readonly verify?: RecordVerifier | undefined;
  readonly needsRotation?: ((document: JsonObject, record: StoreRecord) => boolean) | undefined;
  readonly keysOf?: ((document: JsonObject) => string[]) | undefined;
}

/** A failure reason: the error code only (messages could echo data), with the provider failure kind. */
export function reasonOf(err: unknown): string {
  if (isFieldsealError(err)) {
    const kind = (err as { kind?: unknown }).kind;
    return typeof kind === 'string' && (err.code === 'ERR_FIELDSEAL_PROVIDER' || (err.code as string) === 'ERR_FIELDSEAL_ROTATION_CLOAK') ? `${err.code}:${kind}` : err.code;
  }
  return 'ERR_INTERNAL';
}

function retryable(err: unknown): boolean {
  return isFieldsealError(err) && (err as { retryable?: unknown }).retryable === true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` over `items` with at most `limit` calls in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function headerKeys(document: JsonObject): string[] {
  const keys = new Set<string>();
  for (const g of inspect(document).groups) for (const k of g.wrappedKeys) keys.add(`${k.provider}:${k.keyId}`);
  return [...keys];
}

/** Parse, pre-filter, transform (with retries), verify and serialize one record; never throws. */
export function recordProcessor(job: RecordJob, attempts: number): (record: StoreRecord) => Promise<Outcome> {
  const { transform, verify, needsRotation } = job;
  const keysOf = job.keysOf ?? headerKeys;
  return async (record) => {
    let original: JsonObject;
    let keys: string[] = [];
    try {
      const value: unknown = JSON.parse(record.text);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'failed', reason: 'ERR_FIELDSEAL_MALFORMED', keys };
      original = value as JsonObject;
      keys = keysOf(original);
    } catch (err) {
      return { kind: 'failed', reason: err instanceof SyntaxError ? 'ERR_FIELDSEAL_MALFORMED' : reasonOf(err), keys };
    }
    try {
      if (needsRotation !== undefined && !needsRotation(original, record)) return { kind: 'skipped', reason: 'already-current', keys };
      let result: TransformResult | undefined;
      for (let attempt = 1; result === undefined; attempt++) {
        try {
          // A copy the transform may change, leaving `original` for verify: parsed again from the
          // text, which cost less than structuredClone of the parsed document (2-8% of a verified
          // rewrap per record, A/B on rewrap-bench; issue 18).
          result = await transform(JSON.parse(record.text) as JsonObject, record);
        } catch (err) {
          if (attempt >= attempts || !retryable(err)) throw err;
          await sleep(100 * 2 ** attempt);
        }
      }
      if (!result.changed) return { kind: 'skipped', reason: result.reason ?? 'unchanged', keys };
      if (verify !== undefined) await verify(result.document, original, record);
      return { kind: 'rotate', text: JSON.stringify(result.document), keys };
    } catch (err) {
      return { kind: 'failed', reason: reasonOf(err), keys };
    }
  };
}
