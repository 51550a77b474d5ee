import { inspect as inspectDocument } from '@fieldseal/core';
import { processIo, readAll, writeAll, type CommandIo } from '../../io.js';
import { parseJsonDocument } from '../../json-input.js';

/** Options of `fieldseal inspect`. */
export interface InspectCommandOptions {
  readonly in?: string;
}

/** `fieldseal inspect [--in FILE]`: the header summary as JSON; needs no key and shows no secret. */
export async function inspect(options: InspectCommandOptions, io: CommandIo = processIo): Promise<void> {
  const info = inspectDocument(parseJsonDocument(await readAll(options.in, io.stdin)));
  await writeAll(undefined, JSON.stringify(info, null, 2) + '\n', io.stdout);
}
