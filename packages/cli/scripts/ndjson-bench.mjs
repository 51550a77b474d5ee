#!/usr/bin/env node
// `fieldseal encrypt|decrypt --ndjson` with --workers 1 and --workers 2, in the same run:
// generates RECORDS W1 records (8 PII values, benchmarks/lib/data.mjs) into a temporary folder,
// then runs the built CLI (a child process per run, as an operator would) alternating the two
// settings for ROUNDS rounds, and prints per setting the median records/s (wall, start-up
// included) and CPU µs per record (every thread of the child: process.cpuUsage() read at exit),
// the ratio workers 2 / workers 1, and the load average. Each round also runs both settings on the
// first SMALL records alone; the difference between the two runs is the throughput without the
// fixed costs (process and worker start-up, key loading, module compilation), the "steady" figures.
// Usage (after `npm run build`):
//   node packages/cli/scripts/ndjson-bench.mjs [RECORDS=50000] [ROUNDS=3] [--workers-b N]
import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONTEXT, CUSTOMER_PATHS, customerRecord } from '../../../benchmarks/lib/data.mjs';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--workers-b');
const records = Number(positional[0] ?? 50_000);
const rounds = Number(positional[1] ?? 3);
const wb = process.argv.indexOf('--workers-b');
const settings = [1, wb > 0 ? Number(process.argv[wb + 1]) : 2];
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const dir = await mkdtemp(join(tmpdir(), 'fieldseal-ndjson-bench-'));
try {
  const keys = join(dir, 'keys.json');
  run(['keygen', '--out', keys]);
  // Reads the child's CPU time (all threads) and peak RSS as it exits.
  const probe = join(dir, 'probe.mjs');
  await writeFile(probe, "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.FIELDSEAL_BENCH_OUT, JSON.stringify({ cpu: process.cpuUsage(), maxRss: process.resourceUsage().maxRSS })));\n");
  const plain = join(dir, 'plain.ndjson');
  const out = createWriteStream(plain);
  for (let i = 0; i < records; i++) if (!out.write(JSON.stringify(customerRecord(i)) + '\n')) await once(out, 'drain');
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  const small = Math.min(1000, Math.floor(records / 10));
  const plainSmall = join(dir, 'plain-small.ndjson');
  await writeFile(plainSmall, readFileSync(plain, 'utf8').split('\n').slice(0, small).map((l) => `${l}\n`).join(''));
  const context = Object.entries(CONTEXT).flatMap(([k, v]) => ['--context', `${k}=${v}`]);
  const sealed = join(dir, 'sealed.ndjson');
  run(['encrypt', '--keyring', `local:${keys}`, ...CUSTOMER_PATHS.flatMap((p) => ['--path', p]), ...context, '--ndjson', '--in', plain, '--out', sealed]);
  const sealedSmall = join(dir, 'sealed-small.ndjson');
  await writeFile(sealedSmall, readFileSync(sealed, 'utf8').split('\n').slice(0, small).map((l) => `${l}\n`).join(''));
  const commands = {
    encrypt: ['encrypt', '--keyring', `local:${keys}`, ...CUSTOMER_PATHS.flatMap((p) => ['--path', p]), ...context, '--ndjson', '--in', plain, '--out', join(dir, 'out.ndjson')],
    decrypt: ['decrypt', '--keyring', `local:${keys}`, ...context, '--ndjson', '--in', sealed, '--out', join(dir, 'out.ndjson')],
  };
  const samples = {};
  const loads = [loadavg()[0]];
  for (let r = 0; r < rounds; r++) {
    for (const [name, args] of Object.entries(commands)) {
      // Alternate which setting goes first, so a drift in machine load hits both alike.
      for (const workers of r % 2 === 0 ? settings : [...settings].reverse()) {
        const m = measure([...args, '--workers', String(workers)], join(dir, 'm.json'), probe);
        const first = args.map((a) => (a === plain ? plainSmall : a === sealed ? sealedSmall : a));
        const s = measure([...first, '--workers', String(workers)], join(dir, 'm.json'), probe);
        (samples[`${name} ${workers}`] ??= []).push({ ...m, steady: (records - small) / (m.seconds - s.seconds) });
      }
    }
    loads.push(loadavg()[0]);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = { records, small, rounds, cores: availableParallelism(), node: process.version, loadavg1: loads.map((l) => +l.toFixed(2)), settings: {} };
  for (const name of Object.keys(commands)) {
    for (const workers of settings) {
      const ms = samples[`${name} ${workers}`];
      result.settings[`${name} --workers ${workers}`] = {
        recordsPerSecond: Math.round(median(ms.map((m) => records / m.seconds))),
        cpuMicrosPerRecord: +median(ms.map((m) => m.cpuMicros / records)).toFixed(1),
        peakRssMiB: +median(ms.map((m) => m.maxRssMiB)).toFixed(1),
        runs: ms.map((m) => Math.round(records / m.seconds)),
        steadyRecordsPerSecond: Math.round(median(ms.map((m) => m.steady))),
      };
    }
    const [a, b] = settings.map((w) => result.settings[`${name} --workers ${w}`].recordsPerSecond);
    result[`${name} ratio (workers ${settings[1]} / 1, wall)`] = +(b / a).toFixed(2);
    const [sa, sb] = settings.map((w) => result.settings[`${name} --workers ${w}`].steadyRecordsPerSecond);
    result[`${name} ratio (workers ${settings[1]} / 1, steady)`] = +(sb / sa).toFixed(2);
  }
  console.log(JSON.stringify(result, null, 2));
} finally {
  await rm(dir, { recursive: true, force: true });
}

function run(args) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fieldseal ${args[0]} exited ${r.status}: ${r.stderr}`);
}

function measure(args, outFile, probe) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, bin, ...args], { encoding: 'utf8', env: { ...process.env, FIELDSEAL_BENCH_OUT: outFile } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`fieldseal ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const { cpu, maxRss } = JSON.parse(readFileSync(outFile, 'utf8'));
  return { seconds, cpuMicros: cpu.user + cpu.system, maxRssMiB: (maxRss * 1024) / 2 ** 20 };
}
