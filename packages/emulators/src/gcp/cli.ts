/**
 * `fieldseal-emulators gcp [--port N] [--tls] [--project P] [--location L] [--key-ring R]
 * [--key NAME]... [--rsa-key NAME]...`: start the Cloud KMS emulator on loopback, create a key
 * ring and keys, and print the endpoint and a `gcp-kms:` keyring config for each key.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { startGcpKmsEmulator } from './emulator.js';
import { parseEmulatorArgs, untilStopped } from '../cli-args.js';

interface CliOptions {
  port: number;
  tls: boolean;
  project: string;
  location: string;
  keyRing: string;
  keys: string[];
  rsaKeys: string[];
}

function parse(argv: readonly string[]): CliOptions {
  const args = parseEmulatorArgs(argv, { values: ['project', 'location', 'key-ring'], lists: ['key', 'rsa-key'] }, '--port N, --tls, --project P, --location L, --key-ring R, --key NAME, --rsa-key NAME');
  return {
    port: args.port ?? 0,
    tls: args.tls,
    project: args.values.project ?? 'fieldseal-dev',
    location: args.values.location ?? 'global',
    keyRing: args.values['key-ring'] ?? 'fieldseal',
    keys: [...args.lists.key!],
    rsaKeys: [...args.lists['rsa-key']!],
  };
}

/**
 * Start the emulator and keep it running until SIGINT/SIGTERM. `--key` names symmetric
 * (`ENCRYPT_DECRYPT`) keys, `--rsa-key` names `RSA_DECRYPT_OAEP_3072_SHA256` keys; with neither,
 * one symmetric key `kek` is created.
 * @param argv - Arguments after `gcp`.
 * @param io - For tests and embedding: `signal` stops the emulator, `out` receives what is printed (default stdout).
 * @throws Error on an unknown option, an invalid resource id or a port that is taken.
 */
export async function main(argv: string[], io: { signal?: AbortSignal; out?: { write(text: string): unknown } } = {}): Promise<void> {
  const options = parse(argv);
  const emulator = await startGcpKmsEmulator({ port: options.port, tls: options.tls });
  try {
    const ring = emulator.createKeyRing(`projects/${options.project}/locations/${options.location}`, options.keyRing);
    const caFile = options.tls ? fileURLToPath(new URL('../../fixtures/test-only-tls.cert.pem', import.meta.url)) : undefined;
    const transport = { apiEndpoint: emulator.endpoint.apiEndpoint, port: emulator.endpoint.port, ...(caFile ? { caFile } : { insecure: true }) };
    const lines = [
      `Google Cloud KMS emulator listening on ${emulator.endpoint.apiEndpoint}:${emulator.endpoint.port} (gRPC${options.tls ? ' over TLS' : ', plaintext'})`,
      'For tests and offline development only: keys live in memory and vanish on exit.',
      '',
      'export METADATA_SERVER_DETECTION=none',
      ...(caFile ? [`export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=${caFile}`] : []),
      '',
      'Keyring configs (save one as JSON and use it as gcp-kms:<file>):',
    ];
    for (const id of options.keys) {
      const keyName = await emulator.createCryptoKey(ring, id);
      lines.push(JSON.stringify({ keyName, ...transport }));
    }
    for (const id of options.rsaKeys) {
      const cryptoKey = await emulator.createCryptoKey(ring, id, { purpose: 'ASYMMETRIC_DECRYPT', algorithm: 'RSA_DECRYPT_OAEP_3072_SHA256' });
      lines.push(JSON.stringify({ keyName: `${cryptoKey}/cryptoKeyVersions/1`, mode: 'asymmetric', ...transport }));
    }
    (io.out ?? process.stdout).write(lines.join('\n') + '\n');
    await untilStopped(io.signal);
  } finally {
    await emulator.close();
  }
}
