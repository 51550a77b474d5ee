// Node 20 cannot load TypeScript, so the example runners bundle their `.ts` entry with esbuild (a
// root dev dependency), resolving the @fieldseal packages to their sources: no build step needed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Bundle `entry` (a file URL of a `.ts` module), import it, and run `use(module)`; the bundle is
 * removed afterwards. `external` packages stay in node_modules (database drivers, ORMs). The bundle
 * is written inside node_modules/.cache so that it resolves those from the workspace.
 */
export async function withTypeScriptModule(entry, { external = [] } = {}, use) {
  const cache = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'fieldseal-example-'));
  try {
    const outfile = join(dir, 'entry.mjs');
    await build({
      entryPoints: [fileURLToPath(entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['fieldseal-source', 'node'],
      external,
      logLevel: 'warning',
    });
    return await use(await import(pathToFileURL(outfile).href));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
