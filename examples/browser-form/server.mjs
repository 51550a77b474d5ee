// The server side of the browser form: serves the page, its bundled script and the RSA public key,
// and opens the sealed signups with the private key, which never leaves this process. Every signup
// is re-sealed on receipt under a symmetric key only this server holds: anyone with the public key
// can make a document the RSA keyring accepts, so what is stored and read back never relies on it.
//
// Run: npx tsc -b packages/core && node examples/browser-form/server.mjs   (see README.md in this folder)
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { LocalKeyring, RsaKeyring, decrypt, encrypt, inspect, isFieldsealError } from '@fieldseal/core';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Pointers (RFC 6901) that must arrive sealed; a signup with any of them in the clear is refused. */
export const SEALED_POINTERS = ['/email', '/ssn', '/card/number'];
const SEALED_PATHS = ['$.email', '$.ssn', '$.card.number'];
const CONTEXT = { form: 'signup-v1' };
/** Context of stored signups: the table is stored, the signup id must be supplied to open one. */
const STORED_CONTEXT = { table: 'signups' };
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Load the private key, or create a 3072-bit pair on first start (PKCS#8 PEM, mode 0600).
 * In production the private key would live in a KMS or a secret store.
 */
export async function loadKeyring(path) {
  let pem;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err;
    const generated = await RsaKeyring.generate({ modulusLength: 3072, extractable: true });
    pem = await generated.exportPrivateKey();
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
    console.log(`created private key file ${path}`);
  }
  return RsaKeyring.fromPrivateKey(pem); // imported non-extractable
}

/**
 * Load the storage key file, or create it on first start (mode 0600). In production this would be a
 * KMS symmetric key or Vault transit key: any keyring whose wrapping only the server can perform.
 */
export async function loadStorageKeyring(path) {
  try {
    return LocalKeyring.fromKeyFile(await readFile(path, 'utf8'));
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err;
  }
  const keyring = await LocalKeyring.generate({ name: 'signups' });
  await writeFile(path, JSON.stringify(keyring.exportKeyFile()), { mode: 0o600, flag: 'wx' });
  console.log(`created storage key file ${path}`);
  return keyring;
}

/** Bundle client.js for the browser, as an application's own bundler would. */
export async function bundleClient() {
  const result = await esbuild.build({ entryPoints: [here('./client.js')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, write: false, logLevel: 'silent' });
  return result.outputFiles[0].text;
}

/**
 * The request handler.
 * @param {{ keyring: RsaKeyring, storageKeyring: LocalKeyring, html: string, script: string, publicKeyPem: string }} options
 */
export function createApp({ keyring, storageKeyring, html, script, publicKeyPem }) {
  const signups = new Map(); // id -> re-sealed signup (a table in a real app)

  async function handle(req, res) {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method === 'GET' && path === '/') return send(res, 200, html, 'text/html; charset=utf-8');
      if (req.method === 'GET' && path === '/app.js') return send(res, 200, script, 'text/javascript; charset=utf-8');
      if (req.method === 'GET' && path === '/public-key.pem') return send(res, 200, publicKeyPem, 'application/x-pem-file');
      if (req.method === 'POST' && path === '/api/signups') {
        const sealed = await readJson(req);
        const id = randomUUID();
        const { opened, stored } = await resealSignup({ keyring, storageKeyring }, sealed, id);
        signups.set(id, stored);
        console.log(`signup ${id} received (${Object.keys(opened).join(', ')})`); // field names only, never values
        return sendJson(res, 201, { id, received: summary(opened) });
      }
      const m = /^\/api\/signups\/([0-9A-Za-z-]{1,64})$/.exec(path);
      if (req.method === 'GET' && m) {
        const stored = signups.get(m[1]);
        if (stored === undefined) return sendJson(res, 404, { error: 'not found' });
        return sendJson(res, 200, { id: m[1], received: summary(await readSignup(storageKeyring, stored, m[1])) });
      }
      return sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
      if (isFieldsealError(err)) {
        // KEY_UNAVAILABLE here usually means a page still holding an old public key: it should reload it.
        const status = err.code === 'ERR_FIELDSEAL_PROVIDER' ? 503 : 400;
        return sendJson(res, status, { error: 'the signup could not be opened', code: err.code });
      }
      console.error(`${req.method} ${req.url}: ${err?.name ?? 'error'}`);
      return sendJson(res, 500, { error: 'internal error' });
    }
  }

  return { handle, signups };
}

/** Open a sealed signup after checking that every PII field arrived sealed. */
export async function openSignup(keyring, sealed) {
  let sealedPointers;
  try {
    sealedPointers = new Set(inspect(sealed).groups.flatMap((g) => g.fields));
  } catch (err) {
    if (isFieldsealError(err)) throw new HttpError(400, 'the signup is not a sealed document');
    throw err;
  }
  const missing = SEALED_POINTERS.filter((p) => !sealedPointers.has(p));
  if (missing.length > 0) throw new HttpError(400, `these fields must be sealed: ${missing.join(', ')}`);
  return decrypt(sealed, { keyring, context: CONTEXT });
}

/**
 * Open a signup sealed in the browser and seal it again under the storage keyring, bound to its id.
 * The browser's document is authenticated only as "made by someone holding the public key", which is
 * everyone; the re-sealed one as "made by this server". Store only the re-sealed one.
 */
export async function resealSignup({ keyring, storageKeyring }, sealed, id) {
  const opened = await openSignup(keyring, sealed);
  const stored = await encrypt(opened, { keyring: storageKeyring, paths: SEALED_PATHS, context: STORED_CONTEXT, requiredContext: { signupId: id } });
  return { opened, stored };
}

/** Open a stored signup: with the storage keyring only, never with the RSA keyring. */
export function readSignup(storageKeyring, stored, id) {
  return decrypt(stored, { keyring: storageKeyring, context: { ...STORED_CONTEXT, signupId: id } });
}

/** Enough to show the signup was opened, without sending the PII back. */
function summary(s) {
  return {
    name: typeof s.name === 'string' ? s.name : '',
    emailDomain: typeof s.email === 'string' ? s.email.slice(s.email.lastIndexOf('@') + 1) : '',
    ssnLast4: typeof s.ssn === 'string' ? s.ssn.slice(-4) : '',
  };
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function readJson(req) {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send application/json');
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'too large');
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error();
    return value;
  } catch {
    throw new HttpError(400, 'the body is not a JSON object');
  }
}

function send(res, status, body, type) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendJson(res, status, body) {
  send(res, status, JSON.stringify(body), 'application/json');
}

async function main() {
  const keyFile = process.env.FIELDSEAL_RSA_KEY_FILE ?? join(tmpdir(), 'fieldseal-browser-form-example.private.pem');
  const keyring = await loadKeyring(keyFile);
  const storageKeyFile = process.env.FIELDSEAL_STORAGE_KEY_FILE ?? join(tmpdir(), 'fieldseal-browser-form-example.storage-key.json');
  const app = createApp({
    keyring,
    storageKeyring: await loadStorageKeyring(storageKeyFile),
    html: await readFile(here('./index.html'), 'utf8'),
    script: await bundleClient(),
    publicKeyPem: await keyring.exportPublicKey('pem'),
  });
  const server = createServer((req, res) => void app.handle(req, res));
  server.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? '127.0.0.1', () => {
    const { address, port } = server.address();
    console.log(`listening on http://${address}:${port}`);
  });
  const stop = () => server.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`browser-form failed to start: ${err?.code ?? ''} ${err?.message ?? err}`);
    process.exitCode = 1;
  });
}
