import type { Writable } from 'node:stream';

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * A one-line progress display on stderr (records, records/s, and an ETA when the input size is
 * known), shown only when stderr is a terminal so logs and pipes never get control characters.
 */
export function progressReporter(stderr: Writable, totalBytes: number | undefined, now: () => number = () => performance.now()) {
  const tty = (stderr as Writable & { isTTY?: boolean }).isTTY === true;
  const started = now();
  let last = -Infinity;
  let records = 0;
  let bytes = 0;
  let shown = false;
  const draw = () => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? records / elapsed : 0;
    let text = `${records.toLocaleString('en-US')} records, ${Math.round(rate).toLocaleString('en-US')} records/s`;
    if (totalBytes !== undefined && totalBytes > 0 && bytes > 0) {
      const fraction = Math.min(1, bytes / totalBytes);
      text += `, ${Math.floor(fraction * 100)}%`;
      if (fraction > 0 && fraction < 1) text += `, ETA ${duration((elapsed / fraction) * (1 - fraction))}`;
    }
    stderr.write(`\r\x1b[2K${text}`);
    shown = true;
  };
  return {
    bytes(n: number) {
      bytes += n;
    },
    /** `count` more records done (a batch from a worker thread at once). */
    record(count = 1) {
      records += count;
      if (!tty) return;
      const t = now();
      if (t - last >= 200) {
        last = t;
        draw();
      }
    },
    /** The final count stays on screen (a terminal only). */
    done() {
      if (!tty) return;
      draw();
      stderr.write('\n');
      shown = false;
    },
    clear() {
      if (shown) stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
