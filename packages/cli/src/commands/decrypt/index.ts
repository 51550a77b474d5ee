import { decrypt as decryptDocument, type EncryptionContext } from '@fieldseal/core';
import { processIo, type CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { transformDocuments, type DocumentStreams } from '../../transform-documents.js';

/** Options of `fieldseal decrypt`. */
export interface DecryptCommandOptions extends DocumentStreams {
  readonly keyring: string;
  readonly context?: EncryptionContext;
  readonly paths?: readonly string[];
}

/** `fieldseal decrypt --keyring local:keys.json [--context k=v] [--path ...] [--in F] [--out F] [--ndjson]`. */
export async function decrypt(options: DecryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  const keyring = await keyringFromSpec(options.keyring);
  await transformDocuments(options, io, (doc) =>
    decryptDocument(doc, {
      keyring,
      ...(options.context ? { context: options.context } : {}),
      ...(options.paths && options.paths.length > 0 ? { paths: options.paths } : {}),
    }),
  );
}
