// SVG chart of the field-size sweep: plaintext throughput (MB/s, log scale) against field size
// (16 B to 1 MiB, log scale), encrypt and decrypt side by side. Plain SVG, no dependencies.
import { sizeName } from './report.mjs';

const COLORS = { a: '#555555', fieldseal: '#1f77b4', 'esdk-commit': '#d62728', 'esdk-default': '#ff7f0e', cloak: '#2ca02c' };
const DASH = { a: '6 4' };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceLogTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) ticks.push(10 ** e);
  return ticks;
}

function fmtTick(v) {
  if (v >= 1000) return `${v / 1000}k`;
  if (v >= 1) return String(v);
  return String(v);
}

/**
 * Render the sweep of a result object as an SVG document.
 * @param {{ sweep: { sizes: number[], series: { subject: string, label: string }[], points: { size: number, subject: string, op: string, mbPerSec: number }[] }, startedAt: string, environment: { node: string, cpus: number, cpuModel: string } }} result
 */
export function renderSweepSvg(result) {
  const { sweep } = result;
  if (!sweep || sweep.points.length === 0) throw new Error('the result has no sweep');
  const W = 980;
  const H = 470;
  const panelW = 400;
  const panelH = 300;
  const top = 70;
  const lefts = [70, 550];
  const values = sweep.points.map((p) => p.mbPerSec).filter((v) => v > 0);
  const yTicks = niceLogTicks(Math.min(...values), Math.max(...values));
  const yLo = Math.log10(yTicks[0]);
  const yHi = Math.log10(yTicks[yTicks.length - 1]);
  const xLo = Math.log2(sweep.sizes[0]);
  const xHi = Math.log2(sweep.sizes[sweep.sizes.length - 1]);
  const xPos = (left, size) => left + ((Math.log2(size) - xLo) / (xHi - xLo || 1)) * panelW;
  const yPos = (v) => top + panelH - ((Math.log10(v) - yLo) / (yHi - yLo || 1)) * panelH;

  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Throughput vs field size (plaintext MB/s, log-log; higher is better)</text>`);
  parts.push(`<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(`one string field per record; run ${result.startedAt}; node ${result.environment.node}; ${result.environment.cpus} x ${result.environment.cpuModel} (shared)`)}</text>`);
  ['encrypt', 'decrypt'].forEach((op, pi) => {
    const left = lefts[pi];
    parts.push(`<text x="${left + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${op}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (const t of yTicks) {
      const y = yPos(t).toFixed(1);
      parts.push(`<line x1="${left}" x2="${left + panelW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`);
    }
    for (const size of sweep.sizes) {
      const x = xPos(left, size).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + panelH}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${x}" y="${top + panelH + 16}" text-anchor="middle">${sizeName(size)}</text>`);
    }
    parts.push(`<text x="${left + panelW / 2}" y="${top + panelH + 36}" text-anchor="middle" fill="#555">field size</text>`);
    parts.push(`<text transform="translate(${left - 48} ${top + panelH / 2}) rotate(-90)" text-anchor="middle" fill="#555">MB/s</text>`);
    for (const s of sweep.series) {
      const pts = sweep.sizes
        .map((size) => sweep.points.find((p) => p.size === size && p.subject === s.subject && p.op === op))
        .filter((p) => p && p.mbPerSec > 0)
        .map((p) => `${xPos(left, p.size).toFixed(1)},${yPos(p.mbPerSec).toFixed(1)}`);
      const color = COLORS[s.subject] ?? '#000';
      parts.push(`<polyline data-subject="${esc(s.subject)}" data-op="${op}" fill="none" stroke="${color}" stroke-width="2"${DASH[s.subject] ? ` stroke-dasharray="${DASH[s.subject]}"` : ''} points="${pts.join(' ')}"/>`);
      for (const p of pts) {
        const [x, y] = p.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
      }
    }
  });
  sweep.series.forEach((s, i) => {
    const color = COLORS[s.subject] ?? '#000';
    const lx = 70 + (i % 3) * 300;
    const ly = top + panelH + 62 + Math.floor(i / 3) * 20;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${DASH[s.subject] ? ` stroke-dasharray="${DASH[s.subject]}"` : ''}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
