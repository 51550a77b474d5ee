import { encrypt as encryptDocument, MalformedError, type EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { lineWriter, processIo, readAll, readLines, writeAll, type CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { parseJsonDocument } from '../../json-input.js';

/** Options of `fieldseal encrypt`. */
export interface EncryptCommandOptions {
  readonly keyring: string;
  readonly paths: readonly string[];
  readonly context?: EncryptionContext;
  readonly requiredContext?: EncryptionContext;
  readonly strict?: boolean;
  readonly in?: string;
  readonly out?: string;
  readonly ndjson?: boolean;
}

/** `fieldseal encrypt --keyring local:keys.json --path '$.ssn' [--context k=v] [--in F] [--out F] [--ndjson]`. */
export async function encrypt(options: EncryptCommandOptions, io: CommandIo = processIo): Promise<void> {
  if (options.paths.length === 0) throw usage('encrypt needs at least one --path selector');
  const keyring = await keyringFromSpec(options.keyring);
  const seal = (doc: unknown) =>
    encryptDocument(doc as never, {
      keyring,
      paths: options.paths,
      ...(options.context ? { context: options.context } : {}),
      ...(options.requiredContext ? { requiredContext: options.requiredContext } : {}),
      strict: options.strict === true,
    });
  if (options.ndjson) {
    const out = lineWriter(options.out, io.stdout);
    try {
      for await (const { line, lineNumber } of readLines(options.in, io.stdin)) {
        try {
          await out.write(JSON.stringify(await seal(parseJsonDocument(line))));
        } catch (err) {
          throw withLine(err, lineNumber);
        }
      }
    } finally {
      await out.close();
    }
    return;
  }
  const sealed = await seal(parseJsonDocument(await readAll(options.in, io.stdin)));
  await writeAll(options.out, JSON.stringify(sealed, null, 2) + '\n', io.stdout);
}

/** Prefix an error with its NDJSON line number, keeping its type and code. */
export function withLine(err: unknown, lineNumber: number): unknown {
  if (err instanceof Error) {
    err.message = `line ${lineNumber}: ${err.message}`;
    return err;
  }
  return new MalformedError(`line ${lineNumber}: failed`);
}
