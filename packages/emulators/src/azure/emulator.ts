// The Azure Key Vault keys REST API on loopback, as `@azure/keyvault-keys` speaks it: `api-version`
// query, the 401 bearer challenge answered before any body is read, base64url JSON bodies, Key
// Vault's `{ error: { code, message, innererror } }` shapes. See shared notes §2.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { FaultInjector, RequestCounters, delay, readBody, startLoopbackHttpServer } from '../harness.js';
import type { EmulatorHandle, EmulatorOptions } from '../harness.js';
import { AzureKeyStore, KeyVaultEmulatorError, keyBundle, keyItem, runOperation } from './keys.js';
import type { AzureCreateKeyOptions, AzureEmulatedKeyType, AzureEmulatedKeyVersion, CryptoOperation } from './keys.js';

/** The bearer token the emulator accepts unless told otherwise. Test-only; protects nothing. */
export const AZURE_EMULATOR_DEFAULT_TOKEN = 'fieldseal-azure-emulator-token';

/** Options of {@link startAzureKeyVaultEmulator}. */
export interface AzureKeyVaultEmulatorOptions extends EmulatorOptions {
  /** Bearer tokens accepted after the challenge. Default `[AZURE_EMULATOR_DEFAULT_TOKEN]`. */
  readonly tokens?: readonly string[];
  /** Tenant named in the challenge's `authorization` URL. Default `fieldseal-emulator-tenant`. */
  readonly tenantId?: string;
  /**
   * `resource` named in the challenge. Default `https://vault.azure.net`, which makes clients on
   * 127.0.0.1 need `disableChallengeResourceVerification: true` (as every non-Azure host does).
   */
  readonly challengeResource?: string;
  /**
   * Behave as a Managed HSM (`https://{hsm}.managedhsm.azure.net`): symmetric `oct`/`oct-HSM` keys
   * (for `A256KW`) can be made. Default false: a Key Vault vault, which refuses them as Key Vault does.
   */
  readonly managedHsm?: boolean;
}

/** A running Azure Key Vault emulator. */
export interface AzureKeyVaultEmulator extends EmulatorHandle {
  /** Accepted bearer tokens. */
  readonly tokens: readonly string[];
  /** Tenant named in the challenge. */
  readonly tenantId: string;
  /**
   * Operation names used by `EmulatorHandle.counters` and `EmulatorHandle.faults`:
   * `challenge` (a request without a token, answered 401), `unauthorized` (a wrong token),
   * `getKey`, `listKeyVersions`, `createKey`, `rotateKey`, `updateKey`, `wrapKey`, `unwrapKey`, `encrypt`, `decrypt`.
   * Failpoints only apply to requests that carry a valid token.
   */
  readonly operations: readonly string[];
  /** The key id of `name` (and `version`, when given) at this emulator, e.g. `http://127.0.0.1:PORT/keys/kek/<version>`. */
  keyId(name: string, version?: string): string;
  /** Create a key, or a new version of an existing one (as Key Vault's `create`). */
  createKey(name: string, options?: AzureCreateKeyOptions): Promise<AzureEmulatedKeyVersion>;
  /** Rotate a key: a new version of the same type and size becomes the latest. */
  rotateKey(name: string, options?: Pick<AzureCreateKeyOptions, 'privateKey' | 'enabled'>): Promise<AzureEmulatedKeyVersion>;
  /** Enable or disable one version (`''` = latest). */
  setKeyEnabled(name: string, version: string, enabled: boolean): AzureEmulatedKeyVersion;
  /** Set (Unix seconds) or clear the expiry of one version (`''` = latest). */
  setKeyExpiry(name: string, version: string, expiresOn: number | undefined): AzureEmulatedKeyVersion;
  /** Every version of a key, oldest first. */
  keyVersions(name: string): readonly AzureEmulatedKeyVersion[];
}

