import { inspect as inspectDocument } from '@fieldseal/core';
import { DEFAULT_MAX_INPUT_BYTES, processIo, readAll, writeAll, type CommandIo } from '../../io.js';
import { parseJsonDocument } from '../../json-input.js';

/** Options of `fieldseal inspect`. */
export interface InspectCommandOptions {
  readonly in?: string;
  readonly headerName?: string;
  readonly maxInputBytes?: number;
}

/** `fieldseal inspect [--in FILE] [--header-name NAME]`: the header summary as JSON; needs no key and shows no secret. */
export async function inspect(options: InspectCommandOptions, io: CommandIo = processIo): Promise<void> {
  const doc = parseJsonDocument(await readAll(options.in, io.stdin, options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES));
  const info = inspectDocument(doc, options.headerName !== undefined ? { headerName: options.headerName } : {});
  await writeAll(undefined, JSON.stringify(info, null, 2) + '\n', io.stdout);
}
