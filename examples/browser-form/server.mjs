// The server side of the browser form: serves the page, its bundled script and the RSA public key,
// and opens the sealed signups with the private key, which never leaves this process.
//
// Run: npx tsc -b packages/core && node examples/browser-form/server.mjs   (see README.md in this folder)
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { RsaKeyring, decrypt, inspect, isFieldsealError } from '@fieldseal/core';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Pointers (RFC 6901) that must arrive sealed; a signup with any of them in the clear is refused. */
export const SEALED_POINTERS = ['/email', '/ssn', '/card/number'];
const CONTEXT = { form: 'signup-v1' };
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

/** Bundle client.js for the browser, as an application's own bundler would. */
export async function bundleClient() {
  const result = await esbuild.build({ entryPoints: [here('./client.js')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, write: false, logLevel: 'silent' });
  return result.outputFiles[0].text;
}

/**
 * The request handler.
 * @param {{ keyring: RsaKeyring, html: string, script: string, publicKeyPem: string }} options
 */
export function createApp({ keyring, html, script, publicKeyPem }) {
  const signups = new Map(); // id -> opened signup; a real app would store the sealed document

  async function handle(req, res) {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method === 'GET' && path === '/') return send(res, 200, html, 'text/html; charset=utf-8');
      if (req.method === 'GET' && path === '/app.js') return send(res, 200, script, 'text/javascript; charset=utf-8');
      if (req.method === 'GET' && path === '/public-key.pem') return send(res, 200, publicKeyPem, 'application/x-pem-file');
      if (req.method === 'POST' && path === '/api/signups') {
        const sealed = await readJson(req);
        const opened = await openSignup(keyring, sealed);
        const id = randomUUID();
        signups.set(id, opened);
        console.log(`signup ${id} received (${Object.keys(opened).join(', ')})`); // field names only, never values
        return sendJson(res, 201, { id, received: summary(opened) });
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
  const app = createApp({
    keyring,
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
