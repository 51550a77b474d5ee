// A small customer-records API: PII is sealed before it is written to PostgreSQL and opened on
// read. Each record is bound to its tenant (stored in the header) and to its row id (required but
// not stored), so a sealed record copied to another row or tenant no longer opens.
//
// Run: npx tsc -b packages/core && node examples/server-api/server.mjs   (see README.md in this folder)
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CachingKeyring, LocalKeyring, decrypt, encrypt, isFieldsealError } from '@fieldseal/core';
import { PII_PATHS, requestLogger } from './logging.mjs';

/** The fields sealed in every record (and kept out of the logs); everything else stays queryable in the jsonb column. */
export { PII_PATHS };

const MAX_BODY_BYTES = 1024 * 1024;
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const TENANT = /^[A-Za-z0-9_-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class HttpError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The request handler and a schema helper, over a pg pool and any fieldseal keyring.
 * @param {{ pool: pg.Pool, keyring: import('@fieldseal/core').Keyring, table?: string, logger?: import('pino').Logger }} options
 *   `logger`: request lines carry the record under `record`; build it with `requestLogger` (logging.mjs) so PII stays out.
 */
export function createApp({ pool, keyring, table = 'customers', logger }) {
  if (!TABLE_NAME.test(table)) throw new Error('table must be a plain lower-case SQL identifier');

  const seal = (tenant, id, record) => encrypt(record, { keyring, paths: PII_PATHS, context: { tenant }, requiredContext: { rowId: id } });
  const open = (tenant, id, doc) => decrypt(doc, { keyring, context: { tenant, rowId: id } });

  const routes = [
    ['POST', /^\/tenants\/([^/]+)\/customers$/, async (req, [tenant]) => {
      const record = await readJson(req);
      const id = randomUUID();
      const sealed = await seal(tenant, id, record);
      await pool.query(`INSERT INTO ${table} (id, tenant, doc) VALUES ($1, $2, $3)`, [id, tenant, sealed]);
      logger?.info({ method: 'POST', tenant, id, record }, 'customer created');
      return [201, { id }];
    }],
    ['GET', /^\/tenants\/([^/]+)\/customers$/, async (_req, [tenant]) => {
      const { rows } = await pool.query(`SELECT id, doc FROM ${table} WHERE tenant = $1 ORDER BY created_at, id LIMIT 100`, [tenant]);
      return [200, await Promise.all(rows.map(async (r) => ({ id: r.id, ...(await open(tenant, r.id, r.doc)) })))];
    }],
    ['GET', /^\/tenants\/([^/]+)\/customers\/([^/]+)$/, async (_req, [tenant, id]) => {
      const { rows } = await pool.query(`SELECT doc FROM ${table} WHERE tenant = $1 AND id = $2`, [tenant, checkId(id)]);
      if (rows.length === 0) throw new HttpError(404, 'no such customer');
      return [200, { id, ...(await open(tenant, id, rows[0].doc)) }];
    }],
    ['PUT', /^\/tenants\/([^/]+)\/customers\/([^/]+)$/, async (req, [tenant, id]) => {
      const record = await readJson(req);
      const sealed = await seal(tenant, checkId(id), record);
      const { rowCount } = await pool.query(`UPDATE ${table} SET doc = $3 WHERE tenant = $1 AND id = $2`, [tenant, id, sealed]);
      if (rowCount === 0) throw new HttpError(404, 'no such customer');
      return [200, { id }];
    }],
  ];

  async function handle(req, res) {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      for (const [method, pattern, run] of routes) {
        const m = pattern.exec(path);
        if (m === null || req.method !== method) continue;
        const params = m.slice(1).map(decodeURIComponent);
        if (!TENANT.test(params[0])) throw new HttpError(400, 'invalid tenant id');
        const [status, body] = await run(req, params);
        return send(res, status, body);
      }
      throw new HttpError(404, 'not found');
    } catch (err) {
      const [status, body] = toResponse(err);
      if (status >= 500) console.error(`${req.method} ${req.url}: ${err?.code ?? err?.name ?? 'error'}`); // codes only: no data in logs
      return send(res, status, body);
    }
  }

  async function ensureSchema() {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY, tenant text NOT NULL, doc jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }

  return { handle, ensureSchema };
}

