// Runs the example as its README says (node examples/browser-form/server.mjs) and submits the form
// from real headless Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RsaKeyring, decrypt, encrypt } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { buildCoreDist, repoRoot } from '../../test/browser/bundle.mjs';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/browser/chromium.mjs';

const dir = mkdtempSync(join(tmpdir(), 'fieldseal-browser-form-'));
const keyFile = join(dir, 'private.pem');
const serverPath = fileURLToPath(new URL('./server.mjs', import.meta.url));
let child: ChildProcess;
let output = '';
let base: string;
let browser: Browser;
let page: Page;

const signup = { name: 'Grace Hopper', email: 'grace@navy.example.test', ssn: '219-09-9999', card: '4111111111111111', expiry: '12/29' };

function post(body: unknown) {
  return fetch(`${base}/api/signups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as JsonObject }));
}

beforeAll(async () => {
  if (SKIP_BROWSER_TESTS) return;
  buildCoreDist();
  child = spawn(process.execPath, [serverPath], { cwd: repoRoot, env: { ...process.env, PORT: '0', FIELDSEAL_RSA_KEY_FILE: keyFile, FIELDSEAL_STORAGE_KEY_FILE: join(dir, 'storage-key.json') }, stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      output += c;
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  browser = await launchChromium();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  child?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(SKIP_BROWSER_TESTS)('examples/browser-form', () => {
  it('creates the private key file with mode 0600 and serves only the public key', async () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const pem = await (await fetch(`${base}/public-key.pem`)).text();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pem).not.toContain('PRIVATE');
    expect(await RsaKeyring.fingerprint(pem)).toBe((await RsaKeyring.fromPrivateKey(readFileSync(keyFile, 'utf8'))).keyId);
  });

  it('the browser seals the form, the server opens it; only ciphertext crosses the wire', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base + '/');
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Ready.');
    await page.fill('#name', signup.name);
    await page.fill('#email', signup.email);
    await page.fill('#ssn', signup.ssn);
    await page.fill('#card', signup.card);
    await page.fill('#expiry', signup.expiry);
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/signups') && r.method() === 'POST'), page.click('#send')]);
    await page.waitForFunction(() => /^(Received|Could not)/.test(document.getElementById('status')?.textContent ?? ''));
    expect(await page.textContent('#status')).toMatch(/^Received as signup [0-9a-f-]{36}: Grace Hopper, email at navy\.example\.test, SSN ending 9999\.$/);
    expect(errors).toEqual([]);

    const wire = request.postData() ?? '';
    for (const secret of [signup.email, signup.ssn, signup.card]) expect(wire).not.toContain(secret);
    // What the browser sent also opens here, with the key file and this process's (node:crypto) core.
    const keyring = await RsaKeyring.fromPrivateKey(readFileSync(keyFile, 'utf8'));
    expect(await decrypt(JSON.parse(wire) as JsonObject, { keyring, context: { form: 'signup-v1' } })).toEqual({
      name: signup.name,
      email: signup.email,
      ssn: signup.ssn,
      card: { number: signup.card, expiry: signup.expiry },
    });
    expect(output).toMatch(/signup [0-9a-f-]{36} received \(name, email, ssn, card\)/);
    for (const secret of [signup.email, signup.ssn, signup.card]) expect(output).not.toContain(secret);
  });

  it('refuses a signup whose PII arrives unsealed or partly sealed', async () => {
    const plain = await post({ name: 'x', email: 'a@b.test', ssn: '123-45-6789', card: { number: '4111' } });
    expect(plain.status).toBe(400);
    const pem = await (await fetch(`${base}/public-key.pem`)).text();
    const keyring = await RsaKeyring.fromPublicKey(pem);
    const partly = await encrypt({ name: 'x', email: 'a@b.test', ssn: '123-45-6789', card: { number: '4111' } }, { keyring, paths: ['$.email'], context: { form: 'signup-v1' } });
    const res = await post(partly);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('these fields must be sealed: /ssn, /card/number');
  });

  it('refuses a signup sealed with another key or for another form, with a typed code', async () => {
    const doc = { name: 'x', email: 'a@b.test', ssn: '123-45-6789', card: { number: '4111' } };
    const paths = ['$.email', '$.ssn', '$.card.number'];
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const wrongKey = await post(await encrypt(doc, { keyring: await RsaKeyring.fromPublicKey(other), paths, context: { form: 'signup-v1' } }));
    expect(wrongKey).toMatchObject({ status: 400, body: { code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' } });
    const pem = await (await fetch(`${base}/public-key.pem`)).text();
    const wrongForm = await post(await encrypt(doc, { keyring: await RsaKeyring.fromPublicKey(pem), paths, context: { form: 'admin' } }));
    expect(wrongForm.status).toBe(400);
    expect(wrongForm.body.code).toMatch(/^ERR_FIELDSEAL_(CONTEXT_MISMATCH|DECRYPTION_FAILED)$/);
  });
});
