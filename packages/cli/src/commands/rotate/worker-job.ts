// The setup module of `fieldseal rotate --workers N`: each worker thread builds the same document
// job as the main thread, from the keyring specs (so keys are loaded in the worker and never
// cross the message channel). Context rules arrive as data, since functions cannot.
import type { EncryptionContext, JsonObject } from '@fieldseal/core';
import { keyFilePolicy, keyringFromSpec } from '../../keyring-spec.js';

/** What the main thread sends each worker. */
export interface DocumentJobData {
  readonly mode: 'rewrap' | 'reencrypt';
  readonly keyring: string;
  readonly to?: string | undefined;
  readonly context?: EncryptionContext | undefined;
  readonly idContext?: string | undefined;
  readonly fieldContext: readonly (readonly [string, string])[];
  readonly all: boolean;
  /** `--allow-insecure-key-file` of the command: module state, so a worker thread needs it passed. */
  readonly allowInsecureKeyFile?: boolean;
}

/** The context of a record: static pairs, the record id under `idContext`, and top-level fields. */
export function documentContext(data: Pick<DocumentJobData, 'context' | 'idContext' | 'fieldContext'>): EncryptionContext | ((record: { id: string }, doc: JsonObject) => EncryptionContext) | undefined {
  const { context: staticContext, idContext, fieldContext } = data;
  if (idContext === undefined && fieldContext.length === 0) return staticContext;
  return (record, doc) => {
    const ctx: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, staticContext ?? {});
    if (idContext !== undefined) ctx[idContext] = record.id;
    for (const [key, field] of fieldContext) {
      const v = Object.prototype.hasOwnProperty.call(doc, field) ? doc[field] : undefined;
      // A missing field binds nothing: decrypt then reports the missing context key by name.
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ctx[key] = String(v);
    }
    return ctx;
  };
}

/** Build the document job (transform, verifier, pre-filter) from `data`. */
export async function documentJob(data: DocumentJobData) {
  if (data.allowInsecureKeyFile === true) keyFilePolicy.allowInsecure = true;
  const { coreRotation } = await import('@fieldseal/rotation');
  const keyring = await keyringFromSpec(data.keyring);
  const to = data.to === undefined || data.to === data.keyring ? keyring : await keyringFromSpec(data.to);
  const context = documentContext(data);
  return coreRotation({ mode: data.mode, keyring, to, ...(context !== undefined ? { context } : {}), ...(data.all ? { skipCurrent: false } : data.mode === 'reencrypt' ? {} : { skipCurrent: true }) });
}

export default documentJob;

/** This module's URL for a worker thread: from the sources (tests), its compiled copy in dist. */
export function workerJobModule(): string {
  const here = import.meta.url;
  return here.endsWith('.ts') ? here.replace(/\/src\/commands\/rotate\/worker-job\.ts$/, '/dist/commands/rotate/worker-job.js') : here;
}
