// Beacons in real headless Chromium (WebCrypto backend, Chromium's own Unicode tables) against the
// vectors and against Node (node:crypto backend).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBeacons, BeaconIndex, BeaconKey, LocalKeyring, type BeaconKeyDocument, type JsonObject } from '@fieldseal/core';
import { buildCoreDist, bundleForBrowser } from '../../../test/browser/bundle.mjs';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/browser/chromium.mjs';

interface VectorCase {
  description: string;
  result: 'valid' | 'invalid';
  rootKey: string;
  keyId: string;
  field: string;
  bits: number;
  normalize: string | string[];
  input: string;
  beacon?: string;
  code?: string;
}
const vectors = JSON.parse(readFileSync(new URL('../../../test/vectors/beacons.json', import.meta.url), 'utf8')) as { cases: VectorCase[] };
const page = `<!doctype html><meta charset="utf-8"><title>loading</title>
<script type="module">import * as fieldseal from '/fieldseal.js'; window.fieldseal = fieldseal; document.title = 'ready';</script>`;

let browser: Browser;
let tab: Page;
let server: ReturnType<typeof createServer>;
const outside: string[] = [];

beforeAll(async () => {
  if (SKIP_BROWSER_TESTS) return;
  buildCoreDist();
  const bundle = await bundleForBrowser({ minify: false });
  server = createServer((req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    if (req.url === '/fieldseal.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.code);
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
});

/** Run fieldseal inside the page; arguments and results cross as JSON. */
function inPage<A, R>(fn: (fs: typeof import('@fieldseal/core'), arg: A) => Promise<R>, arg: A): Promise<R> {
  return tab.evaluate(
    async ({ source, arg }) => {
      const fs = (window as unknown as { fieldseal: typeof import('@fieldseal/core') }).fieldseal;
      const f = new Function('fs', 'arg', `return (${source})(fs, arg);`) as (fs: unknown, arg: unknown) => Promise<unknown>;
      return f(fs, arg);
    },
    { source: fn.toString(), arg },
  ) as Promise<R>;
}

describe.skipIf(SKIP_BROWSER_TESTS)('beacons in headless Chromium', () => {
  it('every vector gives the same beacon (or the same error code) in the browser', async () => {
    const results = await inPage(async (fs, cases) => {
      const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
      const out: string[] = [];
      for (const c of cases) {
        const index = new fs.BeaconIndex({ keys: fs.BeaconKey.import(hexToBytes(c.rootKey), { id: c.keyId }), fields: { [c.field]: { bits: c.bits, normalize: c.normalize as never, allowUnsafeLength: true } } });
        try {
          out.push(await index.beacon(c.field, c.input));
        } catch (err) {
          out.push((err as { code: string }).code);
        }
      }
      return out;
    }, vectors.cases);
    expect(results).toEqual(vectors.cases.map((c) => (c.result === 'valid' ? c.beacon : c.code)));
    expect(outside).toEqual([]);
  });

  it('a key document made in the browser loads in Node, and the other way round, with identical beacons', async () => {
    const keyring = await LocalKeyring.generate({ name: 'beacons' });
    const keyFile = keyring.exportKeyFile();
    const fields = { email: { path: '$.email', normalize: 'email' as const, bits: 12, distinctValues: 100_000 } };
    const values = ['Zoë@Example.test', ' ÅSA@EXAMPLE.TEST ', 'jose\u0301@example.test'];

    const fromBrowser = await inPage(
      async (fs, { keyFile, values, fields }) => {
        const keyring = fs.LocalKeyring.fromKeyFile(keyFile);
        const { key, document } = await fs.BeaconKey.generate({ keyring, id: 'web1', context: { app: 'x' } });
        const index = new fs.BeaconIndex({ keys: key, fields });
        return { document, beacons: await Promise.all(values.map((v) => index.beacon('email', v))), doc: await fs.addBeacons({ email: values[0]! }, index) };
      },
      { keyFile, values, fields },
    );
    const inNode = new BeaconIndex({ keys: await BeaconKey.load(fromBrowser.document as BeaconKeyDocument, { keyring, context: { app: 'x' } }), fields });
    expect(await Promise.all(values.map((v) => inNode.beacon('email', v)))).toEqual(fromBrowser.beacons);
    expect(await addBeacons({ email: values[0]! }, inNode)).toEqual(fromBrowser.doc as JsonObject);

    const { key, document } = await BeaconKey.generate({ keyring, id: 'node1' });
    const nodeIndex = new BeaconIndex({ keys: key, fields });
    const inBrowser = await inPage(
      async (fs, { keyFile, document, values, fields }) => {
        const index = new fs.BeaconIndex({ keys: await fs.BeaconKey.load(document, { keyring: fs.LocalKeyring.fromKeyFile(keyFile) }), fields });
        return Promise.all(values.map((v) => index.beacon('email', v)));
      },
      { keyFile, document, values, fields },
    );
    expect(inBrowser).toEqual(await Promise.all(values.map((v) => nodeIndex.beacon('email', v))));
  });
});
