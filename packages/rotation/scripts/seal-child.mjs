// The seal-in-place run of seal-1m.mjs in its own process, so its peak RSS is its own.
// The same job `fieldseal rotate --mode seal` runs, with the CLI's defaults (batch 500, concurrency 8).
import { readFileSync } from 'node:fs';
import { defineRowLayout, LocalKeyring } from '@fieldseal/core';
import { PostgresRowStore, rowRotation, runRotation } from '@fieldseal/rotation';

const cfg = JSON.parse(process.env.FIELDSEAL_SEAL_CHILD ?? '{}');
const keyring = LocalKeyring.fromKeyFile(readFileSync(cfg.keyFile, 'utf8'));
const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' } });
let last = 0;
const report = await runRotation({
  store: new PostgresRowStore({ connectionString: cfg.url, table: cfg.table, layout }),
  ...(await rowRotation({ mode: 'seal', layout, keyring })),
  mode: 'seal',
  onProgress: (p) => {
    if (p.elapsedMs - last > 5000) {
      last = p.elapsedMs;
      process.stderr.write(`${p.counts.scanned} rows, ${Math.round(p.recordsPerSecond)}/s\n`);
    }
  },
});
const { maxRSS } = process.resourceUsage();
process.stdout.write(`report ${JSON.stringify({ scanned: report.scanned, sealed: report.rotated, failed: report.failed, conflicts: report.conflicts, durationMs: report.durationMs, rowsPerSecond: report.recordsPerSecond, maxRssBytes: maxRSS * 1024 })}\n`);
