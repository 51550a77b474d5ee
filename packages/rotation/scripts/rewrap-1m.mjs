#!/usr/bin/env node
// Rewraps a 1,000,000-record NDJSON file with real keys (rewrap + verify every record) in a child
// process and reports records/s and the child's peak RSS. Usage:
//   npm run bench:1m -w @fieldseal/rotation [-- RECORDS]
// Builds core and rotation first; writes its files under the OS temp directory and removes them.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const records = Number(process.argv[2] ?? 1_000_000);
const root = fileURLToPath(new URL('../../../', import.meta.url));
execFileSync('npx', ['tsc', '-b', 'packages/rotation'], { cwd: root, stdio: 'inherit' });
const { LocalKeyring, encrypt, decrypt, inspect } = await import('@fieldseal/core');

const dir = await mkdtemp(join(tmpdir(), 'fieldseal-1m-'));
try {
  const v1 = await LocalKeyring.generate({ name: 'main' });
  const v2 = v1.withNewPrimary();
  const keyFile = join(dir, 'keys.json');
  await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
  // 1,000 distinct sealed records, repeated: each line is rewrapped on its own all the same.
  const distinct = [];
  for (let i = 1; i <= 1000; i++) {
    const doc = { id: i, name: `customer ${i}`, email: `c${i}@example.com`, ssn: `078-05-${String(i).padStart(4, '0')}`, cards: ['4111111111111111'] };
    distinct.push(JSON.stringify(await encrypt(doc, { keyring: v1, paths: ['$.ssn', '$.email', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { rowId: String(i) } })) + '\n');
  }
  const path = join(dir, 'data.ndjson');
  const out = createWriteStream(path);
  for (let i = 0; i < records; i++) if (!out.write(distinct[i % distinct.length])) await once(out, 'drain');
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  const size = (await stat(path)).size;
  process.stderr.write(`file: ${records} records, ${(size / 2 ** 20).toFixed(1)} MiB\n`);

  const child = spawn(process.execPath, [fileURLToPath(new URL('../test/fixtures/memory-child.mjs', import.meta.url))], {
    env: { ...process.env, FIELDSEAL_MEMORY_CHILD: JSON.stringify({ path, keyFile, transform: 'rewrap', progress: true }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`rotation child exited with ${code}`);
  const result = JSON.parse(stdout.split('\n').find((l) => l.startsWith('report ')).slice(7));

  // Check the result: every line present, a sample opened with a keyring holding only v2.
  const file = v2.exportKeyFile();
  const onlyV2 = LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((k) => k.version === file.primary) });
  let lines = 0;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (lines % 10_000 === 0) {
      const doc = JSON.parse(line);
      if (inspect(doc).groups[0].wrappedKeys[0].keyId !== v2.keyIds[0]) throw new Error(`line ${lines + 1} not rewrapped`);
      await decrypt(doc, { keyring: onlyV2, context: { tenant: 't1', rowId: String(doc.id) } });
    }
    lines++;
  }
  if (lines !== records) throw new Error(`expected ${records} lines, found ${lines}`);
  process.stderr.write('\n');
  console.log(JSON.stringify({ records, fileMiB: +(size / 2 ** 20).toFixed(1), ...result, peakRssMiB: +(result.maxRssBytes / 2 ** 20).toFixed(1), node: process.version }, null, 2));
} finally {
  await rm(dir, { recursive: true, force: true });
}