const OPERATIONS = ['challenge', 'unauthorized', 'getKey', 'listKeyVersions', 'createKey', 'rotateKey', 'updateKey', 'wrapKey', 'unwrapKey', 'encrypt', 'decrypt'] as const;
const CRYPTO_OPS: Record<string, { op: CryptoOperation; name: string }> = {
  wrapkey: { op: 'wrapkey', name: 'wrapKey' },
  unwrapkey: { op: 'unwrapkey', name: 'unwrapKey' },
  encrypt: { op: 'encrypt', name: 'encrypt' },
  decrypt: { op: 'decrypt', name: 'decrypt' },
};
/** `7.0`…`7.6`, `2025-07-01`, `…-preview`: the shapes of Key Vault API versions. */
const API_VERSION = /^(\d+\.\d+|\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_TYPES: readonly AzureEmulatedKeyType[] = ['RSA', 'RSA-HSM', 'oct', 'oct-HSM'];

type Route =
  | { kind: 'getKey'; name: string; version: string }
  | { kind: 'listKeyVersions'; name: string }
  | { kind: 'createKey' | 'rotateKey'; name: string }
  | { kind: 'updateKey'; name: string; version: string }
  | { kind: 'crypto'; name: string; version: string; op: CryptoOperation; opName: string };

function route(method: string, path: string): Route | undefined {
  // `/keys/{name}/{version}/{op}`; the version may be empty (`/keys/kek//wrapkey` = latest).
  const parts = path.split('/');
  if (parts[0] !== '' || parts[1] !== 'keys' || !parts[2]) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(parts[2]);
  } catch {
    return undefined; // malformed percent-encoding: no such resource
  }
  const rest = parts.slice(3);
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return method === 'GET' ? { kind: 'getKey', name, version: '' } : undefined;
  if (rest.length === 1) {
    const seg = rest[0]!;
    if (method === 'POST' && seg === 'create') return { kind: 'createKey', name };
    if (method === 'POST' && seg === 'rotate') return { kind: 'rotateKey', name };
    // Versions are 32 hex digits, so `versions` is never one.
    if (method === 'GET' && seg === 'versions') return { kind: 'listKeyVersions', name };
    if (method === 'GET') return { kind: 'getKey', name, version: seg };
    if (method === 'PATCH') return { kind: 'updateKey', name, version: seg };
    return undefined;
  }
  if (rest.length === 2 && method === 'POST') {
    const crypto = CRYPTO_OPS[rest[1]!];
    if (crypto) return { kind: 'crypto', name, version: rest[0]!, op: crypto.op, opName: crypto.name };
  }
  return undefined;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-ms-request-id': randomUUID(),
    'x-ms-keyvault-service-version': 'fieldseal-emulator',
    ...headers,
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string, innerCode?: string, headers?: Record<string, string>): void {
  send(res, status, { error: { code, message, ...(innerCode ? { innererror: { code: innerCode } } : {}) } }, headers);
}

