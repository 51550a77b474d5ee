import { encrypt as encryptDocument, type EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { processIo, type CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { transformDocuments, type DocumentStreams } from '../../transform-documents.js';

/** Options of `fieldseal encrypt`. */
export interface EncryptCommandOptions extends DocumentStreams {
  readonly keyring: string;
  readonly paths: readonly string[];
  readonly context?: EncryptionContext;
  readonly requiredContext?: EncryptionContext;
  readonly strict?: boolean;
}

/** `fieldseal encrypt --keyring local:keys.json --path '$.ssn' [--context k=v] [--in F] [--out F] [--ndjson]`. */
export async function encrypt(options: EncryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  if (options.paths.length === 0) throw usage('encrypt needs at least one --path selector');
  const keyring = await keyringFromSpec(options.keyring);
  await transformDocuments(options, io, (doc) =>
    encryptDocument(doc, {
      keyring,
      paths: options.paths,
      ...(options.context ? { context: options.context } : {}),
      ...(options.requiredContext ? { requiredContext: options.requiredContext } : {}),
      strict: options.strict === true,
    }),
  );
}
