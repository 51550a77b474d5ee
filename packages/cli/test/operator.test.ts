import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { commands, EXIT_CODE_TABLE } from '@fieldseal/cli';
import { startVaultTransitEmulator } from '@fieldseal/emulators';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The binary without blocking this process (an emulator in this process must keep answering). */
function runAsync(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
const record = { id: 7, name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120' };
let dir: string;
let keys: string;
let other: string;
const p = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldseal-cli-operator-'));
  keys = p('keys.json');
  other = p('other.json');
  expect(run(['keygen', '--out', keys]).code).toBe(0);
  expect(run(['keygen', '--out', other, '--name', 'other']).code).toBe(0);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help, version, completion', () => {
  test('every command has its own --help listing every flag it takes, with a description, and the exit codes', () => {
    for (const [name, spec] of Object.entries(commands)) {
      const r = run([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout).toContain(`fieldseal ${name}: ${spec.summary}`);
      for (const [flag, o] of Object.entries(spec.options)) {
        const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`--${flag} `) || l.trim() === `--${flag}`);
        expect(line, `${name} --${flag}`).toBeDefined();
        expect(line).toContain(o.description);
      }
      for (const flag of ['help', 'debug', 'allow-insecure-key-file']) expect(r.stdout).toContain(`--${flag}`);
      for (const [code] of EXIT_CODE_TABLE) expect(r.stdout).toMatch(new RegExp(`^  ${code} `, 'm'));
    }
    // the flags the old help never mentioned
    const rotateHelp = run(['rotate', '--help']).stdout;
    for (const flag of ['--all ', '--field-context KEY=FIELD ', '--checkpoint FILE ']) expect(rotateHelp).toContain(flag);
    // help wins over a bad flag, and `help <command>` works too
    expect(run(['encrypt', '--bogus', '--help']).stdout).toContain('fieldseal encrypt:');
    expect(run(['help', 'decrypt']).stdout).toContain('fieldseal decrypt:');
  });

  test('--version; no arguments prints usage on stderr and exits 2', () => {
    const v = run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`fieldseal ${pkg.version}\n`);
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/usage: fieldseal <command>/);
    expect(none.stderr).toContain('encrypt');
  });

  test('bash completion completes commands, the flags of each command and file names, from the same table', () => {
    const script = run(['completion', 'bash']);
    expect(script.code).toBe(0);
    const path = p('fieldseal.bash');
    writeFileSync(path, script.stdout);
    const complete = (...words: string[]) => {
      const line = `source ${path}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _fieldseal; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['--norc', '-c', line], { encoding: 'utf8', cwd: dir });
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n');
    };
    expect(complete('fieldseal', 'do')).toEqual(['doctor']);
    expect(complete('fieldseal', '')).toEqual(expect.arrayContaining(Object.keys(commands)));
    expect(complete('fieldseal', 'encrypt', '--group-')).toEqual(['--group-keyring', '--group-path']);
    expect(complete('fieldseal', 'rotate', '--fi')).toEqual(['--field-context']);
    expect(complete('fieldseal', 'keystore', 'sh')).toEqual(['shred']);
    expect(complete('fieldseal', 'decrypt', '--in', 'keys')).toEqual(['keys.json']);
    // Values with choices: --workers offers auto, --on-error its two values; other values nothing.
    expect(complete('fieldseal', 'encrypt', '--workers', '')).toEqual(['auto']);
    expect(complete('fieldseal', 'decrypt', '--on-error', '')).toEqual(['skip', 'stop']);
    expect(complete('fieldseal', 'decrypt', '--max-input-bytes', '')).toEqual(['']);
    expect(complete('fieldseal', 'rotate', '--workers', '')).toEqual(['']);
    for (const [name, spec] of Object.entries(commands)) expect(complete('fieldseal', name, '--')).toEqual(expect.arrayContaining(Object.keys(spec.options).map((o) => `--${o}`)));
  });

  test('zsh completion describes every command and every flag; an unknown shell is a usage error', () => {
    const z = run(['completion', 'zsh']);
    expect(z.code).toBe(0);
    expect(z.stdout.startsWith('#compdef fieldseal\n')).toBe(true);
    for (const [name, spec] of Object.entries(commands)) {
      expect(z.stdout).toContain(`    ${name})`);
      for (const flag of Object.keys(spec.options)) expect(z.stdout).toMatch(new RegExp(`'\\*?--${flag}\\[`));
    }
    expect(z.stdout).toContain("'1:action:(create rotate rewrap shred list)'");
    expect(z.stdout).toMatch(/'--workers\[NDJSON\\: [^']*\]:N\|auto:\(auto\)'/);
    expect(run(['completion', 'fish']).code).toBe(2);
  });
});

