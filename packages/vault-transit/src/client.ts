/**
 * The part of the node-vault client the keyring uses, as a structural type: a `node-vault`
 * client fits it, and so does any object with the same `write`/`read` (a wrapper that adds
 * tracing or retries, for example).
 * @module
 */

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
