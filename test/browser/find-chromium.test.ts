// The one place that finds a browser for the browser tests: the order it looks in, and that it finds
// nothing (so the tests skip, or fail under FIELDSEAL_REQUIRE_BROWSER=1) where there is nothing.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium } from './chromium.mjs';

const root = mkdtempSync(join(tmpdir(), 'fieldseal-find-chromium-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeBinary(dir: string, name: string, mode = 0o755): string {
  mkdirSync(join(root, dir), { recursive: true });
  const path = join(root, dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, mode);
  return path;
}

describe('findChromium', () => {
  const noDebian = join(root, 'absent', 'chromium');

  it('FIELDSEAL_CHROMIUM wins, even over a Debian chromium; "none" means no browser', () => {
    const debian = fakeBinary('debian', 'chromium');
    expect(findChromium({ FIELDSEAL_CHROMIUM: '/opt/my/chrome', PATH: '' }, debian)).toBe('/opt/my/chrome');
    expect(findChromium({ FIELDSEAL_CHROMIUM: 'none', PATH: '' }, debian)).toBeUndefined();
    expect(findChromium({ PATH: '' }, debian)).toBe(debian);
  });

  it('then chromium, chromium-browser and google-chrome on PATH, in that order', () => {
    const a = fakeBinary('a', 'google-chrome');
    const b = fakeBinary('b', 'chromium-browser');
    const PATH = [join(root, 'a'), join(root, 'b')].join(':');
    expect(findChromium({ PATH }, noDebian)).toBe(b);
    expect(findChromium({ PATH: join(root, 'a') }, noDebian)).toBe(a);
    const c = fakeBinary('c', 'chromium');
    expect(findChromium({ PATH: `${PATH}:${join(root, 'c')}` }, noDebian)).toBe(c);
  });

  it('finds nothing where there is nothing, and ignores files that are not executable', () => {
    fakeBinary('d', 'chromium', 0o644);
    expect(findChromium({ PATH: join(root, 'd') }, noDebian)).toBeUndefined();
    expect(findChromium({}, noDebian)).toBeUndefined();
  });
});
