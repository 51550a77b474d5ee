import type { EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { checkOutputPath, processIo, type CommandIo } from '../../io.js';
import { contextPairs } from '../../lib/context-pairs.js';
import { checkStreams, transformDocuments, type DocumentStreams } from '../../transform-documents.js';
import encryptJob, { encryptJobModule, type EncryptJobData } from './job.js';

/** Options of `fieldseal encrypt`. */
export interface EncryptCommandOptions extends DocumentStreams {
  /** Keyring spec(s) of the default key group; several wrap every data key under each. */
  readonly keyring?: string | readonly string[];
  readonly paths: readonly string[];
  /** `NAME=SPEC` per further key group (repeat a name for a multi-keyring). */
  readonly groupKeyrings?: readonly string[];
  /** `NAME=SELECTOR` per field of a further key group. */
  readonly groupPaths?: readonly string[];
  readonly headerName?: string;
  readonly context?: EncryptionContext;
  readonly requiredContext?: EncryptionContext;
  readonly strict?: boolean;
}

/** `fieldseal encrypt --keyring local:keys.json --path '$.ssn' [--group-keyring n=SPEC --group-path n=SEL] [--context k=v] [--in F] [--out F] [--ndjson [--workers N|auto]]`. */
export async function encrypt(options: EncryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  checkStreams(options);
  // A bad --out fails before any key is loaded or any key service is called.
  await checkOutputPath(options.out);
  const specs = options.keyring === undefined ? [] : typeof options.keyring === 'string' ? [options.keyring] : options.keyring;
  const groupKeyrings = options.groupKeyrings ?? [];
  if (specs.length === 0 && groupKeyrings.length === 0) throw usage('encrypt needs --keyring (or key groups with --group-keyring and --group-path)');
  if (specs.length > 0 && options.paths.length === 0) throw usage('encrypt needs at least one --path selector for --keyring');
  if (specs.length === 0 && options.paths.length > 0) throw usage('--path selects fields of the default key group, which needs --keyring');
  const data: EncryptJobData = {
    keyring: specs,
    paths: options.paths,
    groupKeyrings,
    groupPaths: options.groupPaths ?? [],
    headerName: options.headerName,
    context: contextPairs(options.context),
    requiredContext: contextPairs(options.requiredContext),
    strict: options.strict === true,
  };
  // Built here even with --workers: bad specs and key files fail before any output or thread.
  const transform = await encryptJob(data);
  await transformDocuments(options, io, transform, 0o666, { module: encryptJobModule(), data });
}
