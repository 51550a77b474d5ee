/**
 * A loopback emulator of HashiCorp Vault's transit secrets engine, for tests and offline
 * development: `/v1/<mount>/...` over HTTP(S) with `X-Vault-Token` checked, `X-Vault-Namespace`
 * honoured, Vault's response envelope and `{ errors: [...] }` shapes, and real AES-256-GCM.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  delay,
  type EmulatorHandle,
  type EmulatorOptions,
  FaultInjector,
  readBody,
  RequestCounters,
  startLoopbackHttpServer,
} from '../harness.js';
import { decodeField, type TransitKey, type TransitKeyInfo, type TransitKeyOptions, TransitMount, TransitRequestError } from './transit.js';

export type { TransitKeyInfo, TransitKeyOptions, TransitKeyType } from './transit.js';

/** Options of {@link startVaultTransitEmulator}. */
export interface VaultTransitEmulatorOptions extends EmulatorOptions {
  /** The token every request must carry in `X-Vault-Token`. Default: a random `hvs.` token. */
  readonly token?: string;
  /**
   * Lifetime of that token in seconds, renewable with `auth/token/renew-self` (as a periodic or
   * renewable Vault token). Default: it never expires.
   */
  readonly tokenTtlSeconds?: number;
  /** Mount paths of transit engines. Default `['transit']`. */
  readonly mounts?: readonly string[];
  /**
   * Create a missing key on `encrypt`, as Vault does when the token's policy allows `create`
   * (derived when the request carries a `context`). Default true.
   */
  readonly upsert?: boolean;
}

/** Where a key lives: a mount, and a namespace (`''` is the root namespace). */
export interface VaultKeyLocation {
  /** Default: the first configured mount. */
  readonly mount?: string;
  /** Default: the root namespace. */
  readonly namespace?: string;
}

/** A running Vault transit emulator. */
export interface VaultTransitEmulator extends EmulatorHandle {
  /** A token the emulator accepts (the one from the options, or a generated one). */
  readonly token: string;
  /** Accept one more token (to test a renewed or rotated token), expiring after `ttlSeconds` if given; returns it. */
  issueToken(token?: string, options?: { ttlSeconds?: number }): string;
  /** Stop accepting a token: later requests carrying it get 403 `permission denied`. */
  revokeToken(token: string): void;
  /** Create a key directly (no request is counted). Creating an existing key changes nothing. */
  createKey(name: string, options?: TransitKeyOptions & VaultKeyLocation): TransitKeyInfo;
  /** Add a version to a key directly, as `keys/:name/rotate` does. */
  rotateKey(name: string, location?: VaultKeyLocation): TransitKeyInfo;
  /** The state of a key, or `undefined` when it does not exist. */
  keyInfo(name: string, location?: VaultKeyLocation): TransitKeyInfo | undefined;
}

/** Operation names used by {@link RequestCounters} and {@link FaultInjector} filters. */
export type VaultTransitOperation =
  | 'sys.health'
  | 'token.lookup-self'
  | 'token.renew-self'
  | 'keys.create'
  | 'keys.read'
  | 'keys.list'
  | 'keys.delete'
  | 'keys.rotate'
  | 'keys.config'
  | 'encrypt'
  | 'decrypt'
  | 'rewrap'
  | 'datakey';

const KEY_NAME = /^\w(?:[\w.-]*\w)?$/;
const MAX_BODY_BYTES = 1 << 20;

interface Route {
  readonly operation: VaultTransitOperation;
  readonly mount: string;
  readonly name: string;
  readonly variant?: 'plaintext' | 'wrapped';
}

type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly data?: Json | null;
  readonly warnings?: string[];
  /** Token operations answer in the envelope's `auth`. */
  readonly auth?: Json;
  /** `sys/health` answers with a bare object, not the envelope. */
  readonly raw?: boolean;
}

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');