function parseJson(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeyVaultEmulatorError(400, 'BadParameter', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new KeyVaultEmulatorError(400, 'BadParameter', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/**
 * Start an Azure Key Vault (keys) emulator on loopback, over HTTP or HTTPS.
 *
 * Real `@azure/keyvault-keys` clients work against it unmodified: pass the emulator's key ids and
 * `{ allowInsecureConnection: true, disableChallengeResourceVerification: true }` (plus
 * `tlsOptions: { ca }` for HTTPS), and a `TokenCredential` that returns one of `tokens`.
 *
 * @param options - Port, TLS, accepted tokens, challenge parameters.
 * @returns The running emulator; `close()` it when done.
 * @example
 * ```ts
 * const kv = await startAzureKeyVaultEmulator({ tls: true });
 * const { version } = await kv.createKey('kek');
 * const keyId = kv.keyId('kek', version);
 * // ... new CryptographyClient(keyId, credential, { tlsOptions: { ca }, disableChallengeResourceVerification: true })
 * await kv.close();
 * ```
 */
export async function startAzureKeyVaultEmulator(options: AzureKeyVaultEmulatorOptions = {}): Promise<AzureKeyVaultEmulator> {
  const tokens = Object.freeze([...(options.tokens ?? [AZURE_EMULATOR_DEFAULT_TOKEN])]);
  const tenantId = options.tenantId ?? 'fieldseal-emulator-tenant';
  const challenge = `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${options.challengeResource ?? 'https://vault.azure.net'}"`;
  const store = new AzureKeyStore(options.managedHsm === true);
  const counters = new RequestCounters();
  const faults = new FaultInjector();
  const tls = options.tls !== undefined && options.tls !== false;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const method = req.method ?? 'GET';
    const base = `${tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
    const kid = (name: string, version: string) => `${base}/keys/${name}/${version}`;

    // The challenge comes first, before any body is read: the SDK's first request carries neither
    // a token nor its body, and expects a 401 with WWW-Authenticate.
    const auth = req.headers.authorization;
    if (auth === undefined) {
      counters.increment('challenge');
      req.resume();
      return sendError(res, 401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, { 'www-authenticate': challenge });
    }
    const match = /^Bearer (.+)$/.exec(auth);
    if (match === null || !tokens.includes(match[1]!)) {
      counters.increment('unauthorized');
      req.resume();
      return sendError(res, 401, 'Unauthorized', 'AKV10032: Invalid issuer or token.', undefined, { 'www-authenticate': challenge });
    }

    const apiVersion = url.searchParams.get('api-version');
    const r = route(method, url.pathname);
    if (r === undefined) {
      req.resume();
      return sendError(res, 404, 'NotFound', `The requested resource ${method} ${url.pathname} is not supported.`);
    }
    const opName = r.kind === 'crypto' ? r.opName : r.kind;
    counters.increment(opName);
    if (apiVersion === null || !API_VERSION.test(apiVersion)) {
      req.resume();
      return sendError(res, 400, 'BadParameter', apiVersion === null ? 'The api-version query parameter is required.' : `The specified version (${apiVersion.slice(0, 40)}) is not recognized.`);
    }

    const fault = faults.take(opName);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'blackhole') {
      req.resume(); // read the request, answer nothing; close() ends the connection
      return;
    }
    if (fault?.kind === 'delay') await delay(fault.delayMs ?? 100);
    if (fault?.kind === 'throttle') {
      req.resume();
      return sendError(res, 429, 'Throttled', 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached', undefined, { 'retry-after': '0' });
    }
    if (fault?.kind === 'server-error') {
      req.resume();
      const status = fault.status ?? 500;
      return sendError(res, status, status === 503 ? 'ServiceUnavailable' : 'InternalServerError', 'The service is temporarily unable to handle the request.');
    }

    try {
      const body = method === 'GET' ? Buffer.alloc(0) : await readBody(req, 64 * 1024);
      switch (r.kind) {
        case 'getKey': {
          const v = store.get(r.name, r.version, { operation: 'get' });
          return send(res, 200, keyBundle(v, kid(v.name, v.version)));
        }
        case 'listKeyVersions': {
          // One page holds them all (Key Vault pages by 25; `nextLink: null` ends the listing).
          const items = store.versionsOf(r.name).map((v) => keyItem(v, kid(v.name, v.version)));
          return send(res, 200, { value: items, nextLink: null });
        }
        case 'createKey':
        case 'rotateKey': {
          const json = parseJson(body);
          let created: AzureEmulatedKeyVersion;
          if (r.kind === 'rotateKey') {
            created = await store.rotate(r.name);
          } else {
            const kty = json.kty;
            if (typeof kty !== 'string' || !KEY_TYPES.includes(kty as AzureEmulatedKeyType)) throw new KeyVaultEmulatorError(400, 'BadParameter', `Key type '${String(kty).slice(0, 20)}' is not supported.`);
            const size = json.key_size;
            const ops = json.key_ops;
            const attrs = json.attributes as { enabled?: unknown; exp?: unknown } | undefined;
            created = await store.create(r.name, {
              kty: kty as AzureEmulatedKeyType,
              ...(typeof size === 'number' ? { size } : {}),
              ...(Array.isArray(ops) && ops.every((o) => typeof o === 'string') ? { keyOps: ops as string[] } : {}),
              ...(typeof attrs?.enabled === 'boolean' ? { enabled: attrs.enabled } : {}),
              ...(typeof attrs?.exp === 'number' ? { expiresOn: attrs.exp } : {}),
            });
          }
          const v = store.get(r.name, created.version, { allowDisabled: true });
          return send(res, 200, keyBundle(v, kid(v.name, v.version)));
        }
        case 'updateKey': {
          const json = parseJson(body);
          const attrs = json.attributes as { enabled?: unknown; exp?: unknown } | undefined;
          if (typeof attrs?.enabled === 'boolean') store.setEnabled(r.name, r.version, attrs.enabled);
          if (typeof attrs?.exp === 'number') store.setExpiry(r.name, r.version, attrs.exp);
          const v = store.get(r.name, r.version, { allowDisabled: true });
          return send(res, 200, keyBundle(v, kid(v.name, v.version)));
        }
        case 'crypto': {
          const json = parseJson(body);
          const { alg, value } = json;
          if (typeof alg !== 'string' || alg === '') throw new KeyVaultEmulatorError(400, 'BadParameter', 'The alg parameter is required.');
          if (typeof value !== 'string' || !BASE64URL.test(value) || value.length === 0) throw new KeyVaultEmulatorError(400, 'BadParameter', 'The value parameter must be a non-empty base64url string.');
          const v = store.get(r.name, r.version, { operation: r.opName });
          const result = runOperation(v, r.op, alg, Buffer.from(value, 'base64url'));
          if (fault?.kind === 'corrupt-response') result[result.length - 1]! ^= 0x01;
          return send(res, 200, { kid: kid(v.name, v.version), value: result.toString('base64url') });
        }
      }
    } catch (err) {
      if (err instanceof KeyVaultEmulatorError) return sendError(res, err.status, err.errorCode, err.message, err.innerCode);
      if (err instanceof Error && err.message === 'request body too large') return sendError(res, 413, 'RequestTooLarge', 'The request body is too large.');
      return sendError(res, 500, 'InternalServerError', 'The emulator failed to handle the request.');
    }
  }

  const server = await startLoopbackHttpServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'InternalServerError', 'The emulator failed to handle the request.');
      else res.destroy();
    });
  }, options);

  const keyId = (name: string, version?: string) => `${server.url}/keys/${name}${version === undefined ? '' : `/${version}`}`;
  return {
    url: server.url,
    port: server.port,
    counters,
    faults,
    tokens,
    tenantId,
    operations: OPERATIONS,
    keyId,
    createKey: (name, opts) => store.create(name, opts),
    rotateKey: (name, opts) => store.rotate(name, opts),
    setKeyEnabled: (name, version, enabled) => store.setEnabled(name, version, enabled),
    setKeyExpiry: (name, version, expiresOn) => store.setExpiry(name, version, expiresOn),
    keyVersions: (name) => store.versions(name),
    close: () => server.close(),
  };
}
