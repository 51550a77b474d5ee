import type { EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { checkOutputPath, processIo, type CommandIo } from '../../io.js';
import { contextPairs } from '../../lib/context-pairs.js';
import { checkStreams, transformDocuments, type DocumentStreams } from '../../transform-documents.js';
import decryptJob, { decryptJobModule, type DecryptJobData } from './job.js';

/** Options of `fieldseal decrypt`. */
export interface DecryptCommandOptions extends DocumentStreams {
  /** Keyring spec(s) for every key group; several are tried in order. */
  readonly keyring?: string | readonly string[];
  /** `NAME=SPEC`: the keyring of one key group (only those groups open without `keyring`). */
  readonly groupKeyrings?: readonly string[];
  readonly headerName?: string;
  readonly context?: EncryptionContext;
  readonly paths?: readonly string[];
  /** The oldest algorithm suite accepted (core's `minSuite`). */
  readonly minSuite?: number;
}

/** `fieldseal decrypt --keyring local:keys.json [--group-keyring n=SPEC] [--context k=v] [--path ...] [--in F] [--out F] [--ndjson [--workers N|auto]]`. */
export async function decrypt(options: DecryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  checkStreams(options);
  // A bad --out fails before any key is loaded or any key service is called.
  await checkOutputPath(options.out);
  const specs = options.keyring === undefined ? [] : typeof options.keyring === 'string' ? [options.keyring] : options.keyring;
  const groupKeyrings = options.groupKeyrings ?? [];
  if (specs.length === 0 && groupKeyrings.length === 0) throw usage('decrypt needs --keyring (or --group-keyring NAME=SPEC per key group)');
  const data: DecryptJobData = { keyring: specs, groupKeyrings, headerName: options.headerName, context: contextPairs(options.context), paths: options.paths ?? [], minSuite: options.minSuite };
  // Built here even with --workers: bad specs and key files fail before any output or thread.
  const transform = await decryptJob(data);
  // Decrypted output is plaintext PII: a new output file is readable by its owner only.
  await transformDocuments(options, io, transform, 0o600, { module: decryptJobModule(), data });
}
