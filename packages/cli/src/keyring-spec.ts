import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LocalKeyring, MultiKeyring, type Keyring } from '@fieldseal/core';
import { usage } from './exit-error.js';

/** Provider packages that can build a keyring from a JSON config (`<provider>:<config.json>`). */
const PROVIDER_PACKAGES: Readonly<Record<string, string>> = {
  'aws-kms': '@fieldseal/aws-kms',
  'azure-keyvault': '@fieldseal/azure-keyvault',
  'gcp-kms': '@fieldseal/gcp-kms',
  'vault-transit': '@fieldseal/vault-transit',
};

/** How key files are checked; `--allow-insecure-key-file` sets `allowInsecure` for the whole run. */
export const keyFilePolicy: { allowInsecure: boolean } = { allowInsecure: false };

/**
 * Refuse a key file that other users can read, as ssh refuses a private key: the key is already
 * exposed to them, and silently using it would hide that. The override is explicit and per run.
 */
async function checkKeyFileMode(path: string): Promise<void> {
  if (keyFilePolicy.allowInsecure || process.platform === 'win32') return;
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    return; // readText reports the missing file
  }
  if ((mode & 0o077) === 0) return;
  const octal = mode.toString(8).padStart(4, '0');
  throw usage(
    `the key file ${path} has mode ${octal}: other users can read it, so its keys must be treated as exposed and are not used. ` +
      `Fix it with: chmod 600 ${path} (and consider rotating the key), or pass --allow-insecure-key-file to use it anyway`,
  );
}

/**
 * Build one keyring from several specs: one spec gives its keyring, several give a
 * {@link MultiKeyring} (encrypt wraps every data key under all of them, the first generating it;
 * decrypt tries them in order).
 */
export async function keyringFromSpecs(specs: string | readonly string[]): Promise<Keyring> {
  const list = typeof specs === 'string' ? [specs] : specs;
  if (list.length === 0) throw usage('--keyring is required');
  if (list.length === 1) return keyringFromSpec(list[0]!);
  return new MultiKeyring(await Promise.all(list.map((s) => keyringFromSpec(s))));
}

/**
 * Build a keyring from a spec: `local:keys.json` (a local key file) or `<provider>:<config.json>`
 * for a provider package that is installed. Provider packages are imported lazily, so commands
 * with local keys never load a cloud SDK.
 */
export async function keyringFromSpec(spec: string): Promise<Keyring> {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) throw usage(`keyring spec "${spec}" must look like local:keys.json or <provider>:<config.json>`);
  const kind = spec.slice(0, i);
  const path = spec.slice(i + 1);
  if (kind === 'local') {
    await checkKeyFileMode(path);
    return LocalKeyring.fromKeyFile(await readText(path, 'key file'));
  }
  const pkg = PROVIDER_PACKAGES[kind];
  if (pkg === undefined) throw usage(`unknown keyring kind "${kind}" (known: local, ${Object.keys(PROVIDER_PACKAGES).join(', ')})`);
  let mod: { keyringFromConfig?: (config: unknown, options?: { credential?: unknown; baseDir?: string }) => Promise<Keyring> };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch {
    throw usage(`keyring kind "${kind}" needs the package ${pkg}: npm install ${pkg}`);
  }
  if (typeof mod.keyringFromConfig !== 'function') throw usage(`${pkg} does not export keyringFromConfig`);
  let config: unknown;
  try {
    config = JSON.parse(await readText(path, 'keyring config'));
  } catch (err) {
    if (err instanceof SyntaxError) throw usage(`the keyring config ${path} is not valid JSON`);
    throw err;
  }
  // Relative paths inside a config (token files, CA files) resolve against the config's folder.
  const options = { baseDir: dirname(resolve(path)), ...(kind === 'azure-keyvault' ? await azureCredential(config) : {}) };
  return mod.keyringFromConfig(config, options);
}

/**
 * Azure needs a TokenCredential, which fieldseal does not bundle: use `DefaultAzureCredential` when
 * `@azure/identity` is installed (and the config is not an emulator config with a fixed token).
 */
async function azureCredential(config: unknown): Promise<{ credential?: unknown }> {
  if (config !== null && typeof config === 'object' && 'emulatorToken' in config) return {};
  const identityPackage: string = '@azure/identity';
  try {
    const identity = (await import(identityPackage)) as { DefaultAzureCredential: new () => unknown };
    return { credential: new identity.DefaultAzureCredential() };
  } catch {
    return {};
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usage(`cannot read the ${what} ${path}${code ? ` (${code})` : ''}`);
  }
}
