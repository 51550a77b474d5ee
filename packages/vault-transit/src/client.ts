/**
 * The part of the node-vault client the keyring uses, as a structural type: a `node-vault`
 * client fits it, and so does any object with the same `write`/`read` (a wrapper that adds
 * tracing or retries, for example). Also how the keyring gets its client and namespace.
 * @module
 */
import { InvalidArgumentError } from '@fieldseal/core';
import nodeVault from 'node-vault';
import { checkPath } from './wire.js';

/** Per-request options the keyring passes to the client (node-vault forwards them to axios). */
export interface VaultRequestOptions {
  /** Extra request headers: `X-Vault-Token` and `X-Vault-Namespace` when the keyring supplies them. */
  headers?: Record<string, string>;
  /** Request timeout in milliseconds (axios `timeout`). */
  timeout?: number;
}

/**
 * A Vault client as the keyring needs it. `node-vault`'s client satisfies it.
 *
 * `write(path, body)` POSTs JSON to `/v1/<path>` and resolves with the parsed response body, or
 * rejects with an error carrying `response.statusCode` and `response.body.errors` (an API error) or
 * a transport `code` such as `ECONNREFUSED`.
 */
export interface VaultTransitClient {
  write(path: string, data: unknown, requestOptions?: VaultRequestOptions): Promise<unknown>;
  read(path: string, requestOptions?: VaultRequestOptions): Promise<unknown>;
  /** node-vault's namespace (from its `namespace` option or `VAULT_NAMESPACE`), sent as `X-Vault-Namespace`. */
  namespace?: string | undefined;
}

/** The options of VaultTransitKeyring that choose its client. */
interface ClientOptions {
  readonly client?: VaultTransitClient;
  readonly endpoint?: string;
  readonly requestOptions?: Record<string, unknown>;
}

/** The keyring's client: the caller's, checked, or a node-vault client built from exactly the options given. */
export function keyringClient(options: ClientOptions, token: string | (() => string | Promise<string>) | undefined): VaultTransitClient {
  if (options.client !== undefined) {
    /* Precondition: a caller's client has write and read. */
    const c = options.client as Partial<VaultTransitClient> | null;
    if (c === null || typeof c !== 'object' || typeof c.write !== 'function' || typeof c.read !== 'function') {
      throw new InvalidArgumentError('client must be a node-vault client (with write and read)');
    }
    if (options.endpoint !== undefined || options.requestOptions !== undefined) {
      throw new InvalidArgumentError('endpoint and requestOptions apply only when the keyring builds the client; configure your client instead');
    }
    return options.client;
  }
  /* Precondition: without a client, the endpoint and token are explicit (no silent VAULT_* fallback). */
  if (typeof options.endpoint !== 'string' || !/^https?:\/\/[^/]/.test(options.endpoint)) {
    throw new InvalidArgumentError('endpoint must be an http(s) URL when no client is given');
  }
  if (token === undefined) throw new InvalidArgumentError('token is required when no client is given');
  const client = nodeVault({
    apiVersion: 'v1',
    endpoint: options.endpoint,
    ...(typeof token === 'string' ? { token } : {}),
    ...(options.requestOptions !== undefined ? { requestOptions: options.requestOptions } : {}),
  });
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from the environment;
  // a keyring built from explicit options uses exactly those options.
  const mutable = client as unknown as { token?: string; namespace?: string; pathPrefix?: string };
  if (typeof token !== 'string') mutable.token = undefined;
  mutable.namespace = undefined;
  mutable.pathPrefix = '';
  return client as unknown as VaultTransitClient;
}

/** The namespace requests go to, and the `X-Vault-Namespace` header the keyring must send for it (none when the client sends its own). */
export function requestNamespace(client: VaultTransitClient, option: string | undefined): { namespace: string; header: string | undefined } {
  const clientNamespace = typeof client.namespace === 'string' ? client.namespace.replace(/^\/+|\/+$/g, '') : '';
  if (option === undefined) return { namespace: clientNamespace, header: undefined };
  const ns = option === '' ? '' : checkPath(option, 'namespace');
  // node-vault overwrites X-Vault-Namespace with its own namespace, so two different ones cannot work.
  if (clientNamespace !== '' && clientNamespace !== ns) {
    throw new InvalidArgumentError(`namespace "${ns}" conflicts with the client's namespace "${clientNamespace}"`);
  }
  return { namespace: ns, header: ns === '' ? undefined : ns };
}
