import { decrypt as decryptDocument, type EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { checkOutputPath, processIo, type CommandIo } from '../../io.js';
import { groupsFromFlags } from '../../key-groups.js';
import { keyringFromSpecs } from '../../keyring-spec.js';
import { checkStreams, transformDocuments, type DocumentStreams } from '../../transform-documents.js';

/** Options of `fieldseal decrypt`. */
export interface DecryptCommandOptions extends DocumentStreams {
  /** Keyring spec(s) for every key group; several are tried in order. */
  readonly keyring?: string | readonly string[];
  /** `NAME=SPEC`: the keyring of one key group (only those groups open without `keyring`). */
  readonly groupKeyrings?: readonly string[];
  readonly headerName?: string;
  readonly context?: EncryptionContext;
  readonly paths?: readonly string[];
}

/** `fieldseal decrypt --keyring local:keys.json [--group-keyring n=SPEC] [--context k=v] [--path ...] [--in F] [--out F] [--ndjson]`. */
export async function decrypt(options: DecryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  checkStreams(options);
  // A bad --out fails before any key is loaded or any key service is called.
  await checkOutputPath(options.out);
  const specs = options.keyring === undefined ? [] : typeof options.keyring === 'string' ? [options.keyring] : options.keyring;
  const groupKeyrings = options.groupKeyrings ?? [];
  if (specs.length === 0 && groupKeyrings.length === 0) throw usage('decrypt needs --keyring (or --group-keyring NAME=SPEC per key group)');
  const keyring = specs.length > 0 ? await keyringFromSpecs(specs) : undefined;
  const { keyrings } = await groupsFromFlags(groupKeyrings, [], false);
  const named = Object.keys(keyrings).length > 0;
  // Decrypted output is plaintext PII: a new output file is readable by its owner only.
  await transformDocuments(
    options,
    io,
    (doc) =>
      decryptDocument(doc, {
        ...(keyring !== undefined ? { keyring } : {}),
        ...(named ? { keyrings } : {}),
        ...(options.headerName !== undefined ? { headerName: options.headerName } : {}),
        ...(options.context ? { context: options.context } : {}),
        ...(options.paths && options.paths.length > 0 ? { paths: options.paths } : {}),
      }),
    0o600,
  );
}
