import { decrypt as decryptDocument, type EncryptionContext } from '@fieldseal/core';
import { lineWriter, processIo, readAll, readLines, writeAll, type CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { parseJsonDocument } from '../../json-input.js';
import { withLine } from '../encrypt/index.js';

/** Options of `fieldseal decrypt`. */
export interface DecryptCommandOptions {
  readonly keyring: string;
  readonly context?: EncryptionContext;
  readonly paths?: readonly string[];
  readonly in?: string;
  readonly out?: string;
  readonly ndjson?: boolean;
}

/** `fieldseal decrypt --keyring local:keys.json [--context k=v] [--path ...] [--in F] [--out F] [--ndjson]`. */
export async function decrypt(options: DecryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  const keyring = await keyringFromSpec(options.keyring);
  const open = (doc: unknown) =>
    decryptDocument(doc as never, {
      keyring,
      ...(options.context ? { context: options.context } : {}),
      ...(options.paths && options.paths.length > 0 ? { paths: options.paths } : {}),
    });
  if (options.ndjson) {
    const out = lineWriter(options.out, io.stdout);
    try {
      for await (const { line, lineNumber } of readLines(options.in, io.stdin)) {
        try {
          await out.write(JSON.stringify(await open(parseJsonDocument(line))));
        } catch (err) {
          throw withLine(err, lineNumber);
        }
      }
    } finally {
      await out.close();
    }
    return;
  }
  const opened = await open(parseJsonDocument(await readAll(options.in, io.stdin)));
  await writeAll(options.out, JSON.stringify(opened, null, 2) + '\n', io.stdout);
}
