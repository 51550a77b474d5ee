// Plain-text and Markdown renderings of a result object (and of several runs side by side).

const fmtOps = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const fmtMs = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
const fmtRatio = (r) => (r >= 0.1 ? `${r.toFixed(2)}x` : `${r.toFixed(4)}x`);

function pad(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((cell, c) => (c <= 1 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  ')).join('\n');
}

/** The console table of one run. */
export function textReport(result) {
  const out = [];
  out.push(`fieldseal benchmarks — ${result.startedAt} — node ${result.environment.node}, ${result.environment.cpus} x ${result.environment.cpuModel}, load ${result.environment.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  for (const w of result.workloads) {
    out.push('', w.title);
    const rows = [['subject', 'op', 'ops/s', 'mean', 'p99', '±%', 'vs (a)', 'CPU µs/op', 'CPU vs (a)']];
    for (const r of w.rows) rows.push([r.label, r.op, fmtOps(r.opsPerSec), fmtMs(r.meanMs), fmtMs(r.p99Ms), r.rmePct.toFixed(1), fmtRatio(r.ratio), r.cpuUsPerOp.toFixed(1), fmtRatio(r.cpuRatio)]);
    out.push(pad(rows));
  }
  if (result.kms) out.push('', ...kmsLines(result.kms));
  if (result.rotation) out.push('', ...rotationLines(result.rotation));
  if (result.sizes) out.push('', ...sizeLines(result.sizes));
  if (result.sweep) {
    out.push('', 'Sweep: throughput (MB/s of plaintext) by field size');
    const rows = [['subject', 'op', ...result.sweep.sizes.map(sizeName)]];
    for (const s of result.sweep.series) {
      for (const op of ['encrypt', 'decrypt']) {
        rows.push([s.label, op, ...result.sweep.sizes.map((size) => result.sweep.points.find((p) => p.size === size && p.subject === s.subject && p.op === op)?.mbPerSec.toFixed(1) ?? '-')]);
      }
    }
    out.push(pad(rows));
  }
  if (result.targets.length > 0) {
    out.push('', 'DESIGN.md targets');
    const rows = [['target', 'want', 'got', 'met', 'CPU-time ratio']];
    for (const t of result.targets) rows.push([t.description, t.target, t.value === null ? 'n/a' : Number.isInteger(t.value) ? String(t.value) : t.value.toFixed(2), t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.cpuRatio === undefined ? '' : t.cpuRatio.toFixed(2)]);
    out.push(pad(rows));
  }
  return out.join('\n');
}

export function sizeName(size) {
  if (size >= 1048576) return `${size / 1048576} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

function kmsLines(kms) {
  if (kms.skipped) return [`W4: skipped — ${kms.skipped}`];
  const lines = ['W4: AWS KMS emulator'];
  const rows = [['setup', 'op', 'records/s', 'vs (a)', 'KMS calls', 'per 1,000 records']];
  rows.push(['CachingKeyring (defaults), sequential', 'encrypt', fmtOps(kms.cached.encrypt.opsPerSec), fmtRatio(kms.cached.encrypt.ratio), kms.cached.encrypt.kmsCalls, kms.cached.encryptKmsCallsPer1000.toFixed(2)]);
  rows.push(['CachingKeyring (defaults), sequential', 'decrypt', fmtOps(kms.cached.decrypt.opsPerSec), fmtRatio(kms.cached.decrypt.ratio), kms.cached.decrypt.kmsCalls, kms.cached.decryptKmsCallsPer1000.toFixed(2)]);
  for (const u of kms.uncached) {
    for (const op of ['encrypt', 'decrypt']) rows.push([`no cache, concurrency ${u.concurrency}`, op, fmtOps(u[op].opsPerSec), fmtRatio(u[op].ratio), u[op].kmsCalls, u[op].kmsCallsPer1000.toFixed(0)]);
  }
  lines.push(pad(rows));
  lines.push(`64 concurrent encrypts on a cold CachingKeyring: ${kms.coldConcurrent.kmsCalls} KMS call(s) (${JSON.stringify(kms.coldConcurrent.byOperation)})`);
  return lines;
}

function rotationLines(rot) {
  const lines = [`W5: core rewrap in memory: ${fmtOps(rot.inMemoryRewrap.recordsPerSec)} records/s (${rot.inMemoryRewrap.records} records)`];
  if (rot.ndjson?.skipped) lines.push(`W5: NDJSON rotation job: skipped — ${rot.ndjson.skipped}`);
  else if (rot.ndjson) lines.push(`W5: NDJSON rotation job (rewrap): ${fmtOps(rot.ndjson.recordsPerSec)} records/s (${rot.ndjson.records} records, ${rot.ndjson.elapsedMs.toFixed(0)} ms)`);
  return lines;
}

function sizeLines(sizes) {
  const rows = [['subject', 'max chars added per field', 'mean']];
  const add = (label, s) => rows.push([label, s.perField.maxOverheadChars, s.perField.meanOverheadChars.toFixed(1)]);
  add('fieldseal', sizes.fieldseal);
  add('(a) node:crypto', sizes.baseline);
  add('@47ng/cloak', sizes.cloak);
  add('ESDK per field, committing', sizes.esdkFieldCommit);
  add('ESDK per field, default (signed)', sizes.esdkFieldDefault);
  return [
    'Sizes (W1 record, 8 fields)',
    pad(rows),
    `fieldseal header, one local KEK: ${sizes.fieldseal.header.chars} B for 8 fields, ${sizes.fieldseal.header.oneFieldChars} B for one field (${sizes.fieldseal.header.jsonPropertyChars} with its JSON property); sealed record ${sizes.fieldseal.recordJsonBytes} B vs plain ${sizes.plainRecordJsonBytes} B; ESDK per record ${sizes.esdkRecordCommit.recordJsonBytes} B`,
  ];
}

/** Markdown: one table per workload with every run's ratio side by side, and the spread. */
export function markdownRuns(runs) {
  const out = [];
  const first = runs[0];
  const ratioRange = (vals) => {
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    return `${(((hi - lo) / ((hi + lo) / 2)) * 100).toFixed(0)}%`;
  };
  for (const w of first.workloads) {
    out.push(`### ${w.title}`, '');
    out.push(`| subject | op | ${runs.map((_, i) => `ops/s run ${i + 1}`).join(' | ')} | mean (run 1) | p99 (run 1) | ${runs.map((_, i) => `vs (a) run ${i + 1}`).join(' | ')} | ratio spread | ${runs.map((_, i) => `CPU-time vs (a) run ${i + 1}`).join(' | ')} |`);
    out.push(`|---|---|${runs.map(() => '--:').join('|')}|--:|--:|${runs.map(() => '--:').join('|')}|--:|${runs.map(() => '--:').join('|')}|`);
    for (const r of w.rows) {
      const same = runs.map((run) => run.workloads.find((x) => x.id === w.id)?.rows.find((x) => x.subject === r.subject && x.op === r.op));
      const ratios = same.map((x) => x?.ratio ?? NaN);
      out.push(`| ${r.label} | ${r.op} | ${same.map((x) => (x ? fmtOps(x.opsPerSec) : '-')).join(' | ')} | ${fmtMs(r.meanMs)} | ${fmtMs(r.p99Ms)} | ${ratios.map((x) => (Number.isNaN(x) ? '-' : fmtRatio(x))).join(' | ')} | ${r.subject === w.baseline ? '—' : ratioRange(ratios)} | ${same.map((x) => (x ? fmtRatio(x.cpuRatio) : '-')).join(' | ')} |`);
    }
    out.push('');
  }
  const kmsRuns = runs.map((r) => r.kms).filter((k) => k && !k.skipped);
  if (kmsRuns.length > 0) {
    out.push('### W4: AWS KMS emulator (real @aws-sdk/client-kms, SigV4, loopback)', '');
    out.push(`| setup | op | ${kmsRuns.map((_, i) => `records/s run ${i + 1}`).join(' | ')} | ${kmsRuns.map((_, i) => `vs (a) run ${i + 1}`).join(' | ')} | KMS calls per 1,000 records |`);
    out.push(`|---|---|${kmsRuns.map(() => '--:').join('|')}|${kmsRuns.map(() => '--:').join('|')}|--:|`);
    const line = (label, op, pick, per) => out.push(`| ${label} | ${op} | ${kmsRuns.map((k) => fmtOps(pick(k).opsPerSec)).join(' | ')} | ${kmsRuns.map((k) => fmtRatio(pick(k).ratio)).join(' | ')} | ${kmsRuns.map(per).map((x) => x.toFixed(2)).join(' / ')} |`);
    line('CachingKeyring (defaults), sequential', 'encrypt', (k) => k.cached.encrypt, (k) => k.cached.encryptKmsCallsPer1000);
    line('CachingKeyring (defaults), sequential, cold reader', 'decrypt', (k) => k.cached.decrypt, (k) => k.cached.decryptKmsCallsPer1000);
    kmsRuns[0].uncached.forEach((u, i) => {
      for (const op of ['encrypt', 'decrypt']) line(`no cache, ${u.concurrency} concurrent`, op, (k) => k.uncached[i][op], (k) => k.uncached[i][op].kmsCallsPer1000);
    });
    out.push('', `64 concurrent encrypts on a cold CachingKeyring: ${kmsRuns.map((k) => k.coldConcurrent.kmsCalls).join(' / ')} KMS call(s).`, '');
  }
  const rot = runs.map((r) => r.rotation).filter(Boolean);
  if (rot.length > 0) {
    out.push('### W5: rotation (rewrap)', '');
    out.push(`| what | ${rot.map((_, i) => `records/s run ${i + 1}`).join(' | ')} |`, `|---|${rot.map(() => '--:').join('|')}|`);
    out.push(`| core \`rewrap\`, in memory, LocalKeyring → LocalKeyring | ${rot.map((r) => fmtOps(r.inMemoryRewrap.recordsPerSec)).join(' | ')} |`);
    if (rot.every((r) => r.ndjson && !r.ndjson.skipped)) out.push(`| \`@fieldseal/rotation\` NDJSON job (scan, rewrap, verify, atomic replace) | ${rot.map((r) => fmtOps(r.ndjson.recordsPerSec)).join(' | ')} |`);
    else out.push(`| \`@fieldseal/rotation\` NDJSON job | ${rot.map((r) => (r.ndjson?.skipped ? 'skipped' : '-')).join(' | ')} |`);
    out.push('');
  }
  const last = runs[runs.length - 1];
  if (last.sizes) {
    const s = last.sizes;
    out.push(`### Sizes (W1 record, 8 string fields of 10–20 bytes; run ${runs.length})`, '');
    out.push('| subject | max characters a field adds over base64url(plaintext) | mean |', '|---|--:|--:|');
    const row = (label, x) => out.push(`| ${label} | ${x.perField.maxOverheadChars} | ${x.perField.meanOverheadChars.toFixed(1)} |`);
    row('fieldseal', s.fieldseal);
    row('(a) node:crypto, base64url(iv ‖ ct ‖ tag)', s.baseline);
    row('@47ng/cloak', s.cloak);
    row('ESDK per field, committing suite', s.esdkFieldCommit);
    row('ESDK per field, default suite (signed)', s.esdkFieldDefault);
    out.push('', `fieldseal header with one local KEK and a two-pair context: **${s.fieldseal.header.chars} bytes** for the W1 record (8 field pointers listed; ${s.fieldseal.header.jsonPropertyChars} with \`"_fieldseal":\` and quotes), **${s.fieldseal.header.oneFieldChars} bytes** for a one-field document. Sealed W1 record: ${s.fieldseal.recordJsonBytes} B of JSON (plain: ${s.plainRecordJsonBytes} B; ESDK one message per record: ${s.esdkRecordCommit.recordJsonBytes} B).`, '');
  }
  out.push('### Targets', '');
  out.push(`| target | want | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | met | CPU-time ratio (runs) |`, `|---|--:|${runs.map(() => '--:').join('|')}|---|--:|`);
  for (const t of first.targets) {
    const vals = runs.map((r) => r.targets.find((x) => x.id === t.id));
    const fmt = (v) => (v === null || v === undefined ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(2));
    const metRuns = vals.filter((v) => v?.met === true).length;
    const met = vals.every((v) => v?.met === true) ? 'yes' : vals.every((v) => v?.met === false) ? '**no**' : vals.some((v) => v?.met === null) ? 'n/a' : `in ${metRuns} of ${vals.length} runs`;
    out.push(`| ${t.description} | ${t.target} | ${vals.map((v) => fmt(v?.value)).join(' | ')} | ${met} | ${vals.every((v) => v?.cpuRatio !== undefined) ? vals.map((v) => v.cpuRatio.toFixed(2)).join(' / ') : ''} |`);
  }
  out.push('');
  return out.join('\n');
}
