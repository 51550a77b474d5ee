// Keeps the benchmark suite from rotting: runs every workload with tiny iteration counts and checks
// that the results are well formed. It asserts nothing about speed (that is what `npm run bench`
// is for, on a quiet machine, with ratios to a baseline measured in the same run).
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM JavaScript without type declarations (the suite runs under bare node)
import { runSuite, SCHEMA } from './lib/suite.mjs';
// @ts-expect-error -- idem
import { textReport, markdownRuns } from './lib/report.mjs';
// @ts-expect-error -- idem
import { renderSweepSvg } from './lib/chart.mjs';

interface Row {
  subject: string;
  op: string;
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  samples: number;
  ratio: number;
  cpuUsPerOp: number;
  cpuRatio: number;
}

const tiny = {
  timeMs: 10,
  warmupMs: 2,
  rounds: 2,
  minIterations: 2,
  sweepTimeMs: 4,
  sweepSizes: [16, 4096],
  kmsRecords: 8,
  kmsTimeMs: 10,
  kmsConcurrency: 2,
  rotationRecords: 4,
};

describe('benchmark suite (smoke run, tiny iteration counts)', () => {
  it('runs every workload and produces well-formed results', async () => {
    const lines: string[] = [];
    const result = await runSuite(tiny, (l: string) => lines.push(l));
    expect(result.schema).toBe(SCHEMA);
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);

    expect(result.workloads.map((w: { id: string }) => w.id)).toEqual(['W1', 'W2', 'W3']);
    for (const w of result.workloads as { id: string; baseline: string; rows: Row[] }[]) {
      const subjects = new Set(w.rows.map((r) => r.subject));
      expect(subjects.has('a') && subjects.has('fieldseal')).toBe(true);
      expect(w.rows.length).toBe(subjects.size * 2);
      for (const r of w.rows) {
        expect(['encrypt', 'decrypt']).toContain(r.op);
        expect(r.samples).toBeGreaterThanOrEqual(tiny.minIterations);
        for (const v of [r.opsPerSec, r.meanMs, r.p50Ms, r.p99Ms, r.ratio, r.cpuUsPerOp, r.cpuRatio]) expect(Number.isFinite(v) && v > 0).toBe(true);
        expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
        expect(r.opsPerSec).toBeCloseTo(1000 / r.meanMs, 6);
        if (r.subject === w.baseline) expect(r.ratio).toBe(1);
      }
    }
    // The peers named by the issue are all in W1.
    const w1 = (result.workloads[0] as { rows: Row[] }).rows.map((r) => r.subject);
    for (const peer of ['esdk-record-commit', 'esdk-record-default', 'esdk-field-commit', 'esdk-field-default', 'cloak']) expect(w1).toContain(peer);

    // Sizes: fieldseal's per-field overhead and header are measured, and plausible.
    expect(result.sizes.fieldseal.perField.fields).toHaveLength(8);
    expect(result.sizes.fieldseal.perField.maxOverheadChars).toBeGreaterThan(28); // at least iv + tag
    expect(result.sizes.fieldseal.header.chars).toBeGreaterThan(32);

    // Sweep: one point per size, subject and operation.
    expect(result.sweep.points).toHaveLength(tiny.sweepSizes.length * result.sweep.series.length * 2);
    const svg: string = renderSweepSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(result.sweep.series.length * 2);

    // W4: the emulator counts KMS calls; W5: rotation throughput (the NDJSON job may report "skipped").
    if (!result.kms.skipped) {
      expect(result.kms.cached.encrypt.kmsCalls).toBeGreaterThanOrEqual(1);
      expect(Number.isFinite(result.kms.cached.encryptKmsCallsPer1000)).toBe(true);
      expect(result.kms.coldConcurrent.ops).toBe(64);
      expect(result.kms.uncached).toHaveLength(2);
      for (const u of result.kms.uncached) expect(u.encrypt.kmsCalls).toBeGreaterThanOrEqual(u.encrypt.ops);
    }
    expect(result.rotation.inMemoryRewrap.recordsPerSec).toBeGreaterThan(0);

    // Targets are evaluated (met or not) for every measured workload.
    const byId = new Map((result.targets as { id: string; met: boolean | null }[]).map((t) => [t.id, t]));
    for (const id of ['W1-encrypt', 'W1-decrypt', 'W2-encrypt', 'W2-decrypt', 'W3-encrypt', 'W3-decrypt', 'field-overhead', 'header-size']) expect(typeof byId.get(id)?.met).toBe('boolean');
    // W2's control, (a) timed again as a subject of its own: a ratio with no verdict.
    for (const id of ['W2-encrypt-control', 'W2-decrypt-control']) expect(byId.get(id)).toMatchObject({ met: null, value: expect.any(Number) });

    const text: string = textReport(result);
    expect(text).toContain('W1: customer record');
    const md: string = markdownRuns([result, result]);
    expect(md).toContain('| subject | op |');
  }, 120_000);
});

describe('the W2 floor (lib/floor.mjs makeTextFloor)', () => {
  it('seals the type byte and the text: an AES-GCM blob of IV, 1 + UTF-8 length and tag, per call a fresh one', async () => {
    // @ts-expect-error -- plain ESM JavaScript without type declarations
    const { makeTextFloor } = await import('./lib/floor.mjs');
    const record = { id: 'x', data: 'é'.repeat(1000) + 'abc' };
    const floor = makeTextFloor(record);
    const a = await floor.encrypt();
    const b = await floor.encrypt();
    expect(a.id).toBe('x');
    expect(a.data.startsWith('fs1.')).toBe(true);
    expect(Buffer.from(a.data.slice(4), 'base64url').length).toBe(12 + 1 + Buffer.byteLength(record.data) + 16);
    expect(a.data).not.toBe(b.data);
    expect(record.data.startsWith('é')).toBe(true);
  });
});
