/**
 * `fieldseal-emulators vault [--port N] [--tls] [--token T] [--mount PATH] [--key NAME]...`:
 * start the Vault transit emulator on loopback and print the endpoint and the environment to use.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { startVaultTransitEmulator } from './emulator.js';
import { parseEmulatorArgs, untilStopped } from '../cli-args.js';

interface CliOptions {
  port: number;
  tls: boolean;
  token: string | undefined;
  mounts: string[];
  keys: string[];
}

function parse(argv: readonly string[]): CliOptions {
  const args = parseEmulatorArgs(argv, { values: ['token'], lists: ['mount', 'key'] }, '--port N, --tls, --token T, --mount PATH, --key NAME');
  return { port: args.port ?? 8200, tls: args.tls, token: args.values.token, mounts: [...args.lists.mount!], keys: [...args.lists.key!] };
}

/**
 * Start the emulator and keep it running until SIGINT/SIGTERM. Keys named with `--key` are
 * created as derived `aes256-gcm96` keys in the first mount, the shape `@fieldseal/vault-transit`
 * expects.
 * @param argv Arguments after `vault`.
 * @param io For tests and embedding: `signal` stops the emulator, `out` receives what is printed (default stdout).
 * @throws Error on an unknown option or a port that is taken.
 */
export async function main(argv: string[], io: { signal?: AbortSignal; out?: { write(text: string): unknown } } = {}): Promise<void> {
  const options = parse(argv);
  const emulator = await startVaultTransitEmulator({
    port: options.port,
    tls: options.tls,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.mounts.length > 0 ? { mounts: options.mounts } : {}),
  });
  for (const key of options.keys) emulator.createKey(key, { derived: true });
  const lines = [
    `Vault transit emulator listening on ${emulator.url} (mounts: ${(options.mounts.length > 0 ? options.mounts : ['transit']).join(', ')})`,
    'For tests and offline development only: keys live in memory and vanish on exit.',
    '',
    `export VAULT_ADDR=${emulator.url}`,
    `export VAULT_TOKEN=${emulator.token}`,
  ];
  if (options.tls) {
    lines.push(`export VAULT_CACERT=${fileURLToPath(new URL('../../fixtures/test-only-tls.cert.pem', import.meta.url))}`);
  }
  (io.out ?? process.stdout).write(lines.join('\n') + '\n');
  await untilStopped(io.signal);
  await emulator.close();
}