/**
 * Start a Vault transit emulator on loopback.
 *
 * Implements `keys/:name` (create with `type`, one of `aes256-gcm96`, `aes128-gcm96` and
 * `chacha20-poly1305`, and `derived`, answered 200 with the key as Vault does; read, `GET ?list=true`, delete),
 * `keys/:name/rotate`, `keys/:name/config` (`min_decryption_version`, `min_encryption_version`,
 * `deletion_allowed`), `encrypt` and `decrypt` (with `batch_input`), `rewrap`, and
 * `datakey/plaintext|wrapped`. Derived keys derive a key per `context` with HKDF-SHA256 as Vault
 * does; `associated_data` is bound as GCM additional data; `rewrap` ignores `associated_data`
 * (with a warning), as Vault does. Failpoints: `throttle` (429), `server-error` (500, or 503 =
 * sealed), `delay`, `drop`, `blackhole` (never answers), `corrupt-response` (flips a bit of the returned ciphertext/plaintext).
 * The namespace comes from `X-Vault-Namespace` and from the path (`/v1/<ns>/<mount>/...`), joined
 * as Vault joins them. Error bodies are Vault's `{ errors: [...] }`, with its multi-error text where
 * Vault uses one (a bad token: `2 errors occurred: permission denied, invalid token`; 405).
 * Also `sys/health`, and `auth/token/lookup-self` and `auth/token/renew-self` for tokens with a TTL
 * (`tokenTtlSeconds`), so a client's token renewal can be tested: an expired token gets 403.
 *
 * @param options Port, host (loopback only), TLS, token, mounts.
 * @returns The running emulator; call `close()` when done.
 * @example
 * ```ts
 * import nodeVault from 'node-vault';
 * import { startVaultTransitEmulator } from '@fieldseal/emulators';
 *
 * const vault = await startVaultTransitEmulator();
 * vault.createKey('customer-kek', { derived: true });
 * const client = nodeVault({ endpoint: vault.url, token: vault.token });
 * const res = await client.write('transit/encrypt/customer-kek', { plaintext: 'aGk=', context: 'dDE=' });
 * await vault.close();
 * ```
 */
