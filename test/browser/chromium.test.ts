// @fieldseal/core in real headless Chromium (WebCrypto backend) against Node (node:crypto backend).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring, RsaKeyring, decrypt, encrypt } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { buildCoreDist, bundleForBrowser } from './bundle.mjs';
import { launchChromium, SKIP_BROWSER_TESTS } from './chromium.mjs';

const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const privateJwk = pair.privateKey.export({ format: 'jwk' });
const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

let browser: Browser;
let tab: Page;
let origin: string;
let server: ReturnType<typeof createServer>;
const submissions: string[] = [];
const requests: string[] = [];
const pageErrors: string[] = [];

/** A document with every JSON type, non-ASCII text and a nested array, to catch encoding differences between the backends. */
const rich = {
  id: 7,
  name: 'Zoë Ångström',
  ssn: '078-05-1120',
  email: 'zoë@example.test',
  tags: ['a', 'ß', '😀'],
  card: { number: '4111 1111 1111 1111', expiry: '12/29', primary: true, limit: 1234.5, note: null },
  history: [{ ip: '203.0.113.7' }, { ip: '2001:db8::1' }],
};
const richPaths = ['$.ssn', '$.email', '$.card', '$.history[*].ip', '$.tags'];

beforeAll(async () => {
  if (SKIP_BROWSER_TESTS) return;
  buildCoreDist();
  const bundle = await bundleForBrowser({ minify: false });
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'GET' && req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    if (req.method === 'GET' && req.url === '/fieldseal.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.code);
    if (req.method === 'GET' && req.url === '/public-key') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(publicPem);
    if (req.method === 'POST' && req.url === '/submit') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        submissions.push(body);
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  tab = await browser.newPage();
  tab.on('pageerror', (e) => pageErrors.push(String(e)));
  tab.on('request', (r) => {
    if (!r.url().startsWith(origin)) requests.push(`OUTSIDE ${r.url()}`);
  });
  await tab.goto(origin + '/');
  await tab.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

/** Run fieldseal inside the page. Arguments and results cross as JSON. */
function inPage<A, R>(fn: (fs: typeof import('@fieldseal/core'), arg: A) => Promise<R>, arg: A): Promise<R> {
  return tab.evaluate(
    async ({ source, arg }) => {
      const fs = (window as unknown as { fieldseal: typeof import('@fieldseal/core') }).fieldseal;
      // eslint-disable-next-line no-new-func
      const f = new Function('fs', 'arg', `return (${source})(fs, arg);`) as (fs: unknown, arg: unknown) => Promise<unknown>;
      return f(fs, arg);
    },
    { source: fn.toString(), arg },
  ) as Promise<R>;
}

describe.skipIf(SKIP_BROWSER_TESTS)('@fieldseal/core in headless Chromium', () => {
  it('runs on WebCrypto with no Node globals', async () => {
    const env = await tab.evaluate(() => ({
      buffer: typeof (globalThis as { Buffer?: unknown }).Buffer,
      process: typeof (globalThis as { process?: unknown }).process,
      subtle: typeof crypto.subtle,
      secure: isSecureContext,
      ua: navigator.userAgent,
    }));
    expect(env).toMatchObject({ buffer: 'undefined', process: 'undefined', subtle: 'object', secure: true });
    expect(env.ua).toMatch(/HeadlessChrome|Chrome/);
  });

  it('a form sealed in the browser with only the public key is opened by the server with the private key', async () => {
    submissions.length = 0;
    await tab.fill('#name', 'Ada Lovelace');
    await tab.fill('#email', 'ada@example.test');
    await tab.fill('#ssn', '078-05-1120');
    await tab.fill('#card', '4111111111111111');
    await tab.click('#send');
    await tab.waitForFunction(() => document.getElementById('status')?.textContent !== 'sealing');
    expect(await tab.textContent('#status')).toBe('sent');
    expect(submissions).toHaveLength(1);
    const body = submissions[0]!;
    for (const secret of ['078-05-1120', 'ada@example.test', '4111111111111111']) expect(body).not.toContain(secret);
    const sealed = JSON.parse(body) as JsonObject;
    expect(sealed.name).toBe('Ada Lovelace'); // not selected, stays readable
    const keyring = await RsaKeyring.fromPrivateKey(privatePem);
    expect(await decrypt(sealed, { keyring, context: { form: 'signup' } })).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.test',
      ssn: '078-05-1120',
      card: { number: '4111111111111111' },
    });
    // The context is bound: the same document presented as another form does not open.
    await expect(decrypt(sealed, { keyring, context: { form: 'other' } })).rejects.toHaveProperty('code', expect.stringMatching(/^ERR_FIELDSEAL_(CONTEXT_MISMATCH|DECRYPTION_FAILED)$/));
  });

  it('the page cannot open what it sealed: a public-key keyring says so with ERR_FIELDSEAL_KEY_UNAVAILABLE', async () => {
    const result = await inPage(
      async (fs, { pem }) => {
        const keyring = await fs.RsaKeyring.fromPublicKey(pem);
        const sealed = await fs.encrypt({ ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'] });
        try {
          await fs.decrypt(sealed, { keyring });
          return 'opened';
        } catch (err) {
          return (err as { code: string }).code;
        }
      },
      { pem: publicPem },
    );
    expect(result).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  it('cross-check, RSA: sealed in Chromium opens in Node, sealed in Node opens in Chromium', async () => {
    const fromBrowser = await inPage(
      async (fs, { pem, doc, paths }) => fs.encrypt(doc, { keyring: await fs.RsaKeyring.fromPublicKey(pem), paths, context: { tenant: 't1' }, requiredContext: { rowId: '42' } }),
      { pem: publicPem, doc: rich, paths: richPaths },
    );
    expect(JSON.stringify(fromBrowser)).not.toContain('078-05-1120');
    const nodeKeyring = await RsaKeyring.fromPrivateKey(privatePem);
    expect(await decrypt(fromBrowser, { keyring: nodeKeyring, context: { tenant: 't1', rowId: '42' } })).toEqual(rich);

    const fromNode = await encrypt(rich, { keyring: await RsaKeyring.fromPublicKey(publicPem), paths: richPaths, context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    const openedInBrowser = await inPage(
      async (fs, { jwk, sealed }) => fs.decrypt(sealed, { keyring: await fs.RsaKeyring.fromPrivateKey(jwk), context: { tenant: 't1', rowId: '42' } }),
      { jwk: privateJwk as JsonWebKey, sealed: fromNode },
    );
    expect(openedInBrowser).toEqual(rich);
  });

  it('cross-check, local AES keyring: both backends read each other (same format bytes)', async () => {
    const local = await LocalKeyring.generate({ name: 'xcheck' });
    const keyFile = local.exportKeyFile();
    const fromNode = await encrypt(rich, { keyring: local, paths: richPaths, context: { tenant: 't1' } });
    const back = await inPage(
      async (fs, { keyFile, sealed, doc, paths }) => {
        const keyring = fs.LocalKeyring.fromKeyFile(keyFile);
        const opened = await fs.decrypt(sealed, { keyring, context: { tenant: 't1' } });
        return { opened, sealed: await fs.encrypt(doc, { keyring, paths, context: { tenant: 't1' } }) };
      },
      { keyFile, sealed: fromNode, doc: rich, paths: richPaths },
    );
    expect(back.opened).toEqual(rich);
    expect(await decrypt(back.sealed, { keyring: local, context: { tenant: 't1' } })).toEqual(rich);
  });

  it('a field tampered after sealing in the browser fails to open in Node', async () => {
    const sealed = await inPage(async (fs, { pem }) => fs.encrypt({ ssn: '078-05-1120', n: 1 }, { keyring: await fs.RsaKeyring.fromPublicKey(pem), paths: ['$.ssn'] }), { pem: publicPem });
    const ssn = sealed.ssn as string;
    const i = ssn.length - 5;
    const tampered = { ...sealed, ssn: ssn.slice(0, i) + (ssn[i] === 'A' ? 'B' : 'A') + ssn.slice(i + 1) };
    const keyring = await RsaKeyring.fromPrivateKey(privatePem);
    await expect(decrypt(tampered, { keyring })).rejects.toHaveProperty('code', 'ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(await decrypt(sealed, { keyring })).toEqual({ ssn: '078-05-1120', n: 1 });
  });

  it('CachingKeyring works in the browser: 64 concurrent seals, one RSA wrap', async () => {
    const result = await inPage(
      async (fs, { pem }) => {
        const keyring = new fs.CachingKeyring({ keyring: await fs.RsaKeyring.fromPublicKey(pem) });
        const sealed = await Promise.all(Array.from({ length: 64 }, (_, i) => fs.encrypt({ i, ssn: `s${i}` }, { keyring, paths: ['$.ssn'], context: { form: 'bulk' } })));
        return { sealed, stats: keyring.stats().wrap };
      },
      { pem: publicPem },
    );
    expect(result.stats).toMatchObject({ innerCalls: 1, misses: 1 });
    const keyring = await RsaKeyring.fromPrivateKey(privatePem);
    const opened = await Promise.all(result.sealed.map((s) => decrypt(s, { keyring, context: { form: 'bulk' } })));
    expect(opened).toEqual(Array.from({ length: 64 }, (_, i) => ({ i, ssn: `s${i}` })));
  });

  it('threw no page errors and made no request outside 127.0.0.1', () => {
    expect(pageErrors).toEqual([]);
    expect(requests.filter((r) => r.startsWith('OUTSIDE'))).toEqual([]);
  });
});
