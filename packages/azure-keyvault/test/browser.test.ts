// Client-side mode in a real browser: `@fieldseal/azure-keyvault/public-key` bundled for the browser
// carries no Azure SDK code, seals in headless Chromium with only the public JWK, and the server
// opens the result in (emulated) Key Vault.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { decrypt, inspect } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAzureKeyVaultEmulator } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureKeyVaultKeyring, fetchAzurePublicKey } from '@fieldseal/azure-keyvault';
import type { AzurePublicKeyJwk } from '@fieldseal/azure-keyvault';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/browser/chromium.mjs';
import { insecureClientOptions, rsaKeys, staticCredential } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let kv: AzureKeyVaultEmulator;
let jwk: AzurePublicKeyJwk;
let bundle: { code: string; inputs: string[] };
let browser: Browser;
let tab: Page;
let server: Server;
const outside: string[] = [];

beforeAll(async () => {
  if (SKIP_BROWSER_TESTS) return;
  kv = await startAzureKeyVaultEmulator();
  await kv.createKey('browser-kek', { privateKey: rsaKeys()[0]! });
  jwk = await fetchAzurePublicKey(kv.keyId('browser-kek'), { credential: staticCredential(), clientOptions: insecureClientOptions });

  // Bundle the way an application's bundler would (platform browser), from sources.
  const result = await esbuild.build({
    stdin: {
      contents: "export { encrypt, decrypt } from '@fieldseal/core'; export { AzureKeyVaultPublicKeyKeyring } from '@fieldseal/azure-keyvault/public-key';",
      resolveDir: repoRoot,
      sourcefile: 'entry.mjs',
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['fieldseal-source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  bundle = { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };

  server = createServer((req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module">import * as fs from "/bundle.js"; window.fs = fs; document.title = "ready";</script>');
    if (req.url === '/bundle.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.code);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  tab = await browser.newPage();
  tab.on('request', (r) => {
    if (!r.url().startsWith(origin)) outside.push(r.url());
  });
  await tab.goto(origin + '/');
  await tab.waitForFunction(() => document.title === 'ready');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await kv?.close();
});

describe.skipIf(SKIP_BROWSER_TESTS)('@fieldseal/azure-keyvault/public-key in the browser', () => {
  it('the bundle holds no Azure SDK and no Node built-ins', () => {
    expect(bundle.inputs.some((p) => p.includes('packages/azure-keyvault/src/public-key.ts'))).toBe(true);
    expect(bundle.inputs.filter((p) => p.includes('@azure/') || p.includes('@typespec/'))).toEqual([]);
    expect(bundle.inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(bundle.code).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
  });

  it('seals in Chromium with only the public JWK; the server opens it in Key Vault; the page cannot', async () => {
    kv.counters.reset();
    const result = await tab.evaluate(async (publicKey) => {
      type Fs = {
        AzureKeyVaultPublicKeyKeyring: { create(o: unknown): Promise<unknown> };
        encrypt(d: unknown, o: unknown): Promise<unknown>;
        decrypt(d: unknown, o: unknown): Promise<unknown>;
      };
      const fs = (window as unknown as { fs: Fs }).fs;
      const keyring = await fs.AzureKeyVaultPublicKeyKeyring.create({ publicKey });
      const sealed = await fs.encrypt({ name: 'Ada', ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'], context: { form: 'signup' } });
      let pageDecrypt = 'opened';
      try {
        await fs.decrypt(sealed, { keyring, context: { form: 'signup' } });
      } catch (err) {
        pageDecrypt = (err as { code: string }).code;
      }
      return { sealed: JSON.stringify(sealed), pageDecrypt, buffer: typeof (globalThis as { Buffer?: unknown }).Buffer };
    }, jwk);
    expect(result.buffer).toBe('undefined');
    expect(result.pageDecrypt).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(result.sealed).not.toContain('078-05-1120');
    expect(kv.counters.total()).toBe(0); // the browser never talked to the vault
    expect(outside).toEqual([]);

    const sealed = JSON.parse(result.sealed) as JsonObject;
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'azure-keyvault', keyId: jwk.kid }]);
    const server = new AzureKeyVaultKeyring({ keyId: kv.keyId('browser-kek'), credential: staticCredential(), clientOptions: insecureClientOptions });
    expect(await decrypt(sealed, { keyring: server, context: { form: 'signup' } })).toEqual({ name: 'Ada', ssn: '078-05-1120' });
    expect(kv.counters.get('unwrapKey')).toBe(1);
  });
});