function checkId(id) {
  if (!UUID.test(id)) throw new HttpError(404, 'no such customer');
  return id;
}

/** Map errors to responses that never echo record data. */
function toResponse(err) {
  if (err instanceof HttpError) return [err.status, { error: err.message }];
  if (isFieldsealError(err)) {
    switch (err.code) {
      // Bad input from the client.
      case 'ERR_FIELDSEAL_MALFORMED':
      case 'ERR_FIELDSEAL_LIMIT_EXCEEDED':
      case 'ERR_FIELDSEAL_INVALID_ARGUMENT':
        return [400, { error: 'the record cannot be sealed', code: err.code }];
      // Stored data that does not verify for this tenant and row: tampered, moved or corrupted.
      case 'ERR_FIELDSEAL_DECRYPTION_FAILED':
      case 'ERR_FIELDSEAL_CONTEXT_MISMATCH':
      case 'ERR_FIELDSEAL_INCOMPLETE':
        return [500, { error: 'the stored record failed its integrity check', code: err.code }];
      // Either the key service is down (retry later) or it refused this record's wrapped key: a
      // local or KMS key bound to the context will not unwrap a record moved to another row.
      case 'ERR_FIELDSEAL_KEY_UNAVAILABLE':
      case 'ERR_FIELDSEAL_PROVIDER': {
        const causes = err.code === 'ERR_FIELDSEAL_PROVIDER' ? [err] : err.reasons.map((r) => r.cause);
        if (causes.some((c) => c?.retryable === true)) return [503, { error: 'the encryption key service is unavailable; retry later', code: err.code }];
        return [500, { error: 'the stored record cannot be opened with this server\'s keys for this row', code: err.code }];
      }
      default:
        return [500, { error: 'internal error', code: err.code }];
    }
  }
  return [500, { error: 'internal error' }];
}

async function readJson(req) {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send application/json');
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'record too large');
    chunks.push(chunk);
  }
  let value;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'a record is a JSON object');
  return value;
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Load the local key file, or create one (mode 0600) on first start. In production use a KMS keyring. */
async function loadKeyring(path) {
  try {
    return LocalKeyring.fromKeyFile(await readFile(path, 'utf8'));
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err;
    const keyring = await LocalKeyring.generate({ name: 'server-api' });
    await writeFile(path, JSON.stringify(keyring.exportKeyFile(), null, 2), { mode: 0o600, flag: 'wx' });
    console.log(`created key file ${path}`);
    return keyring;
  }
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const keyFile = process.env.FIELDSEAL_KEY_FILE ?? join(tmpdir(), 'fieldseal-server-api-example.keys.json');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  // The row id is part of the context, so data keys are never reused on encrypt (encrypt: false);
  // repeated reads of the same record still skip the key service for 5 minutes.
  const keyring = new CachingKeyring({ keyring: await loadKeyring(keyFile), encrypt: false });
  const logger = requestLogger({ mode: process.env.LOG_MODE ?? 'censor', destination: process.stdout, beaconKey: randomBytes(32), keyring });
  const app = createApp({ pool, keyring, table: process.env.TABLE ?? 'customers', logger });
  await app.ensureSchema();
  const server = createServer((req, res) => void app.handle(req, res));
  server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
    const { address, port } = server.address();
    console.log(`listening on http://${address}:${port}`);
  });
  const stop = () => {
    server.close();
    keyring.clear();
    void pool.end();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`server-api failed to start: ${err?.code ?? ''} ${err?.message ?? err}`);
    process.exitCode = 1;
  });
}
