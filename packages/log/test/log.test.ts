import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import pino from 'pino';
import winston from 'winston';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalKeyring } from '@fieldseal/core';
import { defineSensitivePaths, logBeacon, pinoRedaction, sealingStream, winstonRedaction } from '@fieldseal/log';

const sensitive = defineSensitivePaths(['$.ssn', '$.user.email', '$.cards[*].number', '$..password', '$.list[-1]', "$['odd.key']"]);
const SECRETS = ['078-05-1120', 'ada@example.com', '4111111111111111', '5500000000000004', 'hunter2', 'correct horse', 'last-one', 'odd-secret', 'bound-ssn-111', 'bound-pw-222'];

/** A destination that keeps every byte written. */
function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

function logEverything(logger: { info: (o: object, m?: string) => void; error: (o: object, m?: string) => void; child: (b: object) => any }) {
  logger.info({ ssn: '078-05-1120', user: { email: 'ada@example.com', name: 'Ada' }, cards: [{ number: '4111111111111111', exp: '12/30' }, { number: '5500000000000004' }] }, 'signup');
  logger.info({ deep: { a: [{ b: { password: 'hunter2' } }], password: 'correct horse' }, list: ['first', 'last-one'], 'odd.key': 'odd-secret' }, 'nested');
  const err = Object.assign(new Error('lookup failed'), { ssn: 'err-ssn-999', password: 'hunter2' });
  logger.error({ err }, 'failure');
  const child = logger.child({ ssn: 'bound-ssn-111', ctx: { password: 'bound-pw-222' } });
  child.info({ step: 1 }, 'child line');
}

function expectNoSecrets(text: string) {
  for (const s of SECRETS) expect(text, s).not.toContain(s);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('pino', () => {
  test('censor mode: no selected plaintext in the emitted bytes (nested, arrays, errors, child bindings); the rest intact', () => {
    const out = capture();
    const logger = pino(pinoRedaction(sensitive), out.stream);
    logEverything(logger);
    const text = out.text();
    expectNoSecrets(text);
    expect(text).toContain('[REDACTED]');
    const [signup, nested, failure, child] = out.lines();
    expect(signup.user.name).toBe('Ada');
    expect(signup.cards[0].exp).toBe('12/30');
    expect(nested.list[0]).toBe('first');
    expect(failure.err.message).toBe('lookup failed');
    expect(failure.err.ssn).toBe('err-ssn-999'); // `$.ssn` is top-level only: unselected paths are untouched
    expect(child.step).toBe(1);
    expect(child.msg).toBe('child line');
  });

  test('selectors pino cannot express go to the formatter path, never dropped', () => {
    const plan = pinoRedaction(sensitive).plan;
    expect(plan.walkedSelectors).toEqual(['$..password', '$.list[-1]']);
    expect(plan.pinoPaths).toEqual(['ssn', 'user.email', 'cards[*].number', '["odd.key"]']);
  });

  test('beacon mode: equal values give equal beacons, computable by logBeacon; no plaintext', () => {
    const beaconKey = randomBytes(32);
    const out = capture();
    const logger = pino(pinoRedaction(sensitive, { mode: 'beacon', beaconKey }), out.stream);
    logEverything(logger);
    logger.info({ ssn: '078-05-1120' }, 'again');
    expectNoSecrets(out.text());
    const lines = out.lines();
    expect(lines[0].ssn).toBe(logBeacon(beaconKey, '078-05-1120'));
    expect(lines[4].ssn).toBe(lines[0].ssn);
    expect(lines[1].deep.password).toBe(logBeacon(beaconKey, 'correct horse'));
    expect(lines[0].ssn).not.toBe(logBeacon(randomBytes(32), '078-05-1120'));
  });

  test('hostile log objects: cycles, throwing getters, 200-deep nesting give no crash and no leak', () => {
    const out = capture();
    const logger = pino(pinoRedaction(sensitive), out.stream);
    const cyclic: any = { password: 'hunter2', inner: {} };
    cyclic.inner.self = cyclic;
    cyclic.inner.password = 'correct horse';
    let deep: any = { password: 'hunter2' };
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const getter = Object.defineProperty({ password: 'hunter2' }, 'boom', { enumerable: true, get: () => { throw new Error('getter'); } });
    logger.info({ cyclic }, 'c');
    logger.info({ deep }, 'd');
    logger.info({ getter }, 'g');
    expectNoSecrets(out.text());
    expect(out.text()).toContain('[fieldseal: too deep to redact]');
  });

  test('property: the pino fast path redacts exactly what the selector walker selects', () => {
    const key = fc.constantFrom('a', 'b', 'x.y', 'n-1', '0');
    const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null));
    const tree = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 3 })) })).node;
    const selectors = fc.constantFrom('$.a', '$.a.b', '$.a[*]', '$.*.b', '$.a[1]', "$['x.y'].a", "$['n-1']", '$.b[*].a', "$['a','b']");
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 4 }), selectors, (obj, selector) => {
        const paths = defineSensitivePaths([selector]);
        const config = pinoRedaction(paths);
        expect(config.plan.walkedSelectors).toEqual([]);
        const fast = capture();
        pino({ ...config, base: undefined, timestamp: false }, fast.stream).info(obj);
        // Reference: the same selector applied by the walker to the finished line.
        const walker = winstonRedaction(paths);
        const walkerOnly = capture();
        pino({ hooks: { streamWrite: (line: string) => JSON.stringify(walker.transform(JSON.parse(line))) + '\n' }, base: undefined, timestamp: false }, walkerOnly.stream).info(obj);
        expect(JSON.parse(fast.text())).toEqual(JSON.parse(walkerOnly.text()));
      }),
      { numRuns: 300 },
    );
  });
});

