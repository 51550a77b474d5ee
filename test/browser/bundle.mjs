// Bundles @fieldseal/core for the browser the way an application's bundler would (esbuild,
// platform "browser", default conditions, so `#backend` resolves to the WebCrypto backend) and
// measures it. Used by the bundle test, the Chromium test and the browser-form example; run it by
// hand for the numbers: `node test/browser/bundle.mjs`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Build packages/core/dist (tsc -b is incremental; a lock keeps concurrent test files from writing
 * the same outputs at once).
 */
export function buildCoreDist() {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    execFileSync('flock', ['/tmp/fieldseal-core-build.lock', process.execPath, tsc, '-b', 'packages/core'], { cwd: repoRoot, stdio: 'pipe' });
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    // tsc -b still emits when there are type errors (TypeScript >= 5.6); the type check itself is
    // the typecheck script's job, so only a build that produced nothing stops these tests.
    if (!existsSync(new URL('../../packages/core/dist/index.js', import.meta.url)) || !/error TS\d+/.test(out)) {
      throw new Error(`tsc -b packages/core failed:\n${out}`);
    }
    console.warn(`tsc -b packages/core reported type errors; using its emitted dist/ anyway:\n${out.slice(0, 2000)}`);
  }
}

/**
 * Bundle an entry module for the browser from the built dist/ of @fieldseal/core.
 * @param {{ contents?: string, entry?: string, minify?: boolean }} options
 * @returns {Promise<{ code: string, bytes: number, gzipBytes: number, inputs: string[] }>}
 */
export async function bundleForBrowser({ contents = "export * from '@fieldseal/core';", entry, minify = true } = {}) {
  const result = await esbuild.build({
    ...(entry !== undefined ? { entryPoints: [entry] } : { stdin: { contents, resolveDir: repoRoot, sourcefile: 'entry.mjs', loader: 'js' } }),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  return {
    code,
    bytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
    inputs: Object.keys(result.metafile.inputs),
  };
}

/** Node-only things that must never reach a browser bundle; each entry: [description, pattern]. */
export const FORBIDDEN = [
  ['a node: import', /["'`]node:[a-z_/]+["'`]/],
  ['a Buffer reference', /(?<![\w$])Buffer(?![\w$])/],
  ['a require() call', /(?<![\w$.])require\s*\(/],
  ['a process reference', /(?<![\w$.])process\s*\./],
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildCoreDist();
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const all = await bundleForBrowser();
  const sealOnly = await bundleForBrowser({ contents: "export { encrypt, RsaKeyring } from '@fieldseal/core';" });
  console.log(`everything:            ${kb(all.bytes)} minified, ${kb(all.gzipBytes)} gzip`);
  console.log(`encrypt + RsaKeyring:  ${kb(sealOnly.bytes)} minified, ${kb(sealOnly.gzipBytes)} gzip`);
}