export async function startVaultTransitEmulator(options: VaultTransitEmulatorOptions = {}): Promise<VaultTransitEmulator> {
  const counters = new RequestCounters();
  const faults = new FaultInjector();
  // token -> its lifetime: `ttlMs` (undefined: never expires) and when it ends
  const tokens = new Map<string, { ttlMs: number | undefined; expiresAt: number }>();
  const addToken = (token: string, ttlSeconds: number | undefined): string => {
    if (typeof token !== 'string' || token.length === 0) throw new Error('a token must be a non-empty string');
    if (ttlSeconds !== undefined && !(ttlSeconds > 0)) throw new Error('ttlSeconds must be positive');
    const ttlMs = ttlSeconds === undefined ? undefined : ttlSeconds * 1000;
    tokens.set(token, { ttlMs, expiresAt: ttlMs === undefined ? Infinity : Date.now() + ttlMs });
    return token;
  };
  const newToken = (): string => `hvs.${randomBytes(18).toString('base64url')}`;
  const primaryToken = addToken(options.token ?? newToken(), options.tokenTtlSeconds);
  const liveToken = (token: unknown): string | undefined => {
    if (typeof token !== 'string') return undefined;
    const entry = tokens.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() >= entry.expiresAt) {
      tokens.delete(token); // Vault revokes expired tokens
      return undefined;
    }
    return token;
  };
  const mountNames = (options.mounts ?? ['transit']).map(trimSlashes);
  if (mountNames.length === 0 || mountNames.some((m) => m === '')) throw new Error('mounts must be non-empty paths');
  const firstMount = mountNames[0]!;
  // Longest first, so a mount nested under another's path wins.
  const mountsByLength = [...mountNames].sort((a, b) => b.length - a.length);
  const upsert = options.upsert ?? true;
  // namespace -> mount -> keys
  const namespaces = new Map<string, Map<string, TransitMount>>();

  const mountOf = (namespace: string, mount: string): TransitMount => {
    let ns = namespaces.get(namespace);
    if (ns === undefined) namespaces.set(namespace, (ns = new Map()));
    let m = ns.get(mount);
    if (m === undefined) ns.set(mount, (m = new TransitMount()));
    return m;
  };
  const locate = (location: VaultKeyLocation = {}): TransitMount => {
    const mount = trimSlashes(location.mount ?? firstMount);
    if (!mountNames.includes(mount)) throw new Error(`no transit mount at ${mount}`);
    return mountOf(trimSlashes(location.namespace ?? ''), mount);
  };

  /**
   * Split a request path into a namespace prefix and the path inside it: Vault accepts the
   * namespace in the path (`/v1/ns1/transit/...`) as well as in `X-Vault-Namespace`, and joins the two.
   */
  const splitNamespace = (path: string): { namespace: string; inner: string } => {
    const segments = path.split('/');
    for (let i = 0; i < segments.length; i++) {
      const inner = segments.slice(i).join('/');
      const isMount = mountsByLength.some((m) => inner === m || inner.startsWith(`${m}/`));
      if (isMount || (i === 0 && (inner.startsWith('sys/') || inner.startsWith('auth/')))) return { namespace: segments.slice(0, i).join('/'), inner };
    }
    return { namespace: '', inner: path };
  };

  const route = (method: string, path: string, query: URLSearchParams): Route | TransitRequestError => {
    if (path === 'sys/health' && (method === 'GET' || method === 'HEAD')) return { operation: 'sys.health', mount: '', name: '' };
    if (path === 'auth/token/lookup-self' && method === 'GET') return { operation: 'token.lookup-self', mount: '', name: '' };
    if (path === 'auth/token/renew-self' && (method === 'POST' || method === 'PUT')) return { operation: 'token.renew-self', mount: '', name: '' };
    const mount = mountsByLength.find((m) => path === m || path.startsWith(`${m}/`));
    const noRoute = new TransitRequestError(404, `no handler for route "${path}". route entry not found.`);
    if (mount === undefined) return noRoute;
    const rest = path.slice(mount.length + 1).split('/');
    const [head, a, b, c] = rest;
    const isWrite = method === 'POST' || method === 'PUT';
    const unsupported = new TransitRequestError(405, multiError(['unsupported operation']));
    if (head === 'keys' && rest.length === 1) {
      // Node cannot parse the LIST method; Vault also lists on GET with a true `list` (Go's ParseBool).
      if (method === 'GET' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(query.get('list') ?? '')) return { operation: 'keys.list', mount, name: '' };
      return unsupported;
    }
    if (a === undefined || (b === undefined ? !KEY_NAME.test(a) : false)) return noRoute;
    if (head === 'keys' && rest.length === 2) {
      if (isWrite) return { operation: 'keys.create', mount, name: a };
      if (method === 'GET') return { operation: 'keys.read', mount, name: a };
      if (method === 'DELETE') return { operation: 'keys.delete', mount, name: a };
      return unsupported;
    }
    if (head === 'keys' && rest.length === 3 && KEY_NAME.test(a) && (b === 'rotate' || b === 'config')) {
      return isWrite ? { operation: b === 'rotate' ? 'keys.rotate' : 'keys.config', mount, name: a } : unsupported;
    }
    if ((head === 'encrypt' || head === 'decrypt' || head === 'rewrap') && rest.length === 2) {
      return isWrite ? { operation: head, mount, name: a } : unsupported;
    }
    if (head === 'datakey' && rest.length === 3 && b !== undefined && KEY_NAME.test(b) && c === undefined) {
      if (a !== 'plaintext' && a !== 'wrapped') return new TransitRequestError(400, 'invalid type of datakey; must be "plaintext" or "wrapped"');
      return isWrite ? { operation: 'datakey', mount, name: b, variant: a } : unsupported;
    }
    return noRoute;
  };

  const handle = async (r: Route, namespace: string, body: Json, token: string): Promise<Reply> => {
    const warnings = unknownParams(r.operation, body);
    if (r.operation === 'sys.health') {
      return { status: 200, data: { initialized: true, sealed: false, standby: false, version: 'fieldseal-emulator' }, raw: true };
    }
    if (r.operation === 'token.lookup-self' || r.operation === 'token.renew-self') {
      const entry = tokens.get(token)!;
      if (r.operation === 'token.renew-self' && entry.ttlMs !== undefined) {
        const increment = optionalInt(body.increment, 'increment');
        const ms = increment !== undefined && increment > 0 ? Math.min(increment * 1000, entry.ttlMs) : entry.ttlMs;
        entry.expiresAt = Date.now() + ms;
      }
      const ttl = entry.ttlMs === undefined ? 0 : Math.max(0, Math.ceil((entry.expiresAt - Date.now()) / 1000));
      if (r.operation === 'token.lookup-self') {
        return { status: 200, data: { ttl, renewable: entry.ttlMs !== undefined, policies: ['root'], type: 'service' } };
      }
      return { status: 200, data: null, auth: { client_token: token, policies: ['root'], lease_duration: ttl, renewable: entry.ttlMs !== undefined } };
    }
    const m = mountOf(namespace, r.mount);
    switch (r.operation) {
      case 'keys.list': {
        const keys = [...m.keys.keys()].sort();
        if (keys.length === 0) return { status: 404 };
        return { status: 200, data: { keys } };
      }
      case 'keys.create': {
        if (body.derived !== undefined && typeof body.derived !== 'boolean') throw new TransitRequestError(400, 'derived must be a boolean');
        const type = body.type === undefined ? undefined : body.type;
        if (type !== undefined && typeof type !== 'string') throw new TransitRequestError(400, 'error converting input for field "type": not a string');
        // Vault answers 200 with the key (as a read would), also for a key that already exists.
        const key = m.create(r.name, { type: type as TransitKeyOptions['type'], derived: body.derived === true });
        return { status: 200, data: keyData(key.info()), warnings };
      }
      case 'keys.read': {
        const key = m.keys.get(r.name);
        if (key === undefined) return { status: 404 };
        return { status: 200, data: keyData(key.info()), warnings };
      }
      case 'keys.delete': {
        const key = m.keys.get(r.name);
        if (key === undefined) return { status: 204 };
        if (!key.deletionAllowed) throw new TransitRequestError(400, 'deletion is not allowed for this key');
        m.keys.delete(r.name);
        return { status: 204 };
      }
      case 'keys.rotate': {
        const key = m.keys.get(r.name);
        if (key === undefined) throw new TransitRequestError(400, 'key not found');
        key.rotate();
        return { status: 200, data: keyData(key.info()), warnings };
      }
      case 'keys.config': {
        const key = m.keys.get(r.name);
        if (key === undefined) throw new TransitRequestError(400, 'no existing key named ' + r.name + ' could be found');
        key.configure({
          minDecryptionVersion: optionalInt(body.min_decryption_version, 'min_decryption_version'),
          minEncryptionVersion: optionalInt(body.min_encryption_version, 'min_encryption_version'),
          deletionAllowed: optionalBool(body.deletion_allowed, 'deletion_allowed'),
        });
        return { status: 200, data: keyData(key.info()), warnings };
      }
      case 'encrypt':
        return batchable(body, warnings, (item, first) => {
          if (item.plaintext === undefined || item.plaintext === null) throw new TransitRequestError(400, 'missing plaintext to encrypt');
          const plaintext = decodeField(item.plaintext, 'plaintext') ?? Buffer.alloc(0);
          const context = decodeField(item.context, 'context');
          const aad = decodeField(item.associated_data, 'associated_data');
          let key = m.keys.get(r.name);
          if (key === undefined) {
            if (!upsert) throw new TransitRequestError(400, 'encryption key not found');
            key = m.create(r.name, { derived: first && context !== undefined });
          }
          const out = key.encrypt(plaintext, context, aad, optionalInt(item.key_version, 'key_version') ?? 0);
          return { ciphertext: out.ciphertext, key_version: out.version };
        });
      case 'decrypt':
        return batchable(body, warnings, (item) => {
          const key = m.get(r.name);
          const ciphertext = requireString(item.ciphertext, 'ciphertext', 'missing ciphertext to decrypt');
          const out = key.decrypt(ciphertext, decodeField(item.context, 'context'), decodeField(item.associated_data, 'associated_data'));
          return { plaintext: out.plaintext.toString('base64') };
        });
      case 'rewrap':
        return batchable(body, warnings, (item) => {
          const key = m.get(r.name);
          const ciphertext = requireString(item.ciphertext, 'ciphertext', 'missing ciphertext to decrypt');
          const context = decodeField(item.context, 'context');
          // Vault's rewrap has no associated_data parameter (vault#31791): AAD-bound ciphertexts fail here.
          const inner = key.decrypt(ciphertext, context, undefined);
          try {
            const out = key.encrypt(inner.plaintext, context, undefined, optionalInt(item.key_version, 'key_version') ?? 0);
            return { ciphertext: out.ciphertext, key_version: out.version };
          } finally {
            inner.plaintext.fill(0);
          }
        });
      case 'datakey': {
        const key = m.get(r.name);
        const bits = optionalInt(body.bits, 'bits') ?? 256;
        if (bits !== 128 && bits !== 256 && bits !== 512) throw new TransitRequestError(400, 'invalid bits length, only 128, 256 and 512 are supported');
        const dataKey = randomBytes(bits / 8);
        try {
          const out = key.encrypt(dataKey, decodeField(body.context, 'context'), undefined, optionalInt(body.key_version, 'key_version') ?? 0);
          const data: Json = { ciphertext: out.ciphertext, key_version: out.version };
          if (r.variant === 'plaintext') data.plaintext = dataKey.toString('base64');
          return { status: 200, data, warnings };
        } finally {
          dataKey.fill(0);
        }
      }
    }
  };

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const fullPath = url.pathname.startsWith('/v1/') ? trimSlashes(url.pathname.slice(4)) : undefined;
    const split = fullPath === undefined ? undefined : splitNamespace(fullPath);
    const path = split?.inner;
    const found = path === undefined ? new TransitRequestError(404, 'no handler for route') : route(method, path, url.searchParams);
    if (found instanceof TransitRequestError) return sendErrors(res, found.status, [found.message]);

    counters.increment(found.operation);
    const fault = faults.take(found.operation);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'blackhole') {
      req.resume(); // read the request, answer nothing; close() ends the connection
      return;
    }
    if (fault?.kind === 'delay') await delay(fault.delayMs ?? 100);
    if (fault?.kind === 'throttle') return sendErrors(res, 429, [`request path "${path}": rate limit quota exceeded`]);
    if (fault?.kind === 'server-error') {
      const status = fault.status ?? 500;
      return sendErrors(res, status, [status === 503 ? 'Vault is sealed' : 'internal error']);
    }

    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch {
      return sendErrors(res, 413, ['http: request body too large']);
    }
    const token = found.operation === 'sys.health' ? '' : liveToken(req.headers['x-vault-token']);
    // Vault 1.17+: a missing, expired, revoked or unknown token gets both errors, as a multi-error.
    if (token === undefined) return sendErrors(res, 403, [multiError(['permission denied', 'invalid token'])]);

    let body: Json = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Json;
      } catch {
        return sendErrors(res, 400, ['failed to parse JSON input']);
      }
    }
    const nsHeader = req.headers['x-vault-namespace'];
    const namespace = [typeof nsHeader === 'string' ? trimSlashes(nsHeader) : '', split?.namespace ?? ''].filter((n) => n !== '').join('/');

    let reply: Reply;
    try {
      reply = await handle(found, namespace, body, token);
    } catch (err) {
      if (err instanceof TransitRequestError) return sendErrors(res, err.status, [err.message]);
      return sendErrors(res, 500, ['internal error']);
    }
    if (fault?.kind === 'corrupt-response' && reply.data) corrupt(reply.data);
    if (reply.status === 204) {
      res.writeHead(204).end();
      return;
    }
    if (reply.status === 404 && reply.data === undefined) return sendErrors(res, 404, []);
    if (reply.raw) return sendJson(res, reply.status, reply.data);
    sendJson(res, reply.status, envelope(reply.data ?? null, reply.warnings, reply.auth));
  };

  const server = await startLoopbackHttpServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) sendErrors(res, 500, ['internal error']);
      else res.destroy();
    });
  }, options);

  return {
    url: server.url,
    port: server.port,
    counters,
    faults,
    token: primaryToken,
    issueToken(token = newToken(), opts = {}) {
      return addToken(token, opts.ttlSeconds);
    },
    revokeToken(token: string) {
      tokens.delete(token);
    },
    createKey(name, opts = {}) {
      if (!KEY_NAME.test(name)) throw new Error('invalid key name');
      return locate(opts).create(name, { type: opts.type, derived: opts.derived }).info();
    },
    rotateKey(name, location) {
      const key: TransitKey = locate(location).get(name);
      key.rotate();
      return key.info();
    },
    keyInfo(name, location) {
      return locate(location).keys.get(name)?.info();
    },
    close: () => server.close(),
  };
}