describe('winston', () => {
  test('censor mode: no selected plaintext; the caller\'s objects are not changed; Symbol keys kept', () => {
    const out = capture();
    const logger = winston.createLogger({ format: winston.format.combine(winstonRedaction(sensitive), winston.format.json()), transports: [new winston.transports.Stream({ stream: out.stream })] });
    const meta = { ssn: '078-05-1120', user: { email: 'ada@example.com', name: 'Ada' }, deep: { password: 'hunter2' } };
    logger.info('signup', meta);
    logger.info({ message: 'nested', cards: [{ number: '4111111111111111' }], list: ['a', 'last-one'], 'odd.key': 'odd-secret' });
    logger.child({ requestId: 'r1', ctx: { password: 'bound-pw-222' } }).info('child', { ssn: 'bound-ssn-111' });
    logger.error('failure', { err: Object.assign(new Error('x'), { password: 'hunter2' }) });
    expect(meta).toEqual({ ssn: '078-05-1120', user: { email: 'ada@example.com', name: 'Ada' }, deep: { password: 'hunter2' } });
    const text = out.text();
    expectNoSecrets(text);
    const lines = out.lines();
    expect(lines[0].level).toBe('info');
    expect(lines[0].user.name).toBe('Ada');
    expect(lines[2].requestId).toBe('r1');
  });

  test('beacon mode gives the same beacons as pino for the same key', () => {
    const beaconKey = randomBytes(32);
    const out = capture();
    const logger = winston.createLogger({ format: winston.format.combine(winstonRedaction(sensitive, { mode: 'beacon', beaconKey }), winston.format.json()), transports: [new winston.transports.Stream({ stream: out.stream })] });
    logger.info('x', { ssn: '078-05-1120' });
    expect(out.lines()[0].ssn).toBe(logBeacon(beaconKey, '078-05-1120'));
  });
});

describe('sealing stream', () => {
  test('pino lines are sealed, open with `fieldseal decrypt --ndjson`, and carry no plaintext', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fieldseal-log-'));
    dirs.push(dir);
    const cli = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
    const keyFile = join(dir, 'log-keys.json');
    expect(spawnSync(process.execPath, [cli, 'keygen', '--out', keyFile], { encoding: 'utf8' }).status).toBe(0);
    const keyring = LocalKeyring.fromKeyFile(readFileSync(keyFile, 'utf8'));
    const out = capture();
    const errors: number[] = [];
    const sealer = sealingStream(defineSensitivePaths(['$.ssn', '$.user.email', '$.cards[*].number', '$..password']), out.stream, { keyring, context: { log: 'api' }, onError: (_e, line) => errors.push(line) });
    const logger = pino({ base: undefined }, sealer);
    logEverything(logger);
    logger.info({ plain: 'nothing secret' }, 'plain line');
    sealer.write('not json\n');
    await new Promise<void>((resolve) => sealer.end(resolve));
    const text = out.text();
    // Only these four selectors are sealed here; `$.list[-1]` and `$['odd.key']` are not in this set.
    for (const s of ['078-05-1120', 'ada@example.com', '4111111111111111', '5500000000000004', 'hunter2', 'correct horse', 'bound-ssn-111', 'bound-pw-222']) expect(text).not.toContain(s);
    expect(errors).toEqual([6]);
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4]!)).toMatchObject({ plain: 'nothing secret' });
    const sealedFile = join(dir, 'sealed.ndjson');
    // Lines with no sensitive value pass unchanged; the responder opens the sealed ones.
    writeFileSync(sealedFile, lines.filter((l) => l.includes('"_fieldseal"')).join('\n') + '\n');
    const r = spawnSync(process.execPath, [cli, 'decrypt', '--keyring', `local:${keyFile}`, '--context', 'log=api', '--ndjson', '--in', sealedFile], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const opened = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(opened[0].ssn).toBe('078-05-1120');
    expect(opened[0].cards[1].number).toBe('5500000000000004');
    expect(opened[1].deep.a[0].b.password).toBe('hunter2');
  });

  test('a line that cannot be sealed is written censored, never in plaintext', async () => {
    const out = capture();
    const failing = { wrap: () => Promise.reject(new Error('kms down')), unwrap: () => Promise.reject(new Error('kms down')) };
    const reported: string[] = [];
    const sealer = sealingStream(sensitive, out.stream, { keyring: failing, onError: (e) => reported.push(e.message) });
    sealer.write(JSON.stringify({ ssn: '078-05-1120', ok: 1 }) + '\n');
    await new Promise<void>((resolve) => sealer.end(resolve));
    expectNoSecrets(out.text());
    expect(JSON.parse(out.text())).toMatchObject({ ssn: '[REDACTED]', ok: 1 });
    expect(reported).toHaveLength(1);
  });
});

test('bad configuration is a typed error', () => {
  expect(() => defineSensitivePaths([])).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  expect(() => defineSensitivePaths(['$.a[?@.b]'])).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_SELECTOR' }));
  expect(() => pinoRedaction(sensitive, { mode: 'beacon' })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  expect(() => pinoRedaction(sensitive, { mode: 'seal' as any })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  expect(() => winstonRedaction({} as any)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
});
