// `fieldseal-emulators azure [--port N] [--tls] [--key NAME]... [--kty RSA|oct-HSM] [--token T]`:
// run the Azure Key Vault emulator for offline development until interrupted.
import { fileURLToPath } from 'node:url';
import { AZURE_EMULATOR_DEFAULT_TOKEN, startAzureKeyVaultEmulator } from './emulator.js';
import type { AzureEmulatedKeyType } from './keys.js';

const USAGE = 'usage: fieldseal-emulators azure [--port N] [--tls] [--key NAME]... [--kty RSA|RSA-HSM|oct-HSM] [--token TOKEN]';

/** Parsed command line. */
interface AzureCliArgs {
  port: number;
  tls: boolean;
  keys: string[];
  kty: AzureEmulatedKeyType;
  token: string;
}

function parseArgs(argv: readonly string[]): AzureCliArgs {
  const args: AzureCliArgs = { port: 0, tls: false, keys: [], kty: 'RSA', token: AZURE_EMULATOR_DEFAULT_TOKEN };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535\n${USAGE}`);
        args.port = port;
        break;
      }
      case '--tls':
        args.tls = true;
        break;
      case '--key':
        args.keys.push(value());
        break;
      case '--kty': {
        const kty = value();
        if (kty !== 'RSA' && kty !== 'RSA-HSM' && kty !== 'oct-HSM' && kty !== 'oct') throw new Error(`--kty must be RSA, RSA-HSM, oct or oct-HSM\n${USAGE}`);
        args.kty = kty;
        break;
      }
      case '--token':
        args.token = value();
        break;
      default:
        throw new Error(`unknown argument ${String(flag)}\n${USAGE}`);
    }
  }
  if (args.keys.length === 0) args.keys.push('kek');
  return args;
}

/** Where the CLI writes and when it stops; injectable so tests need no signals. */
export interface AzureCliIo {
  /** Print text. */
  write(text: string): void;
  /** Resolves when the emulator should stop. */
  readonly until: Promise<void>;
}

/**
 * Run the emulator CLI: start, create the keys, print endpoint, key ids and environment, then
 * wait for `io.until` and close.
 * @param argv - Arguments after `azure`.
 * @param io - Output and stop trigger.
 */
export async function runAzureEmulatorCli(argv: readonly string[], io: AzureCliIo): Promise<void> {
  const args = parseArgs(argv);
  // Symmetric keys exist only in a Managed HSM: serve as one when they are asked for.
  const managedHsm = args.kty === 'oct' || args.kty === 'oct-HSM';
  const kv = await startAzureKeyVaultEmulator({ port: args.port, tls: args.tls, tokens: [args.token], managedHsm });
  const caFile = fileURLToPath(new URL('../../fixtures/test-only-tls.cert.pem', import.meta.url));
  try {
    const out: string[] = [`Azure Key Vault emulator listening on ${kv.url} (test-only; keys live in memory)`];
    for (const name of args.keys) {
      const { version } = await kv.createKey(name, { kty: args.kty });
      out.push(`key ${name}: ${kv.keyId(name, version)}`);
    }
    out.push(
      '',
      `export AZURE_KEYVAULT_URL=${kv.url}`,
      `export AZURE_KEYVAULT_KEY_ID=${kv.keyId(args.keys[0]!)}`,
      `export FIELDSEAL_AZURE_EMULATOR_TOKEN=${args.token}`,
      '',
      'Client options: { disableChallengeResourceVerification: true' + (args.tls ? `, tlsOptions: { ca: <contents of ${caFile}> } }` : ', allowInsecureConnection: true }'),
      'Credential: any TokenCredential whose getToken() returns the token above.',
      '@fieldseal/azure-keyvault keyringFromConfig JSON:',
      JSON.stringify({ keyId: kv.keyId(args.keys[0]!), disableChallengeResourceVerification: true, ...(args.tls ? { tlsCaFile: caFile } : { allowInsecureConnection: true }), emulatorToken: args.token }),
    );
    io.write(out.join('\n') + '\n');
    await io.until;
  } finally {
    await kv.close();
  }
}

/**
 * Start the Azure Key Vault emulator from the command line, print its endpoint, key ids and the
 * environment to use, and run until SIGINT or SIGTERM.
 * @param argv - Arguments after `azure`.
 */
export async function main(argv: string[]): Promise<void> {
  const until = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await runAzureEmulatorCli(argv, { write: (text) => process.stdout.write(text), until });
}