/** Run one item, or every item of `batch_input`, with Vault's batch semantics. */
function batchable(body: Json, warnings: string[] | undefined, run: (item: Json, first: boolean) => Json): Reply {
  const batch = body.batch_input;
  if (batch === undefined || batch === null) return { status: 200, data: run(body, true), warnings };
  if (!Array.isArray(batch) || batch.length === 0) throw new TransitRequestError(400, 'missing batch input to process');
  let failed = 0;
  const results = batch.map((item: unknown, i) => {
    const entry = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Json) : {};
    const reference = typeof entry.reference === 'string' ? { reference: entry.reference } : {};
    try {
      return { ...run(entry, i === 0), ...reference };
    } catch (err) {
      failed += 1;
      const message = err instanceof TransitRequestError ? err.message : 'internal error';
      return { error: message, ...reference };
    }
  });
  let status = 200;
  if (failed > 0) {
    const partial = optionalInt(body.partial_failure_response_code, 'partial_failure_response_code');
    status = failed < batch.length && partial !== undefined ? partial : 400;
  }
  return { status, data: { batch_results: results }, warnings };
}

const KNOWN_PARAMS: Record<VaultTransitOperation, readonly string[]> = {
  'sys.health': [],
  'token.lookup-self': [],
  'token.renew-self': ['increment'],
  'keys.create': ['type', 'derived', 'convergent_encryption', 'exportable', 'allow_plaintext_backup', 'auto_rotate_period', 'key_size'],
  'keys.read': [],
  'keys.list': [],
  'keys.delete': [],
  'keys.rotate': ['managed_key_name', 'managed_key_id'],
  'keys.config': ['min_decryption_version', 'min_encryption_version', 'deletion_allowed', 'exportable', 'allow_plaintext_backup', 'auto_rotate_period'],
  encrypt: ['plaintext', 'context', 'associated_data', 'key_version', 'nonce', 'type', 'convergent_encryption', 'batch_input', 'partial_failure_response_code'],
  decrypt: ['ciphertext', 'context', 'associated_data', 'nonce', 'batch_input', 'partial_failure_response_code'],
  rewrap: ['ciphertext', 'context', 'key_version', 'nonce', 'batch_input'],
  datakey: ['context', 'nonce', 'bits', 'key_version'],
};

