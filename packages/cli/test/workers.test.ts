import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseCommandLine, type CommandIo } from '@fieldseal/cli';
import { encrypt } from '../src/commands/encrypt/index.js';
import { transformDocuments } from '../src/transform-documents.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let dir: string;
let keys: string;
let restricted: string;
const p = (name: string) => join(dir, name);

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function memoryIo(): CommandIo & { stdin: PassThrough; out(): string; err(): string } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { stdin, stdout, stderr, out: () => o, err: () => e };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!condition()) throw new Error(`gave up waiting for ${what}`);
}

/** A W1-like record: 8 PII strings (two card numbers in an array) and values left in clear. */
function record(i: number) {
  const n = String(100000 + i);
  return { id: `cus_${n}`, name: `Ada ${n}`, email: `ada.${n}@example.com`, phone: '+44 20 7946 0958', ssn: '078-05-1120', address: { line1: `${i} St James's Square`, city: 'London' }, dob: '1815-12-10', cards: [{ number: '4111111111111111' }, { number: `55000055${n}5` }], plan: 'pro' };
}
const PATHS = ['$.name', '$.email', '$.phone', '$.ssn', '$.address.line1', '$.dob', '$.cards[*].number'].flatMap((s) => ['--path', s]);
const tmpFiles = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/** `count` lines with blank and whitespace-only lines among them (and a CRLF one), ending in a newline. */
function plainLines(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(i % 37 === 5 ? '' : i % 53 === 9 ? '   ' : i === 11 ? JSON.stringify(record(i)) + '\r' : JSON.stringify(record(i)));
  return lines.join('\n') + '\n';
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldseal-cli-workers-'));
  keys = p('keys.json');
  restricted = p('restricted.json');
  expect(run(['keygen', '--out', keys]).code).toBe(0);
  expect(run(['keygen', '--out', restricted, '--name', 'restricted']).code).toBe(0);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('encrypt and decrypt --ndjson --workers N', () => {
  test('round trips with workers give the bytes one thread gives: blank lines kept, line N = line N, several batches', () => {
    // Over 64 KiB of input, so it arrives in several chunks: several batches across both workers.
    const input = plainLines(400);
    expect(input.length).toBeGreaterThan(3 * 65536 / 2);
    writeFileSync(p('plain.ndjson'), input);
    const enc1 = run(['encrypt', '--keyring', `local:${keys}`, ...PATHS, '--context', 'tenant=acme', '--ndjson', '--in', p('plain.ndjson'), '--out', p('sealed1.ndjson')]);
    const enc2 = run(['encrypt', '--keyring', `local:${keys}`, ...PATHS, '--context', 'tenant=acme', '--ndjson', '--workers', '2', '--in', p('plain.ndjson'), '--out', p('sealed2.ndjson')]);
    expect(enc1.code, enc1.stderr).toBe(0);
    expect(enc2.code, enc2.stderr).toBe(0);
    const sealed1 = readFileSync(p('sealed1.ndjson'), 'utf8').split('\n');
    const sealed2 = readFileSync(p('sealed2.ndjson'), 'utf8').split('\n');
    // Sealing is randomized; the shape is not: the same lines blank, every other one sealed.
    expect(sealed2.map((l) => l === '')).toEqual(sealed1.map((l) => l === ''));
    expect(sealed2.filter((l) => l !== '').every((l) => (JSON.parse(l).ssn as string).startsWith('fs1.'))).toBe(true);
    const expected = input.split('\n').map((l) => (l.trim() === '' ? '' : JSON.stringify(JSON.parse(l)))).join('\n');
    // Each sealed file opened with one thread and with two (stdout, from a file and from stdin):
    const outputs = [
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--in', p('sealed1.ndjson')]),
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--in', p('sealed2.ndjson')]),
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--workers', '2', '--in', p('sealed1.ndjson')]),
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--workers', '3'], sealed2.join('\n')),
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--workers', 'auto', '--in', p('sealed2.ndjson'), '--out', p('opened.ndjson')]),
    ];
    for (const o of outputs) expect(o.code, o.stderr).toBe(0);
    expect(outputs[0]!.stdout).toBe(expected);
    for (const o of outputs.slice(1, 4)) expect(o.stdout).toBe(outputs[0]!.stdout);
    expect(readFileSync(p('opened.ndjson'), 'utf8')).toBe(expected);
    expect(statSync(p('opened.ndjson')).mode & 0o777).toBe(0o600);
    // The same sealed input decrypts to the same bytes whatever the thread count.
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--workers', '2', '--path', '$.ssn', '--in', p('sealed1.ndjson')]).stdout).toBe(
      run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--ndjson', '--path', '$.ssn', '--in', p('sealed1.ndjson')]).stdout,
    );
    expect(tmpFiles()).toEqual([]);
  });

  test('key groups, required context and a header name reach every worker', () => {
    const input = plainLines(150);
    const args = ['encrypt', '--keyring', `local:${keys}`, '--path', '$.email', '--group-keyring', `restricted=local:${restricted}`, '--group-path', 'restricted=$.ssn', '--required-context', 'row=a=b', '--header-name', '_enc', '--ndjson', '--workers', '2'];
    const sealed = run(args, input);
    expect(sealed.code, sealed.stderr).toBe(0);
    const first = JSON.parse(sealed.stdout.split('\n')[0]!);
    expect(first._enc).toBeDefined();
    expect(first.email).toMatch(/^fs1\./);
    expect(first.ssn).toMatch(/^fs1\./);
    const open = (extra: string[], workers: string) => run(['decrypt', '--header-name', '_enc', '--context', 'row=a=b', '--ndjson', '--workers', workers, ...extra], sealed.stdout);
    const both1 = open(['--keyring', `local:${keys}`, '--group-keyring', `restricted=local:${restricted}`], '1');
    const both2 = open(['--keyring', `local:${keys}`, '--group-keyring', `restricted=local:${restricted}`], '2');
    expect(both2.code, both2.stderr).toBe(0);
    expect(both2.stdout).toBe(both1.stdout);
    expect(both2.stdout).toBe(input.split('\n').map((l) => (l.trim() === '' ? '' : JSON.stringify(JSON.parse(l)))).join('\n'));
    // Only the restricted group: the ssn opens, the email stays sealed; the same with one thread.
    const only2 = open(['--group-keyring', `restricted=local:${restricted}`], '2');
    expect(only2.code, only2.stderr).toBe(0);
    expect(only2.stdout).toBe(open(['--group-keyring', `restricted=local:${restricted}`], '1').stdout);
    expect(JSON.parse(only2.stdout.split('\n')[0]!).email).toMatch(/^fs1\./);
    // Without the required context every line fails, the same way in both.
    const missing = ['decrypt', '--header-name', '_enc', '--keyring', `local:${keys}`, '--ndjson', '--on-error', 'skip'];
    const m1 = run(missing, sealed.stdout);
    const m2 = run([...missing, '--workers', '2'], sealed.stdout);
    expect(m2.code).toBe(5);
    expect([m2.stdout, m2.stderr]).toEqual([m1.stdout, m1.stderr]);
    expect(m2.stderr).toMatch(/^fieldseal: line 1: .*\(ERR_FIELDSEAL_/m);
  });

  test('failures: --on-error skip and stop, a line over --max-input-bytes: the same output, stderr and exit code as one thread', () => {
    const good = plainLines(300).split('\n').slice(0, 300);
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson'], good.join('\n') + '\n').stdout.split('\n');
    const lines = [...sealed.slice(0, 300)];
    lines[0] = '{"ssn": "078-05-1120", broken';
    lines[120] = '[1, 2]';
    lines[121] = JSON.stringify(record(121)); // plaintext: not sealed
    lines[250] = JSON.stringify({ pad: 'x'.repeat(3000) }); // over the limit below
    const tampered = JSON.parse(sealed[280]!);
    const ssn = tampered.ssn as string;
    // One character in the middle: still canonical base64url, so the tag, not the decoder, refuses it.
    tampered.ssn = ssn.slice(0, -10) + (ssn.at(-10) === 'A' ? 'B' : 'A') + ssn.slice(-9);
    lines[280] = JSON.stringify(tampered);
    const input = lines.join('\n') + '\n';
    writeFileSync(p('mixed.ndjson'), input);
    const base = ['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--max-input-bytes', '2048', '--in', p('mixed.ndjson')];
    const skip1 = run([...base, '--on-error', 'skip']);
    const skip2 = run([...base, '--on-error', 'skip', '--workers', '2']);
    expect(skip1.code).toBe(5);
    expect(skip2.code).toBe(5);
    expect(skip2.stdout).toBe(skip1.stdout);
    expect(skip2.stderr).toBe(skip1.stderr);
    for (const n of [1, 121, 122, 251, 281]) expect(skip2.stderr).toMatch(new RegExp(`^fieldseal: line ${n}: `, 'm'));
    expect(skip2.stderr).toMatch(/^fieldseal: line 251: .*ERR_FIELDSEAL_LIMIT_EXCEEDED/m);
    expect(skip2.stderr).toMatch(/5 of 300 line\(s\) failed/);
    expect(skip2.stdout.split('\n').map((l, i) => (l === '' ? i : -1)).filter((i) => i >= 0)).toEqual(skip1.stdout.split('\n').map((l, i) => (l === '' ? i : -1)).filter((i) => i >= 0));
    expect(skip2.stderr).not.toContain('078-05-1120');
    expect(skip2.stderr).not.toContain('xxxx');
    // stop: the first failure by line order ends it, here line 1, and later in the stream too.
    const stop1 = run(base);
    const stop2 = run([...base, '--workers', '2']);
    expect([stop2.code, stop2.stdout, stop2.stderr]).toEqual([stop1.code, stop1.stdout, stop1.stderr]);
    expect(stop2.stderr).toMatch(/^fieldseal: line 1: input is not valid JSON \(ERR_FIELDSEAL_MALFORMED\)$/m);
    writeFileSync(p('late.ndjson'), [...lines.slice(1, 250), ...lines.slice(251)].join('\n') + '\n');
    const late = ['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--in', p('late.ndjson')];
    const late1 = run(late);
    const late2 = run([...late, '--workers', '2']);
    expect(late2.code).toBe(1);
    expect([late2.code, late2.stdout, late2.stderr]).toEqual([late1.code, late1.stdout, late1.stderr]);
    expect(late2.stderr).toMatch(/^fieldseal: line 120: input must be a JSON object \(ERR_FIELDSEAL_MALFORMED\)$/m);
    expect(late2.stdout.split('\n')).toHaveLength(120);
    // stop with --out: no output file, the previous one whole, no temp file.
    writeFileSync(p('stop.out'), 'previous\n');
    expect(run([...late, '--workers', '2', '--out', p('stop.out')]).code).toBe(1);
    expect(readFileSync(p('stop.out'), 'utf8')).toBe('previous\n');
    expect(tmpFiles()).toEqual([]);
    // A key that opens nothing: exit 3 from a worker, as from the main thread.
    const other = run(['decrypt', '--keyring', `local:${restricted}`, '--ndjson', '--workers', '2'], sealed.slice(0, 300).join('\n') + '\n');
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/^fieldseal: line 1: /m);
  });

  test('progress on a terminal counts the records the workers return', () => {
    writeFileSync(p('progress.ndjson'), plainLines(300));
    // `script` gives the command a pseudo-terminal, as an operator's shell does.
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} encrypt --keyring local:${keys} --path '$.ssn' --ndjson --workers 2 --in ${p('progress.ndjson')} --out ${p('progress.out')}`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', cwd: dir });
    expect(tty.status).toBe(0);
    const records = plainLines(300).split('\n').filter((l) => l.trim() !== '').length;
    expect(tty.stdout).toMatch(new RegExp(`${records} records, [0-9,]+ records/s, 100%`));
  });

  test('usage: --workers takes auto or 1..64, and NDJSON only', () => {
    for (const bad of ['0', '65', 'two', '1.5', '']) {
      const r = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--workers', bad], '{}\n');
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--workers must be auto or/);
    }
    const single = run(['decrypt', '--keyring', `local:${keys}`, '--workers', '2'], '{}');
    expect(single.code).toBe(2);
    expect(single.stderr).toContain('--workers applies to --ndjson streams only');
    const parsed = parseCommandLine(['encrypt', '--keyring', 'local:k', '--path', '$.a', '--ndjson', '--workers', 'auto']);
    expect('values' in parsed && parsed.values.workers).toBe('auto');
    // rewrap has no --workers: refused by the parser, not ignored.
    expect(run(['rewrap', '--keyring', `local:${keys}`, '--ndjson', '--workers', '2'], '').code).toBe(2);
    // An empty input starts no worker and writes nothing.
    const empty = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--workers', '2'], '');
    expect([empty.code, empty.stdout]).toEqual([0, '']);
  });

  test('a slow pipe: each line comes out before the input ends (no batch waits to fill)', async () => {
    const io = memoryIo();
    const done = encrypt({ keyring: `local:${keys}`, paths: ['$.ssn'], ndjson: true, workers: 2 }, io);
    for (let i = 0; i < 3; i++) {
      io.stdin.write(JSON.stringify(record(i)) + '\n');
      await until(() => io.out().split('\n').length === i + 2, `output line ${i + 1}`);
    }
    io.stdin.end();
    await done;
    expect(io.out().split('\n').map((l) => (l === '' ? null : (JSON.parse(l).ssn as string).slice(0, 4)))).toEqual(['fs1.', 'fs1.', 'fs1.', null]);
    // A failed line under stop ends the command while the pipe stays open and quiet.
    const quiet = memoryIo();
    const failing = encrypt({ keyring: `local:${keys}`, paths: ['$.ssn'], ndjson: true, workers: 2 }, quiet);
    quiet.stdin.write(JSON.stringify(record(1)) + '\nnot json\n');
    await expect(failing).rejects.toMatchObject({ name: 'LineFailedError', exitCode: 1, code: 'ERR_FIELDSEAL_MALFORMED', message: 'line 2: input is not valid JSON (ERR_FIELDSEAL_MALFORMED)' });
    expect(quiet.out().split('\n')).toHaveLength(2);
  });

  test('SIGTERM mid-stream with workers: exit 130, no temp file, the previous output whole', async () => {
    const target = p('signal.out.ndjson');
    writeFileSync(target, 'previous\n');
    const child = spawn(process.execPath, [bin, 'encrypt', '--keyring', `local:${keys}`, ...PATHS, '--ndjson', '--workers', '2', '--out', target], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.write(plainLines(400));
    const tmpOf = () => readdirSync(dir).filter((f) => f.startsWith('.signal.out.ndjson.') && f.endsWith('.tmp'));
    // Progress, not a delay: the workers' output has reached the temporary file (64 KiB flushes).
    await until(() => tmpOf().length === 1 && statSync(join(dir, tmpOf()[0]!)).size > 0, 'output in the temporary file');
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toContain('was not changed');
    expect(tmpOf()).toEqual([]);
    expect(readFileSync(target, 'utf8')).toBe('previous\n');
  });
});

describe('a worker that fails gives a typed error and an exit code, never a hang', () => {
  test('a key file that a worker cannot read (gone after the main thread loaded it): exit 2, no output, no temp file', async () => {
    const key = p('vanishing.json');
    writeFileSync(key, readFileSync(keys));
    chmodSync(key, 0o600);
    const out = p('vanishing.out');
    const io = memoryIo();
    const done = encrypt({ keyring: `local:${key}`, paths: ['$.ssn'], ndjson: true, workers: 2, out }, io);
    done.catch(() => undefined);
    // The temporary output exists once the keyrings were built: the workers start with the first batch, after this.
    await until(() => readdirSync(dir).some((f) => f.startsWith('.vanishing.out.')), 'the temporary output');
    unlinkSync(key);
    io.stdin.end(plainLines(50));
    await expect(done).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^a worker thread could not build its job: cannot read the key file .*vanishing\.json \(ENOENT\)/) });
    expect(existsSync(out)).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  test('node run with a flag a thread cannot take (a V8 flag): the workers start without the parent\'s flags', () => {
    const input = plainLines(60);
    const r = spawnSync(process.execPath, ['--stack-size=984', bin, 'encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--workers', '2'], { input, encoding: 'utf8', cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(61);
    // fieldseal rotate --workers starts its threads the same way.
    writeFileSync(p('rotate-flags.ndjson'), r.stdout);
    const rotated = spawnSync(process.execPath, ['--stack-size=984', bin, 'rotate', '--keyring', `local:${keys}`, '--store', `ndjson:${p('rotate-flags.ndjson')}`, '--mode', 'reencrypt', '--workers', '2'], { encoding: 'utf8', cwd: dir });
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`rotated ${input.split('\n').filter((l) => l.trim() !== '').length}, skipped 0, conflicts 0, failed 0`);
  });

  test('an insecure key file allowed by --allow-insecure-key-file is allowed in the workers too', () => {
    const key = p('open.json');
    writeFileSync(key, readFileSync(keys));
    chmodSync(key, 0o644);
    const refused = run(['encrypt', '--keyring', `local:${key}`, '--path', '$.ssn', '--ndjson', '--workers', '2'], plainLines(20));
    expect(refused.code).toBe(2);
    const allowed = run(['encrypt', '--keyring', `local:${key}`, '--path', '$.ssn', '--ndjson', '--workers', '2', '--allow-insecure-key-file'], plainLines(20));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.split('\n')).toHaveLength(21);
    // fieldseal rotate --workers builds its job in threads too: the override reaches them as well.
    writeFileSync(p('rotate-open.ndjson'), allowed.stdout);
    const rotated = run(['rotate', '--keyring', `local:${key}`, '--store', `ndjson:${p('rotate-open.ndjson')}`, '--mode', 'reencrypt', '--workers', '2', '--allow-insecure-key-file']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`rotated ${plainLines(20).split('\n').filter((l) => l.trim() !== '').length},`);
  });

  const fixture = (name: string) => pathToFileURL(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))).href;

  test('the main thread transforms batches too when the workers are busy, and output stays in input order', async () => {
    const io = memoryIo();
    const out = p('tagged.out');
    // Over 1,024 lines make several batches, even when the stream hands them over as one chunk.
    io.stdin.end(Array.from({ length: 5000 }, (_, i) => JSON.stringify({ n: i + 1 }) + '\n').join(''));
    await transformDocuments({ ndjson: true, workers: 2, out }, io, async (d) => ({ ...d, by: 'main' }), 0o600, { module: fixture('tagging-job.mjs'), data: {} });
    const docs = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { n: number; by: string });
    expect(docs.map((d) => d.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const by = new Set(docs.map((d) => d.by));
    expect(by).toEqual(new Set(['main', 'worker']));
  });
  for (const [name, mode, expected] of [
    ['exits in the middle of a batch', 'exit', /a worker thread exited unexpectedly \(exit code 7\)/],
    ['throws an uncaught error', 'throw', /a worker thread crashed \(ERR_TEST_CRASH\)/],
  ] as const) {
    test(`a worker that ${name}: WorkerThreadError (ERR_FIELDSEAL_CLI_WORKER), exit 1, output aborted`, async () => {
      const io = memoryIo();
      const out = p(`crash-${mode}.out`);
      io.stdin.end(plainLines(200));
      const err = await transformDocuments({ ndjson: true, workers: 2, out }, io, async (d) => d, 0o600, { module: fixture('crashing-job.mjs'), data: { mode } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'WorkerThreadError', code: 'ERR_FIELDSEAL_CLI_WORKER', exitCode: 1, message: expect.stringMatching(expected) });
      expect((err as Error).message).not.toContain('078-05-1120');
      expect(existsSync(out)).toBe(false);
      expect(tmpFiles()).toEqual([]);
    });
  }
});
