// Headless Chromium for the browser tests, driven by playwright-core (no browser download): the one
// place that finds the browser. Order: FIELDSEAL_CHROMIUM, then /usr/bin/chromium, chromium-browser
// and google-chrome (on PATH or in /usr/bin). With none found the browser tests skip, loudly, unless
// FIELDSEAL_REQUIRE_BROWSER=1 (.ci/run sets it): then they fail.
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium binary to use, or `undefined` when there is none (`debianPath` is a parameter for tests). */
export function findChromium(env = process.env, debianPath = '/usr/bin/chromium') {
  // An explicit choice is taken as given: a wrong FIELDSEAL_CHROMIUM fails at launch, never skips;
  // `none` says there is no browser here (to try the skip path on a machine that has one).
  if (env.FIELDSEAL_CHROMIUM === 'none') return undefined;
  if (env.FIELDSEAL_CHROMIUM) return env.FIELDSEAL_CHROMIUM;
  if (executable(debianPath)) return debianPath;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), dirname(debianPath)];
  for (const name of CANDIDATES) {
    for (const dir of dirs) {
      if (executable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

export const CHROMIUM_PATH = findChromium();
export const REQUIRE_BROWSER = process.env.FIELDSEAL_REQUIRE_BROWSER === '1';
/** True when the browser tests must be skipped: no Chromium here, and none required. */
export const SKIP_BROWSER_TESTS = CHROMIUM_PATH === undefined && !REQUIRE_BROWSER;

if (SKIP_BROWSER_TESTS) {
  process.stderr.write(
    '\n' + '!'.repeat(100) + '\n' +
    '!! BROWSER TESTS SKIPPED: no Chromium found (FIELDSEAL_CHROMIUM, /usr/bin/chromium, chromium-browser, google-chrome).\n' +
    '!! Install one ("apt-get install -y chromium") or point FIELDSEAL_CHROMIUM at it; FIELDSEAL_REQUIRE_BROWSER=1 makes this a failure.\n' +
    '!'.repeat(100) + '\n\n',
  );
}

// Without the background-networking flags Chromium reaches out to Google services on start.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch Chromium, or fail with a message that says how to get it (tests that call this are skipped when {@link SKIP_BROWSER_TESTS}). */
export async function launchChromium() {
  if (CHROMIUM_PATH === undefined) {
    throw new Error('Chromium not found and FIELDSEAL_REQUIRE_BROWSER=1: the browser tests need it. Install it with "apt-get install -y chromium" (.ci/run does this), or point FIELDSEAL_CHROMIUM at a Chromium binary.');
  }
  if (!executable(CHROMIUM_PATH)) throw new Error(`Chromium not executable at ${CHROMIUM_PATH} (from FIELDSEAL_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}