/** Vault answers unknown parameters with a warning, not an error. */
function unknownParams(operation: VaultTransitOperation, body: Json): string[] | undefined {
  const known = KNOWN_PARAMS[operation];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  return unknown.length === 0 ? undefined : [`Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`];
}

function keyData(info: TransitKeyInfo): Json {
  return {
    name: info.name,
    type: info.type,
    derived: info.derived,
    kdf: info.derived ? 'hkdf_sha256' : undefined,
    keys: info.versions,
    latest_version: info.latestVersion,
    min_decryption_version: info.minDecryptionVersion,
    min_encryption_version: info.minEncryptionVersion,
    min_available_version: 0,
    deletion_allowed: info.deletionAllowed,
    exportable: false,
    allow_plaintext_backup: false,
    convergent_encryption: false,
    auto_rotate_period: 0,
    imported_key: false,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    supports_signing: false,
  };
}

function envelope(data: Json | null, warnings: string[] | undefined, auth: Json | undefined): Json {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: warnings ?? null,
    auth: auth ?? null,
    mount_type: 'transit',
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Vault's text for an error built with go-multierror (`1 error occurred:\n\t* …\n\n`). */
function multiError(errors: readonly string[]): string {
  return `${errors.length === 1 ? '1 error' : `${errors.length} errors`} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

function sendErrors(res: http.ServerResponse, status: number, errors: string[]): void {
  sendJson(res, status, { errors });
}

function optionalInt(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TransitRequestError(400, `error converting input for field "${field}": not an integer`);
  return n;
}

function optionalBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new TransitRequestError(400, `error converting input for field "${field}": not a boolean`);
  return value;
}

function requireString(value: unknown, field: string, missing: string): string {
  if (value === undefined || value === null || value === '') throw new TransitRequestError(400, missing);
  if (typeof value !== 'string') throw new TransitRequestError(400, `error converting input for field "${field}": not a string`);
  return value;
}

/** Flip one bit of the first ciphertext/plaintext in a response, to exercise integrity handling. */
function corrupt(data: Json): void {
  const target = Array.isArray(data.batch_results) ? (data.batch_results[0] as Json | undefined) : data;
  if (target === undefined) return;
  for (const field of ['plaintext', 'ciphertext'] as const) {
    const value = target[field];
    if (typeof value !== 'string') continue;
    const prefixEnd = value.startsWith('vault:') ? value.lastIndexOf(':') + 1 : 0;
    const raw = Buffer.from(value.slice(prefixEnd), 'base64');
    if (raw.length === 0) continue;
    raw[raw.length - 1]! ^= 0x01;
    target[field] = value.slice(0, prefixEnd) + raw.toString('base64');
    return;
  }
}
