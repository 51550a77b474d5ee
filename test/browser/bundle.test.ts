import { beforeAll, describe, expect, it } from 'vitest';
import { FORBIDDEN as forbidden, buildCoreDist, bundleForBrowser as bundle } from './bundle.mjs';
import type { BrowserBundle as Bundle } from './bundle.mjs';

/* A budget well above today's size, there to catch a Node polyfill or an SDK sneaking in, not to race. */
const GZIP_BUDGET = 40 * 1024;

function findForbidden(code: string): string[] {
  return forbidden.filter(([, re]) => re.test(code)).map(([what]) => what);
}

describe('@fieldseal/core browser bundle (esbuild, platform browser, dist/)', () => {
  let readable: Bundle;
  let minified: Bundle;
  beforeAll(async () => {
    buildCoreDist();
    readable = await bundle({ minify: false });
    minified = await bundle();
  }, 120_000);

  it('contains no node: import, Buffer, require() or process reference', () => {
    expect(findForbidden(readable.code)).toEqual([]);
    expect(findForbidden(minified.code)).toEqual([]);
  });

  it('takes the WebCrypto backend and nothing outside core/dist (no SDK, no polyfill)', () => {
    expect(readable.inputs).toContain('packages/core/dist/lib/backend/web.js');
    expect(readable.inputs.filter((i) => i.includes('backend/node'))).toEqual([]);
    expect(readable.inputs.filter((i) => i !== 'entry.mjs' && !i.startsWith('packages/core/dist/'))).toEqual([]);
    expect(readable.code).toContain('crypto.subtle');
  });

  it(`stays under the ${GZIP_BUDGET / 1024} KiB gzip budget`, async () => {
    const sealOnly = await bundle({ contents: "export { encrypt, RsaKeyring } from '@fieldseal/core';" });
    console.log(`core browser bundle: ${minified.bytes} B minified, ${minified.gzipBytes} B gzip; encrypt + RsaKeyring only: ${sealOnly.gzipBytes} B gzip`);
    expect(minified.gzipBytes).toBeLessThan(GZIP_BUDGET);
    expect(sealOnly.gzipBytes).toBeLessThan(minified.gzipBytes); // sideEffects: false lets bundlers drop what a page does not use
  });

  it('the checks do catch Node-only code (control)', async () => {
    const leaky = await bundle({ contents: "export const k = (x) => Buffer.from(x); export const p = () => process.env.X;", minify: false });
    expect(findForbidden(leaky.code)).toEqual(['a Buffer reference', 'a process reference']);
    expect(findForbidden("import { randomBytes } from 'node:crypto'; const c = require('fs');")).toEqual(['a node: import', 'a require() call']);
    expect(findForbidden('new ArrayBuffer(8); obj.process.x; SharedArrayBuffer')).toEqual([]);
    await expect(bundle({ contents: "export * from 'node:crypto';" })).rejects.toThrow();
  });
});
