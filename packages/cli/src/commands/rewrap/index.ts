import type { EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { checkOutputPath, processIo, type CommandIo } from '../../io.js';
import { keyringFromSpecs } from '../../keyring-spec.js';
import { checkStreams, transformDocuments, type DocumentStreams } from '../../transform-documents.js';
import { loadRotation } from '../rotate/index.js';

/** Options of `fieldseal rewrap`. */
export interface RewrapCommandOptions extends DocumentStreams {
  /** Keyring spec(s) that unwrap the current data keys (several are tried in order). */
  readonly keyring: string | readonly string[];
  /** Keyring spec(s) to wrap under (several: under all); default: the same as `keyring`. */
  readonly to?: string | readonly string[];
  /** `rewrap` (default: same data keys, new KEKs) or `reencrypt` (fresh data keys). */
  readonly mode?: 'rewrap' | 'reencrypt';
  /** The expected context, including required-but-not-stored pairs. */
  readonly context?: EncryptionContext;
}

/**
 * `fieldseal rewrap`: rewrap (or re-encrypt) one sealed document, or every line of an NDJSON
 * stream, and write the result; each result is opened with the target keyring (and compared)
 * before it is written, the same check `fieldseal rotate` makes. An NDJSON stream stops at the
 * first failure, naming the line, or with `onError: 'skip'` reports and skips it.
 */
export async function rewrap(options: RewrapCommandOptions, io: CommandIo = processIo): Promise<void> {
  const mode = options.mode ?? 'rewrap';
  if (mode !== 'rewrap' && mode !== 'reencrypt') throw usage('--mode must be rewrap or reencrypt');
  checkStreams(options);
  // A bad --out fails before any key is loaded or any key service is called.
  await checkOutputPath(options.out);
  const { coreRotation } = await loadRotation();
  const keyring = await keyringFromSpecs(options.keyring);
  const to = options.to === undefined || String(options.to) === String(options.keyring) ? keyring : await keyringFromSpecs(options.to);
  const job = await coreRotation({ mode, keyring, to, ...(options.context !== undefined ? { context: options.context } : {}) });
  let n = 0;
  await transformDocuments(options, io, async (doc) => {
    const record = { id: String(++n), text: '' };
    const { document, changed } = await job.transform(structuredClone(doc), record);
    if (changed) await job.verify?.(document, doc, record);
    return changed ? document : doc;
  });
}
