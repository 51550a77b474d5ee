// Runs the example exactly as its README says (node examples/server-api/server.mjs) against the
// real PostgreSQL, in a table of its own that is dropped afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { buildCoreDist, repoRoot } from '../../test/browser/bundle.mjs';
import { DEFAULT_DATABASE_URL, PgClient } from '../../test/helpers/postgres.js';

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const table = `example_customers_${randomBytes(6).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'fieldseal-server-api-'));
const keyFile = join(dir, 'keys.json');
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url));
const pool = new PgClient({ connectionString: databaseUrl });
const children: ChildProcess[] = [];
let base: string;
let output = '';

const alice = {
  name: 'Alice Example',
  country: 'DE',
  ssn: '078-05-1120',
  email: 'alice@example.test',
  phone: '+49 30 1234567',
  dateOfBirth: '1990-04-01',
  cards: [{ number: '4111111111111111', expiry: '12/29' }, { number: '5500000000000004', expiry: '01/30' }],
};
const bob = { name: 'Bob Example', country: 'FR', ssn: '219-09-9999', email: 'bob@example.test' };
const secrets = ['078-05-1120', 'alice@example.test', '+49 30 1234567', '1990-04-01', '4111111111111111', '5500000000000004'];

/** Start the example as a user would; resolve with its URL once it listens. */
function startServer(): Promise<string> {
  const child = spawn(process.execPath, [serverPath], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', TABLE: table, FIELDSEAL_KEY_FILE: keyFile, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(base + path, { method, headers: body === undefined ? {} : { 'content-type': contentType }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as JsonObject) : undefined };
}

async function storedDoc(id: string): Promise<JsonObject> {
  const { rows } = await pool.query(`SELECT doc FROM ${table} WHERE id = $1`, [id]);
  return rows[0].doc as JsonObject;
}

beforeAll(async () => {
  buildCoreDist();
  await pool.connect();
  base = await startServer();
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/server-api', () => {
  let aliceId: string;
  let bobId: string;

  it('creates the key file with mode 0600 on first start', () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(output).toContain(`created key file ${keyFile}`);
  });

  it('seals PII before it reaches PostgreSQL and opens it on read', async () => {
    const created = await call('POST', '/tenants/acme/customers', alice);
    expect(created.status).toBe(201);
    aliceId = created.json!.id as string;
    bobId = (await call('POST', '/tenants/acme/customers', bob)).json!.id as string;

    const doc = await storedDoc(aliceId);
    const raw = JSON.stringify(doc);
    for (const s of secrets) expect(raw).not.toContain(s);
    expect(doc.name).toBe('Alice Example'); // not PII here: stays queryable
    expect(doc.country).toBe('DE');
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE doc->>'country' = 'DE'`);
    expect(rows[0].n).toBe(1);

    const read = await call('GET', `/tenants/acme/customers/${aliceId}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual({ id: aliceId, ...alice });
  });

  it('binds the tenant (stored) and the row id (required, not stored)', async () => {
    const doc = await storedDoc(aliceId);
    const info = inspect(doc);
    expect(info.context).toEqual({ tenant: 'acme' });
    expect(info.requiredContextKeys).toEqual(['rowId']);
    expect(JSON.stringify(doc)).not.toContain(aliceId);
    expect(info.groups[0]?.fields).toEqual(['/ssn', '/email', '/phone', '/dateOfBirth', '/cards/0/number', '/cards/1/number']);
  });

  it('lists a tenant\'s records, and another tenant sees none of them', async () => {
    const list = await call('GET', '/tenants/acme/customers');
    expect(list.status).toBe(200);
    expect(list.json).toEqual([
      { id: aliceId, ...alice },
      { id: bobId, ...bob },
    ]);
    expect((await call('GET', '/tenants/globex/customers')).json).toEqual([]);
    expect((await call('GET', `/tenants/globex/customers/${aliceId}`)).status).toBe(404);
  });

  it('a sealed record copied onto another row does not open there, and the error leaks nothing', async () => {
    await pool.query(`UPDATE ${table} SET doc = (SELECT doc FROM ${table} WHERE id = $1) WHERE id = $2`, [aliceId, bobId]);
    const res = await call('GET', `/tenants/acme/customers/${bobId}`);
    // The local keyring binds the full context (row id included) into its key wrap, so it is the
    // key unwrap that refuses; with a keyring that does not, the header MAC would.
    expect(res.status).toBe(500);
    expect(res.json!.code).toMatch(/^ERR_FIELDSEAL_(KEY_UNAVAILABLE|DECRYPTION_FAILED|CONTEXT_MISMATCH)$/);
    for (const s of secrets) expect(res.text).not.toContain(s);
    for (const s of secrets) expect(output).not.toContain(s);
    // Writing through the API re-seals Bob under his own row id.
    expect((await call('PUT', `/tenants/acme/customers/${bobId}`, bob)).status).toBe(200);
    expect((await call('GET', `/tenants/acme/customers/${bobId}`)).json).toEqual({ id: bobId, ...bob });
  });

  it('a record copied to another tenant does not open there', async () => {
    await pool.query(`INSERT INTO ${table} (id, tenant, doc) SELECT gen_random_uuid(), 'globex', doc FROM ${table} WHERE id = $1`, [aliceId]);
    const res = await call('GET', '/tenants/globex/customers');
    expect(res.status).toBe(500);
    expect(res.json!.code).toMatch(/^ERR_FIELDSEAL_(DECRYPTION_FAILED|CONTEXT_MISMATCH)$/);
    await pool.query(`DELETE FROM ${table} WHERE tenant = 'globex'`);
  });

  it('a flipped character in a stored ciphertext is detected', async () => {
    const id = (await call('POST', '/tenants/tamper/customers', alice)).json!.id as string;
    const doc = await storedDoc(id);
    const ssn = doc.ssn as string;
    const i = ssn.length - 3;
    await pool.query(`UPDATE ${table} SET doc = $2 WHERE id = $1`, [id, { ...doc, ssn: ssn.slice(0, i) + (ssn[i] === 'A' ? 'B' : 'A') + ssn.slice(i + 1) }]);
    const res = await call('GET', `/tenants/tamper/customers/${id}`);
    expect(res.status).toBe(500);
    expect(res.json!.code).toBe('ERR_FIELDSEAL_DECRYPTION_FAILED');
    await pool.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
  });

  it('rejects bad input with 4xx and typed codes', async () => {
    expect((await call('POST', '/tenants/acme/customers', '{not json')).status).toBe(400);
    expect((await call('POST', '/tenants/acme/customers', [1, 2])).status).toBe(400);
    expect((await call('POST', '/tenants/acme/customers', alice, 'text/plain')).status).toBe(415);
    expect((await call('POST', '/tenants/bad%20tenant!/customers', alice)).status).toBe(400);
    const reserved = await call('POST', '/tenants/acme/customers', { ...alice, _fieldseal: 'x' });
    expect(reserved.status).toBe(400);
    expect(reserved.json!.code).toMatch(/^ERR_FIELDSEAL_/);
    expect((await call('POST', '/tenants/acme/customers', { blob: 'x'.repeat(1024 * 1024 + 1) })).status).toBe(413);
    expect((await call('GET', '/tenants/acme/customers/not-a-uuid')).status).toBe(404);
    expect((await call('DELETE', `/tenants/acme/customers/${aliceId}`)).status).toBe(404);
  });

  it('after a restart with the same key file, stored records still open', async () => {
    children[0]!.kill('SIGTERM');
    await new Promise((r) => children[0]!.once('exit', r));
    output = '';
    base = await startServer();
    expect(output).not.toContain('created key file');
    expect((await call('GET', `/tenants/acme/customers/${aliceId}`)).json).toEqual({ id: aliceId, ...alice });
  });
});
