/**
 * {@link keyringFromConfig}: a {@link VaultTransitKeyring} from a plain JSON object (the `fieldseal`
 * CLI loads `vault-transit:<config.json>` through it).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from '@fieldseal/core';
import { VaultTransitKeyring } from './keyring.js';
import type { VaultContextBinding } from './options.js';

/**
 * The JSON configuration of a Vault transit keyring. Every field is optional except `keyName`;
 * unknown fields are rejected, so a typo cannot silently fall back to a default.
 */
export interface VaultTransitConfig {
  /** Vault address. Default: `VAULT_ADDR`. */
  readonly endpoint?: string;
  /** A token. Prefer `tokenFile` or `VAULT_TOKEN`, so no secret sits in the config file. */
  readonly token?: string;
  /** A file holding the token, read before every request (e.g. a Vault Agent token sink, which the agent renews). */
  readonly tokenFile?: string;
  /** Namespace (Vault Enterprise / HCP, e.g. `admin`). Default: `VAULT_NAMESPACE`, else the root namespace. */
  readonly namespace?: string;
  /** Mount path of the transit engine. Default `transit`. */
  readonly mount?: string;
  /** Transit key name. Required. */
  readonly keyName: string;
  /** `derived-key` (default) or `associated-data`; see {@link VaultContextBinding}. */
  readonly contextBinding?: VaultContextBinding;
  /** PEM file of the CA that signed Vault's certificate. Default: `VAULT_CACERT`. */
  readonly caCertFile?: string;
  /** Per-attempt timeout in milliseconds. Default 10,000. */
  readonly timeoutMs?: number;
  /** Attempts per Vault call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Total deadline of one keyring operation, every attempt included, in milliseconds. Default 30,000. */
  readonly deadlineMs?: number;
  /** Check the key's type and derivation once before first use (needs `read` on `<mount>/keys/<name>`). Default true. */
  readonly verifyKey?: boolean;
}

/** Where {@link keyringFromConfig} looks for defaults. */
export interface KeyringFromConfigOptions {
  /** Environment for `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, `VAULT_CACERT`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory that relative `tokenFile`/`caCertFile` paths are resolved against. Default: the working directory. */
  readonly baseDir?: string;
}

const FIELDS: Record<keyof VaultTransitConfig, 'string' | 'number' | 'boolean'> = {
  endpoint: 'string',
  token: 'string',
  tokenFile: 'string',
  namespace: 'string',
  mount: 'string',
  keyName: 'string',
  contextBinding: 'string',
  caCertFile: 'string',
  timeoutMs: 'number',
  maxAttempts: 'number',
  deadlineMs: 'number',
  verifyKey: 'boolean',
};

/**
 * Build a {@link VaultTransitKeyring} from a plain JSON object, with the Vault CLI's environment
 * variables as defaults: `endpoint` or `VAULT_ADDR`; `token`, `tokenFile` or `VAULT_TOKEN`;
 * `namespace` or `VAULT_NAMESPACE`; `caCertFile` or `VAULT_CACERT`. `VAULT_SKIP_VERIFY` is ignored:
 * TLS is always verified (give the CA with `caCertFile`). Nothing else from the environment is used.
 *
 * @param config The parsed JSON, e.g. `{ "mount": "transit", "keyName": "customer-kek", "tokenFile": "/var/run/vault/token" }`.
 * @param options Environment and base directory (for tests and the CLI).
 * @returns The keyring. Nothing is sent to Vault until it is used (unless `verifyKey` is set, then on first use).
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` for a config that is not an object,
 *   an unknown field, a field of the wrong type, no endpoint, no token, both `token` and `tokenFile`,
 *   or an unreadable `caCertFile`.
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { keyringFromConfig } from '@fieldseal/vault-transit';
 *
 * const keyring = await keyringFromConfig(JSON.parse(await readFile('vault-transit.json', 'utf8')));
 * ```
 */
export async function keyringFromConfig(config: unknown, options: KeyringFromConfigOptions = {}): Promise<VaultTransitKeyring> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidArgumentError('vault-transit config must be a JSON object');
  }
  const c = config as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    const type = Object.hasOwn(FIELDS, key) ? FIELDS[key as keyof VaultTransitConfig] : undefined;
    if (type === undefined) throw new InvalidArgumentError(`vault-transit config: unknown field "${key}"`);
    if (typeof c[key] !== type) throw new InvalidArgumentError(`vault-transit config: "${key}" must be a ${type}`);
  }
  const cfg = c as unknown as VaultTransitConfig;
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));

  const endpoint = cfg.endpoint ?? nonEmpty(env.VAULT_ADDR);
  if (endpoint === undefined) throw new InvalidArgumentError('vault-transit config: no endpoint (set "endpoint" or VAULT_ADDR)');
  if (cfg.token !== undefined && cfg.tokenFile !== undefined) throw new InvalidArgumentError('vault-transit config: give "token" or "tokenFile", not both');

  let token: string | (() => Promise<string>) | undefined = cfg.token ?? undefined;
  if (cfg.tokenFile !== undefined) {
    const path = at(cfg.tokenFile);
    // Read on every request: Vault Agent rewrites the sink when it renews or re-authenticates.
    token = async () => (await readFile(path, 'utf8')).trim();
  }
  token ??= nonEmpty(env.VAULT_TOKEN);
  if (token === undefined) throw new InvalidArgumentError('vault-transit config: no token (set "token", "tokenFile" or VAULT_TOKEN)');

  const caFile = cfg.caCertFile ?? nonEmpty(env.VAULT_CACERT);
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = await readFile(at(caFile), 'utf8');
    } catch {
      throw new InvalidArgumentError(`vault-transit config: cannot read the CA certificate file ${caFile}`);
    }
  }
  const namespace = cfg.namespace ?? nonEmpty(env.VAULT_NAMESPACE);

  return new VaultTransitKeyring({
    endpoint,
    token,
    keyName: cfg.keyName,
    ...(cfg.mount !== undefined ? { mount: cfg.mount } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(cfg.contextBinding !== undefined ? { contextBinding: cfg.contextBinding } : {}),
    ...(cfg.timeoutMs !== undefined ? { timeoutMs: cfg.timeoutMs } : {}),
    ...(cfg.maxAttempts !== undefined || cfg.deadlineMs !== undefined
      ? { retry: { ...(cfg.maxAttempts !== undefined ? { maxAttempts: cfg.maxAttempts } : {}), ...(cfg.deadlineMs !== undefined ? { deadlineMs: cfg.deadlineMs } : {}) } }
      : {}),
    ...(cfg.verifyKey !== undefined ? { verifyKey: cfg.verifyKey } : {}),
    // strictSSL: true overrides node-vault's reading of VAULT_SKIP_VERIFY.
    requestOptions: { strictSSL: true, ...(ca !== undefined ? { ca } : {}) },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
