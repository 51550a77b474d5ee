import type { Writable } from 'node:stream';
import type { RotationProgress, RotationReport } from '@fieldseal/rotation';

const n = (v: number) => v.toLocaleString('en-US');

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function counts(p: RotationProgress): string {
  const c = p.counts;
  return `rotated ${n(c.rotated)}  skipped ${n(c.skipped)}  conflicts ${n(c.conflicts)}  failed ${n(c.failed)}`;
}

/** One progress line: done/total, percentage, rate, ETA, counts. */
export function progressLine(p: RotationProgress, bar: boolean): string {
  const pct = p.fraction !== undefined ? `${(p.fraction * 100).toFixed(1).padStart(5)}%` : '';
  const width = 24;
  const filled = p.fraction !== undefined ? Math.round(p.fraction * width) : 0;
  const barText = bar && p.fraction !== undefined ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
  const of = p.total !== undefined ? `/${n(p.total)}` : '';
  const eta = p.etaSeconds !== undefined ? `ETA ${formatDuration(p.etaSeconds)}` : 'ETA ?';
  return `${barText}${pct} ${n(p.counts.scanned)}${of} records  ${n(Math.round(p.recordsPerSecond))}/s  ${eta}  ${counts(p)}`.trim();
}

/**
 * Progress output: a redrawn bar on a terminal, a plain line every `intervalMs` otherwise, and
 * JSON lines with `--json`. Always on stderr, so stdout carries only the result.
 */
export function progressReporter(stderr: Writable & { isTTY?: boolean }, mode: 'tty' | 'lines' | 'json', intervalMs = 5000): { update(p: RotationProgress): void; done(): void } {
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const now = Date.now();
      if (mode === 'tty') {
        if (now - last < 100) return;
        last = now;
        stderr.write(`\r\x1b[2K${progressLine(p, true)}`);
        drawn = true;
      } else if (now - last >= intervalMs) {
        last = now;
        if (mode === 'json') {
          stderr.write(JSON.stringify({ type: 'progress', scanned: p.counts.scanned, rotated: p.counts.rotated, skipped: p.counts.skipped, conflicts: p.counts.conflicts, failed: p.counts.failed, total: p.total ?? null, fraction: p.fraction ?? null, recordsPerSecond: Math.round(p.recordsPerSecond), etaSeconds: p.etaSeconds === undefined ? null : Math.round(p.etaSeconds) }) + '\n');
        } else {
          stderr.write(`${new Date().toISOString()} ${progressLine(p, false)}\n`);
        }
      }
    },
    done() {
      if (drawn) stderr.write('\n');
    },
  };
}

/** The human summary printed at the end. Ids and codes only; never document contents. */
export function summary(report: RotationReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? 'would rotate' : 'rotated';
  const state = report.complete ? (report.dryRun ? 'dry run complete: nothing was written' : 'complete') : `stopped (${report.stopReason ?? 'incomplete'})`;
  lines.push(`${report.mode} of ${report.store}${report.shard ? ` shard ${report.shard}` : ''}: ${state}${report.resumed ? ' (resumed)' : ''}`);
  lines.push(`  scanned ${n(report.scanned)}, ${verb} ${n(report.rotated)}, skipped ${n(report.skipped)}, conflicts ${n(report.conflicts)}, failed ${n(report.failed)}  (${formatDuration(report.durationMs / 1000)}, ${n(report.recordsPerSecond)} records/s)`);
  // In words: an operator deletes the old key only after reading how many documents really moved.
  lines.push(`  ${n(report.rotated)} document(s) ${report.dryRun ? 'would be rewritten' : 'rewritten'}, ${n(report.skipped)} already current`);
  for (const [reason, count] of Object.entries(report.skippedByReason)) lines.push(`  skipped ${reason}: ${n(count)}`);
  for (const [reason, count] of Object.entries(report.failedByReason)) lines.push(`  failed ${reason}: ${n(count)}`);
  const keys = Object.entries(report.bySourceKey);
  if (keys.length > 0) {
    lines.push('  by source key:');
    for (const [key, c] of keys) lines.push(`    ${key}: scanned ${n(c.scanned)}, ${verb} ${n(c.rotated)}, skipped ${n(c.skipped)}, conflicts ${n(c.conflicts)}, failed ${n(c.failed)}`);
  }
  if (report.retried > 0) {
    const listed = report.retriedRecords.slice(0, 20).map((r) => `${r.id} (${r.outcome}${r.reason !== undefined ? ` ${r.reason}` : ''})`);
    lines.push(`  retried ${n(report.retried)} record(s) that failed in an earlier run: ${listed.join(', ')}${report.retried > listed.length ? ', ...' : ''}`);
  }
  if (report.unretriedFailures !== undefined) lines.push(`  ${n(report.unretriedFailures)} earlier failure(s) beyond the checkpoint's list were not retried: run the same command again (without --resume) to pick them up`);
  if (report.failedRecords.length > 0) lines.push(`  first failed ids: ${report.failedRecords.slice(0, 20).map((f) => `${f.id} (${f.reason})`).join(', ')}`);
  if (report.conflicts > 0) lines.push(`  ${n(report.conflicts)} record(s) changed by the application during the run were left alone; run again to rotate them (ids: ${report.conflictRecords.slice(0, 20).join(', ')})`);
  if (!report.complete && report.checkpoint) lines.push(`  checkpoint saved: run the same command with --resume to continue (${report.checkpoint})`);
  return lines.join('\n') + '\n';
}