describe('exit codes and messages', () => {
  test('--out into a missing directory: exit 2, says which directory, writes nothing, calls no key', () => {
    const r = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--out', p('missing/sealed.json')], JSON.stringify(record));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the directory .*missing does not exist/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(existsSync(p('missing'))).toBe(false);
    const keygen = run(['keygen', '--out', p('missing/keys.json')]);
    expect(keygen.code).toBe(2);
    expect(keygen.stderr).toMatch(/the directory .*missing does not exist \(create it first/);
    // checked before the keyring is built: an unreachable key service is never even tried
    writeFileSync(p('vault-down.json'), JSON.stringify({ endpoint: 'http://127.0.0.1:1', token: 'not-a-real-token', keyName: 'k' }));
    const early = run(['encrypt', '--keyring', `vault-transit:${p('vault-down.json')}`, '--path', '$.ssn', '--out', p('missing/sealed.json')], JSON.stringify(record));
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/does not exist/);
  });

  test('a refused connection (database, key service) exits 4 with a clear message, never "internal error"', () => {
    const db = run(['rotate', '--keyring', `local:${keys}`, '--store', 'postgres://postgres@127.0.0.1:1/test', '--table', 't', '--column', 'c', '--checkpoint', p('refused.checkpoint.json')]);
    expect(db.code).toBe(4);
    expect(db.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1: connection refused/);
    expect(db.stderr).not.toMatch(/internal error/);
    writeFileSync(p('vault.json'), JSON.stringify({ endpoint: 'http://127.0.0.1:1', token: 'not-a-real-token', keyName: 'k' }));
    const kms = run(['encrypt', '--keyring', `vault-transit:${p('vault.json')}`, '--path', '$.ssn'], JSON.stringify(record));
    expect(kms.code).toBe(4);
    expect(kms.stderr).toMatch(/ECONNREFUSED.*retrying later can succeed/);
    expect(kms.stdout).toBe('');
  });

  test('a multi-keyring whose key service is down exits 4 (retry), even when another of its keyrings holds no fitting key', async () => {
    const vault = await startVaultTransitEmulator();
    vault.createKey('a', { derived: true });
    vault.createKey('b', { derived: true });
    for (const k of ['a', 'b']) writeFileSync(p(`vault-${k}.json`), JSON.stringify({ endpoint: vault.url, token: vault.token, keyName: k }));
    let sealed: string;
    try {
      const r = await runAsync(['encrypt', '--keyring', `vault-transit:${p('vault-a.json')}`, '--keyring', `vault-transit:${p('vault-b.json')}`, '--path', '$.ssn'], JSON.stringify(record));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      sealed = r.stdout;
      expect(JSON.parse(run(['inspect'], sealed).stdout).groups[0].wrappedKeys).toHaveLength(2);
    } finally {
      await vault.close();
    }
    const down = run(['decrypt', '--keyring', `vault-transit:${p('vault-a.json')}`, '--keyring', `vault-transit:${p('vault-b.json')}`], sealed);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(down.stderr).toContain('retrying later can succeed');
    const mixed = run(['decrypt', '--keyring', `local:${keys}`, '--keyring', `vault-transit:${p('vault-a.json')}`], sealed);
    expect(mixed.code).toBe(4);
    expect(run(['decrypt', '--keyring', `local:${keys}`], sealed).code).toBe(3);
  });

  test('a document no configured key opens exits 3; tampering exits 1; usage exits 2', () => {
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn'], JSON.stringify(record)).stdout;
    const wrongKey = run(['decrypt', '--keyring', `local:${other}`], sealed);
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toContain('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    const doc = JSON.parse(sealed);
    doc.ssn = doc.ssn.slice(0, 12) + (doc.ssn[12] === 'A' ? 'B' : 'A') + doc.ssn.slice(13);
    expect(run(['decrypt', '--keyring', `local:${keys}`], JSON.stringify(doc)).code).toBe(1);
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--pretty', '--ndjson'], '').code).toBe(2);
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--on-error', 'maybe', '--ndjson'], '').code).toBe(2);
  });
});

describe('keyrings, context, key groups, header name', () => {
  test('a repeated --keyring wraps under all on encrypt, and decrypt tries each in order', () => {
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--keyring', `local:${other}`, '--path', '$.ssn'], JSON.stringify(record));
    expect(sealed.code).toBe(0);
    const info = JSON.parse(run(['inspect'], sealed.stdout).stdout);
    expect(info.groups[0].wrappedKeys.map((w: { keyId: string }) => w.keyId)).toEqual([expect.stringMatching(/^main\/[A-Za-z0-9_-]{11}\/v1$/), expect.stringMatching(/^other\/[A-Za-z0-9_-]{11}\/v1$/)]);
    for (const k of [keys, other]) expect(JSON.parse(run(['decrypt', '--keyring', `local:${k}`], sealed.stdout).stdout)).toEqual(record);
    const single = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn'], JSON.stringify(record)).stdout;
    expect(JSON.parse(run(['decrypt', '--keyring', `local:${other}`, '--keyring', `local:${keys}`], single).stdout)).toEqual(record);
    // rotate takes one keyring: a second one is refused, not silently dropped
    const r = run(['rotate', '--keyring', `local:${keys}`, '--keyring', `local:${other}`, '--store', `ndjson:${p('x.ndjson')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--keyring is given twice');
  });

  test('--context splits at the first "="; --context-file merges a JSON map and refuses a key given twice', () => {
    writeFileSync(p('ctx.json'), JSON.stringify({ tenant: 'acme', region: 'eu=west' }));
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--context', 'query=a=b', '--context-file', p('ctx.json')], JSON.stringify(record));
    expect(sealed.code).toBe(0);
    expect(JSON.parse(run(['inspect'], sealed.stdout).stdout).context).toEqual({ query: 'a=b', tenant: 'acme', region: 'eu=west' });
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--context-file', p('ctx.json')], sealed.stdout).code).toBe(0);
    const twice = run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context-file', p('ctx.json')], sealed.stdout);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('"tenant" is given by both');
    writeFileSync(p('bad-ctx.json'), JSON.stringify({ n: 1 }));
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--context-file', p('bad-ctx.json')], sealed.stdout).stderr).toContain('must be a string');
    writeFileSync(p('proto-ctx.json'), '{"__proto__":"x"}');
    const proto = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--context-file', p('proto-ctx.json')], JSON.stringify(record));
    expect(JSON.parse(run(['inspect'], proto.stdout).stdout).context).toEqual(JSON.parse('{"__proto__":"x"}'));
  });

  test('key groups and a header name: each group opens only with its keyring', () => {
    const args = ['encrypt', '--keyring', `local:${keys}`, '--path', '$.email', '--group-keyring', `restricted=local:${other}`, '--group-path', 'restricted=$.ssn', '--header-name', '_enc'];
    const sealed = run(args, JSON.stringify(record));
    expect(sealed.code).toBe(0);
    const doc = JSON.parse(sealed.stdout);
    expect(Object.keys(doc)).toContain('_enc');
    expect(doc._fieldseal).toBeUndefined();
    const info = JSON.parse(run(['inspect', '--header-name', '_enc'], sealed.stdout).stdout);
    expect(info.groups.map((g: { name: string; fields: string[] }) => [g.name, g.fields])).toEqual([['default', ['/email']], ['restricted', ['/ssn']]]);
    expect(run(['inspect'], sealed.stdout).code).toBe(1);
    // the restricted group alone: ssn opens, email stays sealed
    const restricted = JSON.parse(run(['decrypt', '--group-keyring', `restricted=local:${other}`, '--header-name', '_enc'], sealed.stdout).stdout);
    expect(restricted.ssn).toBe(record.ssn);
    expect(restricted.email).toMatch(/^fs1\./);
    // both groups
    const both = run(['decrypt', '--keyring', `local:${keys}`, '--group-keyring', `restricted=local:${other}`, '--header-name', '_enc'], sealed.stdout);
    expect(JSON.parse(both.stdout)).toEqual(record);
    // the default keyring alone cannot open the restricted group
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--header-name', '_enc'], sealed.stdout).code).toBe(3);
    const orphan = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.email', '--group-path', 'x=$.ssn'], JSON.stringify(record));
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('has no --group-keyring x=SPEC');
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.email', '--group-keyring', `x=local:${other}`], JSON.stringify(record)).code).toBe(2);
  });
});

describe('NDJSON streams and output files', () => {
  const line = (id: number) => JSON.stringify({ ...record, id });

  test('blank lines are kept, so output line N is input line N', () => {
    const input = [line(1), '', line(2), '   ', line(3)].join('\n') + '\n';
    const enc = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson'], input);
    expect(enc.code).toBe(0);
    const out = enc.stdout.split('\n');
    expect(out).toHaveLength(6);
    expect([out[1], out[3], out[5]]).toEqual(['', '', '']);
    const dec = run(['decrypt', '--keyring', `local:${keys}`, '--ndjson'], enc.stdout);
    expect(dec.stdout.split('\n').map((l) => (l === '' ? null : JSON.parse(l).id))).toEqual([1, null, 2, null, 3, null]);
    // --in and --out the same file: the atomic write makes sealing in place safe
    const inPlace = p('in-place.ndjson');
    writeFileSync(inPlace, input);
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--in', inPlace, '--out', inPlace]).code).toBe(0);
    const sealed = readFileSync(inPlace, 'utf8').split('\n');
    expect(sealed.map((l) => (l === '' ? null : (JSON.parse(l).ssn as string).slice(0, 4)))).toEqual(['fs1.', null, 'fs1.', null, 'fs1.', null]);
  });

  test('--on-error skip: every bad line named on stderr, its output line left empty, the rest written, exit 5', () => {
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson'], [line(1), line(2), line(3)].join('\n') + '\n').stdout.split('\n');
    const input = [sealed[0], '{"ssn": "078-05-1120", broken', sealed[1], '', '{"plain": true}', sealed[2]].join('\n') + '\n';
    writeFileSync(p('mixed.ndjson'), input);
    const r = run(['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--on-error', 'skip', '--in', p('mixed.ndjson'), '--out', p('skip.out.ndjson')]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^fieldseal: line 2: input is not valid JSON \(ERR_FIELDSEAL_MALFORMED\)$/m);
    expect(r.stderr).toMatch(/^fieldseal: line 5: .*ERR_FIELDSEAL_INCOMPLETE/m);
    expect(r.stderr).toMatch(/2 of 6 line\(s\) failed/);
    expect(r.stderr).not.toContain('078-05-1120');
    const out = readFileSync(p('skip.out.ndjson'), 'utf8').split('\n');
    expect(out.map((l) => (l === '' ? null : JSON.parse(l).id))).toEqual([1, null, 2, null, null, 3, null]);
    expect(statSync(p('skip.out.ndjson')).mode & 0o777).toBe(0o600);
  });

  test('a failed stream (default --on-error stop) leaves no output file, or the complete previous one, and no temp file', () => {
    const good = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson'], [line(1), line(2)].join('\n') + '\n').stdout;
    const target = p('stop.out.ndjson');
    const bad = good + '{"plain": 1}\n' + good;
    const first = run(['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--out', target], bad);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/line 3: /);
    expect(existsSync(target)).toBe(false);
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--out', target], good).code).toBe(0);
    const previous = readFileSync(target, 'utf8');
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--ndjson', '--out', target], bad).code).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe(previous);
    // single documents too: a failed decrypt keeps the previous file whole
    const single = p('single.json');
    writeFileSync(single, 'previous\n');
    expect(run(['decrypt', '--keyring', `local:${other}`, '--out', single], good.split('\n')[0]).code).toBe(3);
    expect(readFileSync(single, 'utf8')).toBe('previous\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('SIGTERM mid-stream removes the temporary file and leaves the previous output whole (exit 130)', async () => {
    const target = p('signal.out.ndjson');
    writeFileSync(target, 'previous\n');
    const child = spawn(process.execPath, [bin, 'encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--out', target], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.write(line(1) + '\n');
    const tmpOf = () => readdirSync(dir).filter((f) => f.startsWith('.signal.out.ndjson.') && f.endsWith('.tmp'));
    for (let i = 0; i < 200 && tmpOf().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(tmpOf()).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toContain('was not changed');
    expect(tmpOf()).toEqual([]);
    expect(readFileSync(target, 'utf8')).toBe('previous\n');
  });

  test('progress goes to stderr only on a terminal: records/s and an ETA when the input size is known', () => {
    const input = Array.from({ length: 200 }, (_, i) => line(i)).join('\n') + '\n';
    writeFileSync(p('many.ndjson'), input);
    const piped = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--in', p('many.ndjson'), '--out', p('many.sealed')]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    // `script` gives the command a pseudo-terminal, as an operator's shell does.
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} encrypt --keyring local:${keys} --path '$.ssn' --ndjson --in ${p('many.ndjson')} --out ${p('many.tty')}`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', cwd: dir });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/200 records, [0-9,]+ records\/s, 100%/);
    expect(readFileSync(p('many.tty'), 'utf8').split('\n')).toHaveLength(201);
    // stdin redirected from a file: its size is known as well
    const redirected = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} encrypt --keyring local:${keys} --path '$.ssn' --ndjson < ${p('many.ndjson')} > ${p('many.redirected')}`, '/dev/null'], { encoding: 'utf8', cwd: dir });
    expect(redirected.status).toBe(0);
    expect(redirected.stdout).toMatch(/200 records, [0-9,]+ records\/s, 100%/);
    expect(readFileSync(p('many.redirected'), 'utf8').split('\n')).toHaveLength(201);
  });

  test('--compact prints one line, --pretty (the default) indents', () => {
    const compact = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--compact'], JSON.stringify(record));
    expect(compact.stdout.trim().split('\n')).toHaveLength(1);
    const pretty = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--pretty'], JSON.stringify(record));
    expect(pretty.stdout).toMatch(/^{\n  "id": 7,/);
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--pretty', '--compact'], '{}').code).toBe(2);
  });
});

describe('key files and limits', () => {
  test('a group- or world-readable key file is refused with the reason and the fix; the override is explicit', () => {
    const loose = p('loose.json');
    writeFileSync(loose, readFileSync(keys));
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(loose, mode);
      const r = run(['encrypt', '--keyring', `local:${loose}`, '--path', '$.ssn'], JSON.stringify(record));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`has mode 0${mode.toString(8)}: other users can read it`);
      expect(r.stderr).toContain(`chmod 600 ${loose}`);
      expect(r.stderr).toContain('--allow-insecure-key-file');
    }
    const allowed = run(['encrypt', '--allow-insecure-key-file', '--keyring', `local:${loose}`, '--path', '$.ssn'], JSON.stringify(record));
    expect(allowed.code).toBe(0);
    chmodSync(loose, 0o600);
    expect(run(['decrypt', '--keyring', `local:${loose}`], allowed.stdout).code).toBe(0);
    chmodSync(loose, 0o400);
    expect(run(['decrypt', '--keyring', `local:${loose}`], allowed.stdout).code).toBe(0);
  });

  test('a too-large input fails naming the limit and the option that raises it', () => {
    const big = JSON.stringify({ ...record, note: 'x'.repeat(5000) });
    writeFileSync(p('big.json'), big);
    for (const input of [['--in', p('big.json')], []]) {
      const r = spawnSync(process.execPath, [bin, 'encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--max-input-bytes', '1000', ...input], { input: big, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/over the limit of 1000 bytes; raise it with --max-input-bytes N/);
      expect(r.stderr).toContain('ERR_FIELDSEAL_LIMIT_EXCEEDED');
    }
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--max-input-bytes', '10000'], big).code).toBe(0);
    // NDJSON: the limit is per line, and the long line is named
    const r = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson', '--on-error', 'skip', '--max-input-bytes', '1000'], [JSON.stringify(record), big, JSON.stringify(record)].join('\n'));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/line 2: the line is over the limit of 1000 bytes; raise it with --max-input-bytes/);
    expect(r.stdout.split('\n').map((l) => l.length > 0)).toEqual([true, false, true, false]);
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--max-input-bytes', '600000000'], '{}').code).toBe(2);
  });
});

describe('fieldseal doctor', () => {
  let sealedPath: string;
  beforeAll(() => {
    sealedPath = p('doctor.json');
    const r = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.email', '--group-keyring', `restricted=local:${other}`, '--group-path', 'restricted=$.ssn', '--context', 'tenant=acme', '--required-context', 'row=7', '--out', sealedPath], JSON.stringify(record));
    expect(r.code).toBe(0);
  });

  test('names the group and key that open it and checks the context, printing no field value', () => {
    const r = run(['doctor', '--in', sealedPath, '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context', 'row=7']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('context: matches');
    expect(r.stdout).toMatch(/group "default" .*: OPENS with key local main\/[A-Za-z0-9_-]{11}\/v1; key commitment and header MAC verified, no field decrypted/);
    expect(r.stdout).toMatch(/group "restricted" .*: CANNOT OPEN: the keyring holds none of these keys/);
    expect(r.stdout).toContain('result: 1 of 2 key group(s) open');
    for (const secret of [record.ssn, record.email]) expect(r.stdout + r.stderr).not.toContain(secret);
    const both = run(['doctor', '--in', sealedPath, '--keyring', `local:${keys}`, '--group-keyring', `restricted=local:${other}`, '--context', 'tenant=acme', '--context', 'row=7']);
    expect(both.stdout).toMatch(/group "restricted" .*: OPENS with key local other\/[A-Za-z0-9_-]{11}\/v1/);
    expect(both.stdout).toContain('result: 2 of 2');
  });

  test('a context mismatch or a missing required key is named, exit 1; no key that fits exits 3; a tampered header exits 1', () => {
    const wrong = run(['doctor', '--in', sealedPath, '--keyring', `local:${keys}`, '--context', 'tenant=other']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('context: MISMATCH: the value of "tenant" differs from the stored one');
    expect(wrong.stdout).toContain('context: MISMATCH: the required key "row" is not supplied (add --context row=VALUE)');
    const stranger = p('stranger.json');
    expect(run(['keygen', '--out', stranger, '--name', 'stranger']).code).toBe(0);
    const none = run(['doctor', '--in', sealedPath, '--keyring', `local:${stranger}`, '--context', 'tenant=acme', '--context', 'row=7']);
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('the keyring holds none of these keys');
    // a wrong required value: the context is bound, so the key does not open
    const badRow = run(['doctor', '--in', sealedPath, '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context', 'row=8']);
    expect(badRow.code).not.toBe(0);
    const doc = JSON.parse(readFileSync(sealedPath, 'utf8'));
    // one character inside the message id: every group's header MAC covers it
    const h: string = doc._fieldseal;
    doc._fieldseal = h.slice(0, 20) + (h[20] === 'A' ? 'B' : 'A') + h.slice(21);
    writeFileSync(p('tampered.json'), JSON.stringify(doc));
    const tampered = run(['doctor', '--in', p('tampered.json'), '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context', 'row=7']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('ERR_FIELDSEAL_DECRYPTION_FAILED');
  });
});
