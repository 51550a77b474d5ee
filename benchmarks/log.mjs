#!/usr/bin/env node
// @fieldseal/log against pino's own `redact`, in the same run: lines per second written to a
// discarding stream, and the ratio to pino's redact. `npm run bench:log` from the root (builds first).
// Options: --time MS per task (default 1500), --rounds N (default 3; the best round counts).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { defineSensitivePaths, pinoRedaction } from '@fieldseal/log';

const { values } = parseArgs({ options: { time: { type: 'string', default: '1500' }, rounds: { type: 'string', default: '3' } } });
const timeMs = Number(values.time);
const rounds = Number(values.rounds);

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
const line = { req: { id: 'r-1', method: 'POST', url: '/customers' }, ssn: '078-05-1120', user: { email: 'ada@example.com', name: 'Ada' }, cards: [{ number: '4111111111111111', exp: '12/30' }, { number: '5500000000000004', exp: '01/31' }], status: 201 };
const fixed = defineSensitivePaths(['$.ssn', '$.user.email', '$.cards[*].number']);
const withDescendant = defineSensitivePaths(['$.ssn', '$.user.email', '$.cards[*].number', '$..password']);

const subjects = {
  'pino, no redaction': pino({ base: undefined }, sink()),
  "pino's own redact (baseline)": pino({ base: undefined, redact: { paths: ['ssn', 'user.email', 'cards[*].number'], censor: '[REDACTED]' } }, sink()),
  'fieldseal censor': pino({ base: undefined, ...pinoRedaction(fixed) }, sink()),
  'fieldseal beacon': pino({ base: undefined, ...pinoRedaction(fixed, { mode: 'beacon', beaconKey: randomBytes(32) }) }, sink()),
  'fieldseal censor + $..password (walked)': pino({ base: undefined, ...pinoRedaction(withDescendant) }, sink()),
};

function measure(logger) {
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const end = performance.now() + timeMs / rounds;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) logger.info(line, 'created');
      n += 100;
    }
    best = Math.max(best, n / (timeMs / rounds / 1000));
  }
  return best;
}

for (const logger of Object.values(subjects)) measure(logger); // warm-up
const results = Object.fromEntries(Object.entries(subjects).map(([name, logger]) => [name, measure(logger)]));
const baseline = results["pino's own redact (baseline)"];
console.log('| subject | lines/s | ratio to pino redact |\n|---|---:|---:|');
for (const [name, rate] of Object.entries(results)) console.log(`| ${name} | ${Math.round(rate).toLocaleString('en-US')} | ${(rate / baseline).toFixed(2)}x |`);
