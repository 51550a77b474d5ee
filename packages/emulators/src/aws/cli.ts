/**
 * `fieldseal-emulators aws`: run the AWS KMS emulator by hand for offline development.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAwsKmsEmulator } from './emulator.js';
import type { AwsKmsEmulator, AwsEmulatedKeySpec, AwsEmulatedKey } from './emulator.js';

const USAGE = `usage: fieldseal-emulators aws [--port N] [--host 127.0.0.1] [--region us-east-1] [--tls]
                              [--key alias/name]... [--rsa-key alias/name]... [--rsa-spec RSA_2048|RSA_3072|RSA_4096]
                              [--access-key-id ID --secret-access-key SECRET]
Starts a loopback AWS KMS emulator and prints the endpoint and the environment to use.
Without --key/--rsa-key it creates one symmetric key, alias/fieldseal-dev.
Keys live in memory only: they are gone when the emulator stops (Ctrl-C).`;

/** What {@link startFromArgv} started. */
export interface AwsEmulatorCliResult {
  readonly emulator: AwsKmsEmulator;
  readonly keys: readonly AwsEmulatedKey[];
  /** The text printed for the user: endpoint, `export` lines and keys. */
  readonly banner: string;
}

/**
 * Parse the command line, start the emulator, create the requested keys, and build the banner.
 * @param argv Arguments after `aws`.
 */
export async function startFromArgv(argv: string[]): Promise<AwsEmulatorCliResult> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      region: { type: 'string' },
      tls: { type: 'boolean' },
      key: { type: 'string', multiple: true },
      'rsa-key': { type: 'string', multiple: true },
      'rsa-spec': { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new Error(USAGE);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535\n${USAGE}`);
  if ((values['access-key-id'] === undefined) !== (values['secret-access-key'] === undefined)) {
    throw new Error(`--access-key-id and --secret-access-key go together\n${USAGE}`);
  }
  const rsaSpec = (values['rsa-spec'] ?? 'RSA_3072') as AwsEmulatedKeySpec;
  if (!['RSA_2048', 'RSA_3072', 'RSA_4096'].includes(rsaSpec)) throw new Error(`--rsa-spec must be RSA_2048, RSA_3072 or RSA_4096\n${USAGE}`);

  const emulator = await startAwsKmsEmulator({
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.tls ? { tls: true } : {}),
    ...(values['access-key-id'] !== undefined ? { credentials: { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key']! } } : {}),
  });
  try {
    const symmetric = values.key ?? (values['rsa-key'] ? [] : ['alias/fieldseal-dev']);
    const keys: AwsEmulatedKey[] = [];
    for (const alias of symmetric) keys.push(await emulator.createKey({ alias }));
    for (const alias of values['rsa-key'] ?? []) keys.push(await emulator.createKey({ alias, keySpec: rsaSpec }));
    const env = emulator.env();
    const lines = [
      `AWS KMS emulator listening on ${emulator.url} (account ${emulator.accountId}, region ${emulator.region})`,
      '',
      'Use it from a shell (the AWS SDKs and CLI honour AWS_ENDPOINT_URL_KMS):',
      ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
      ...(values.tls ? [`export NODE_EXTRA_CA_CERTS=${shellQuote(fileURLToPath(new URL('../../fixtures/test-only-tls.cert.pem', import.meta.url)))}`] : []),
      '',
      'Keys:',
      ...keys.map((k) => `  ${k.alias ?? ''}  ${k.arn}  ${k.keySpec}`),
      '',
      'fieldseal keyring config (aws-kms:<file.json>):',
      `  ${JSON.stringify({ keyIds: keys.filter((k) => k.keySpec === 'SYMMETRIC_DEFAULT').map((k) => k.arn), region: emulator.region, endpoint: emulator.url })}`,
      '',
      'Test-only credentials and in-memory keys; press Ctrl-C to stop.',
    ];
    return { emulator, keys, banner: lines.join('\n') + '\n' };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Entry point of `fieldseal-emulators aws`: start, print the banner, stop on SIGINT/SIGTERM.
 * @param argv Arguments after `aws`.
 */
export async function main(argv: string[]): Promise<void> {
  const { emulator, banner } = await startFromArgv(argv);
  process.stdout.write(banner);
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
