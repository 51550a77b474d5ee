#!/usr/bin/env node
// Installs the packages the way a user does: `npm pack` each public workspace package, install the
// tarballs into a fresh project outside this repository (no workspace links; third-party
// dependencies come from the registry or npm's cache), then use them from ESM, CommonJS
// (require(esm), Node >= 20.19), TypeScript (node16 and bundler resolution), the `fieldseal` bin
// and an esbuild browser bundle, and lint every tarball with publint and @arethetypeswrong/cli.
// Needs a build (`npm run build`); exits non-zero on the first failure.
// Usage: node scripts/check-packages.mjs [--keep]   (--keep leaves the temporary project for a look)
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const repo = resolve(import.meta.dirname, '..');
const bin = (name) => join(repo, 'node_modules', '.bin', name);
const keep = process.argv.includes('--keep');
const started = Date.now();
const step = (msg) => console.log(`check-packages [${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

// Every step has a time bound, so a hung install or tool cannot stall CI.
function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeout ?? 120_000,
      cwd: opts.cwd ?? repo,
      env: { ...process.env, npm_config_update_notifier: 'false', ...opts.env },
    });
  } catch (err) {
    console.error(`check-packages: FAILED: ${cmd} ${args.join(' ')}${opts.cwd ? ` (in ${opts.cwd})` : ''}`);
    if (err.stdout) console.error(String(err.stdout));
    if (err.stderr) console.error(String(err.stderr));
    if (err.signal) console.error(`check-packages: killed by ${err.signal} (time bound ${opts.timeout ?? 120_000} ms)`);
    throw new Error(`${cmd} failed`);
  }
}

const execFileAsync = promisify(execFile);
async function runAsync(cmd, args, opts = {}) {
  try {
    return (await execFileAsync(cmd, args, { encoding: 'utf8', timeout: opts.timeout ?? 120_000, cwd: opts.cwd ?? repo, env: { ...process.env, npm_config_update_notifier: 'false' } })).stdout;
  } catch (err) {
    console.error(`check-packages: FAILED: ${cmd} ${args.join(' ')}`);
    if (err.stdout) console.error(String(err.stdout));
    if (err.stderr) console.error(String(err.stderr));
    if (err.signal) console.error(`check-packages: killed by ${err.signal} (time bound ${opts.timeout ?? 120_000} ms)`);
    throw new Error(`${cmd} failed`);
  }
}

const packages = readdirSync(join(repo, 'packages'))
  .map((dir) => ({ dir: join(repo, 'packages', dir), manifest: JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter((p) => !p.manifest.private)
  .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
for (const p of packages) {
  const main = p.manifest.exports?.['.']?.default;
  if (!main || !existsSync(join(p.dir, main))) {
    console.error(`check-packages: ${p.manifest.name} is not built (${main ?? 'no exports["."]'}); run \`npm run build\` first`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'fieldseal-packages-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);

try {
  step(`packing ${packages.length} packages into ${tarballs}`);
  for (const p of packages) {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: p.dir }));
    p.tarball = join(tarballs, info.filename);
    p.files = info.files.map((f) => f.path);
    const stray = p.files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.test\.|\.tsbuildinfo$|(^|\/)\.env/.test(f));
    if (stray.length) throw new Error(`${p.manifest.name} packs files users should not get: ${stray.join(', ')}`);
    if (!p.files.includes('LICENSE')) throw new Error(`${p.manifest.name} packs no LICENSE file`);
  }

  // Internal dependencies name the exact versions released together (docs/RELEASING.md).
  const versions = new Map(packages.map((p) => [p.manifest.name, p.manifest.version]));
  for (const p of packages) {
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [dep, range] of Object.entries(p.manifest[field] ?? {})) {
        if (versions.has(dep) && range !== versions.get(dep)) throw new Error(`${p.manifest.name} ${field} names ${dep}@${range}, but the workspace has ${versions.get(dep)}`);
      }
    }
  }

  // A user's project: the tarballs as dependencies; overrides point every internal @fieldseal/*
  // dependency at its tarball too, so nothing is fetched from the registry under our names.
  const deps = Object.fromEntries(packages.map((p) => [p.manifest.name, `file:${p.tarball}`]));
  const typesNode = JSON.parse(readFileSync(join(repo, 'node_modules/@types/node/package.json'), 'utf8')).version;
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'fieldseal-install-check', private: true, type: 'module',
    dependencies: deps,
    devDependencies: { '@types/node': typesNode },
    overrides: Object.fromEntries(packages.map((p) => [p.manifest.name, `$${p.manifest.name}`])),
  }, null, 2));
  step('installing the tarballs into a fresh project');
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock'], { cwd: app, timeout: 300_000 });
  for (const p of packages) {
    const installed = join(app, 'node_modules', p.manifest.name);
    const real = run('node', ['-e', `process.stdout.write(require('node:fs').realpathSync(${JSON.stringify(installed)}))`]);
    if (real.startsWith(repo)) throw new Error(`${p.manifest.name} resolved into the repository (${real}), not from its tarball`);
  }

  // Every public entry point, from each package's exports map.
  const specifiers = packages.flatMap((p) => Object.keys(p.manifest.exports)
    .filter((key) => !key.endsWith('.json'))
    .map((key) => (key === '.' ? p.manifest.name : `${p.manifest.name}/${key.slice(2)}`)));

  step(`ESM import of ${specifiers.length} entry points`);
  writeFileSync(join(app, 'esm.mjs'), [
    ...specifiers.map((s, i) => `import * as m${i} from '${s}';`),
    `const all = { ${specifiers.map((s, i) => `'${s}': m${i}`).join(', ')} };`,
    `for (const [name, m] of Object.entries(all)) if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing');`,
    `console.log('esm: ' + Object.keys(all).length + ' entry points import');`,
  ].join('\n'));
  process.stdout.write(run('node', ['esm.mjs'], { cwd: app }));

  // CommonJS consumers: the packages are ESM only, which Node >= 20.19 (our engines floor) loads
  // through require(); this proves no entry point uses top-level await, which would break that.
  step('CommonJS require() of every entry point');
  writeFileSync(join(app, 'cjs.cjs'), [
    `const names = ${JSON.stringify(specifiers)};`,
    `for (const name of names) { const m = require(name); if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing'); }`,
    `console.log('cjs: ' + names.length + ' entry points require');`,
  ].join('\n'));
  process.stdout.write(run('node', ['--no-warnings', 'cjs.cjs'], { cwd: app }));

  // The README's quick start, with the key file made by the installed CLI.
  step('README quick start with the installed CLI and @fieldseal/core');
  const help = run('npx', ['--no-install', 'fieldseal', '--help'], { cwd: app });
  if (/--version/.test(help)) {
    const version = run('npx', ['--no-install', 'fieldseal', '--version'], { cwd: app }).trim();
    const expected = packages.find((p) => p.manifest.name === '@fieldseal/cli').manifest.version;
    if (!version.includes(expected)) throw new Error(`fieldseal --version printed ${JSON.stringify(version)}, expected ${expected}`);
    console.log(`cli: npx fieldseal --version -> ${version}`);
  } else {
    if (!/encrypt/.test(help)) throw new Error('fieldseal --help does not list its commands');
    console.log('cli: npx fieldseal --help works (this build has no --version)');
  }
  run('npx', ['--no-install', 'fieldseal', 'keygen', '--out', 'keys.json'], { cwd: app });
  writeFileSync(join(app, 'quickstart.mjs'), `
import { readFile } from 'node:fs/promises';
import { deepStrictEqual, notStrictEqual } from 'node:assert/strict';
import { decrypt, encrypt, LocalKeyring } from '@fieldseal/core';
const keyring = LocalKeyring.fromKeyFile(await readFile('keys.json', 'utf8'));
const customer = { id: 42, name: 'Ada', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }] };
const sealed = await encrypt(customer, { keyring, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 'acme' } });
notStrictEqual(sealed.ssn, customer.ssn);
deepStrictEqual(await decrypt(sealed, { keyring, context: { tenant: 'acme' } }), customer);
console.log('quickstart: sealed and opened');
`);
  process.stdout.write(run('node', ['quickstart.mjs'], { cwd: app }));

  // TypeScript consumers under both module resolutions users pick; the declarations must resolve.
  writeFileSync(join(app, 'consumer.ts'), [
    ...specifiers.map((s, i) => `import * as m${i} from '${s}';`),
    `import { encrypt, type EncryptOptions } from '@fieldseal/core';`,
    `export const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}];`,
    `export const seal = (doc: { ssn: string }, options: EncryptOptions) => encrypt(doc, options);`,
  ].join('\n'));
  for (const [resolution, module] of [['node16', 'node16'], ['bundler', 'esnext']]) {
    step(`tsc, moduleResolution ${resolution}`);
    writeFileSync(join(app, `tsconfig.${resolution}.json`), JSON.stringify({
      compilerOptions: { module, moduleResolution: resolution, target: 'es2022', lib: ['es2022', 'dom'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'], noImplicitAny: true },
      files: ['consumer.ts'],
    }));
    run(bin('tsc'), ['-p', `tsconfig.${resolution}.json`], { cwd: app });
  }

  step('esbuild browser bundles of @fieldseal/core');
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [name, source] of [
    ['everything', `export * from '@fieldseal/core';\n`],
    ['sealing-only form (encrypt + RsaKeyring)', `export { encrypt, RsaKeyring } from '@fieldseal/core';\n`],
  ]) {
    writeFileSync(join(app, 'browser.mjs'), source);
    // platform=browser fails the build on any Node built-in the browser build would pull in.
    run(bin('esbuild'), ['browser.mjs', '--bundle', '--minify', '--format=esm', '--platform=browser', '--outfile=browser.min.js', '--log-level=warning'], { cwd: app });
    const bundle = readFileSync(join(app, 'browser.min.js'));
    console.log(`browser bundle, ${name}: ${kib(bundle.length)} minified, ${kib(gzipSync(bundle, { level: 9 }).length)} gzipped`);
  }

  step('publint and @arethetypeswrong/cli on every tarball');
  // Three at a time: each tool spends most of its time starting up and reading the tarball.
  const lint = async (p) => {
    await runAsync(bin('publint'), ['run', p.tarball, '--strict', '--level', 'suggestion'], { cwd: work });
    // ESM only (see docs/RELEASING.md): the esm-only profile leaves out node10 and node16-from-CJS
    // resolution, which the require() check above covers for Node >= 20.19.
    await runAsync(bin('attw'), [p.tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-color'], { cwd: work });
    console.log(`lint: ${p.manifest.name} clean`);
  };
  const queue = [...packages];
  const failures = [];
  await Promise.all(Array.from({ length: 3 }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) await lint(p).catch((err) => failures.push(err));
  }));
  if (failures.length > 0) throw failures[0];
  step('all packages install and work outside the repository');
} catch (err) {
  console.error(`check-packages: FAILED: ${err.message}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`check-packages: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
