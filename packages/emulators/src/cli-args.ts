import { parseArgs } from 'node:util';

/** Flags an emulator CLI accepts besides `--port N` and `--tls`: single values and repeatable lists. */
export interface EmulatorFlagSpec {
  readonly values?: readonly string[];
  readonly lists?: readonly string[];
}

/** What {@link parseEmulatorArgs} returns. */
export interface EmulatorArgs {
  readonly port: number | undefined;
  readonly tls: boolean;
  readonly values: Readonly<Record<string, string | undefined>>;
  readonly lists: Readonly<Record<string, readonly string[]>>;
}

/**
 * Parse an emulator command line with `node:util` parseArgs: `--port N`, `--tls`, plus the given
 * flags. Errors name the flag (`unknown option --x`, `--key needs a value`) and list what is accepted.
 */
export function parseEmulatorArgs(argv: readonly string[], spec: EmulatorFlagSpec, help: string): EmulatorArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { port: { type: 'string' }, tls: { type: 'boolean' } };
  for (const name of spec.values ?? []) options[name] = { type: 'string' };
  for (const name of spec.lists ?? []) options[name] = { type: 'string', multiple: true };
  let parsed: Record<string, string | boolean | string[] | undefined>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof parsed;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const flag = /'(-[^']*)'/.exec((err as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new Error(`unknown option ${flag.split(' ')[0] || argv.join(' ')} (options: ${help})`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new Error(`${flag.split(' ')[0]} needs a value`);
    throw err;
  }
  // parseArgs takes `--key --tls` as the value "--tls"; a value never starts with "--" here.
  for (const [name, v] of Object.entries(parsed)) {
    for (const item of Array.isArray(v) ? v : [v]) if (typeof item === 'string' && item.startsWith('--')) throw new Error(`--${name} needs a value`);
  }
  let port: number | undefined;
  if (parsed.port !== undefined) {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer from 0 to 65535');
  }
  const values: Record<string, string | undefined> = {};
  for (const name of spec.values ?? []) values[name] = parsed[name] as string | undefined;
  const lists: Record<string, readonly string[]> = {};
  for (const name of spec.lists ?? []) lists[name] = (parsed[name] as string[] | undefined) ?? [];
  return { port, tls: parsed.tls === true, values, lists };
}

/** Resolve on SIGINT, SIGTERM or when `signal` aborts (tests stop a CLI with an AbortSignal). */
export function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop);
  });
}
