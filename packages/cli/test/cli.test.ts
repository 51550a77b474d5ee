import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const record = { id: 7, name: 'Ada', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }] };

describe('fieldseal CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldseal-cli-'));
  const keys = join(dir, 'keys.json');
  // The folder holds key files: never leave it behind in the shared temp directory.
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('keygen writes a 0600 key file, refuses to overwrite, and --add rotates keeping old versions', () => {
    const r = run(['keygen', '--out', keys]);
    expect(r.code).toBe(0);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(JSON.parse(readFileSync(keys, 'utf8')).keys[0].key);
    const again = run(['keygen', '--out', keys]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/never overwrites/);
    const before = readFileSync(keys, 'utf8');
    const sealedWithV1 = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn'], JSON.stringify(record));
    expect(run(['keygen', '--add', keys]).code).toBe(0);
    const file = JSON.parse(readFileSync(keys, 'utf8'));
    expect(file.primary).toBe(2);
    expect(file.keys.map((k: { version: number }) => k.version)).toEqual([1, 2]);
    expect(file.keys[0].key).toBe(JSON.parse(before).keys[0].key);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    // documents sealed under v1 still open after rotation; new ones use v2
    expect(JSON.parse(run(['decrypt', '--keyring', `local:${keys}`], sealedWithV1.stdout).stdout)).toEqual(record);
    const sealedWithV2 = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn'], JSON.stringify(record));
    expect(JSON.parse(run(['inspect'], sealedWithV2.stdout).stdout).groups[0].wrappedKeys[0].keyId).toBe(`main/${file.keys[1].id}/v2`);
  });

  test('encrypt, inspect and decrypt through files with context', () => {
    const input = join(dir, 'in.json');
    const sealedPath = join(dir, 'sealed.json');
    writeFileSync(input, JSON.stringify(record));
    const enc = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--path', '$.cards[*].number', '--context', 'tenant=acme', '--required-context', 'row=7', '--in', input, '--out', sealedPath]);
    expect(enc.code).toBe(0);
    const sealed = JSON.parse(readFileSync(sealedPath, 'utf8'));
    expect(sealed.ssn).toMatch(/^fs1\./);
    const info = JSON.parse(run(['inspect', '--in', sealedPath]).stdout);
    expect(info.context).toEqual({ tenant: 'acme' });
    expect(info.requiredContextKeys).toEqual(['row']);
    expect(JSON.stringify(info)).not.toContain('078-05-1120');
    const dec = run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context', 'row=7', '--in', sealedPath]);
    expect(dec.code).toBe(0);
    expect(JSON.parse(dec.stdout)).toEqual(record);
    const partial = run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme', '--context', 'row=7', '--path', '$.ssn', '--in', sealedPath]);
    expect(JSON.parse(partial.stdout).cards[0].number).toMatch(/^fs1\./);
  });

  test('NDJSON streams on stdin/stdout, one document per line', () => {
    const lines = [1, 2, 3].map((id) => JSON.stringify({ ...record, id })).join('\n') + '\n';
    const enc = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--ndjson'], lines);
    expect(enc.code).toBe(0);
    expect(enc.stdout.trim().split('\n')).toHaveLength(3);
    const dec = run(['decrypt', '--keyring', `local:${keys}`, '--ndjson'], enc.stdout);
    expect(dec.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([1, 2, 3]);
    const bad = run(['decrypt', '--keyring', `local:${keys}`, '--ndjson'], enc.stdout + '{"broken": \n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 4/);
  });

  test('exit codes: 1 for crypto failures, 2 for usage; one line on stderr, no stack, no plaintext', () => {
    const sealed = JSON.parse(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--context', 'tenant=acme'], JSON.stringify(record)).stdout);
    const tampered = { ...sealed, ssn: sealed.ssn.slice(0, 10) + (sealed.ssn[10] === 'A' ? 'B' : 'A') + sealed.ssn.slice(11) };
    const failed = run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=acme'], JSON.stringify(tampered));
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain('ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(run(['decrypt', '--keyring', `local:${keys}`, '--context', 'tenant=other'], JSON.stringify(sealed)).code).toBe(1);
    const debug = run(['decrypt', '--keyring', `local:${keys}`, '--debug', '--context', 'tenant=acme'], JSON.stringify(tampered));
    expect(debug.stderr).toMatch(/\n\s+at /);
    const notJson = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn'], 'ssn=078-05-1120');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).not.toContain('078-05-1120');
    expect(run(['encrypt', '--keyring', `local:${keys}`, '--path', '$[?(@.x)]'], '{}').code).toBe(2);
    expect(run(['encrypt', '--keyring', `local:${keys}`], '{}').code).toBe(2);
    expect(run(['encrypt', '--path', '$.a'], '{}').code).toBe(2);
    expect(run(['encrypt', '--keyring', 'local:/nonexistent/keys.json', '--path', '$.a'], '{}').code).toBe(2);
    expect(run(['encrypt', '--keyring', 'nope:x', '--path', '$.a'], '{}').code).toBe(2);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['encrypt', '--bogus']).code).toBe(2);
    expect(run(['--help']).stdout).toMatch(/commands:/);
  });

  test('an array of 10 million elements through encrypt, inspect, partial and full decrypt and rewrap (issue 14, item 3)', { timeout: 180_000 }, () => {
    const n = 10_000_000;
    const hugeKeys = join(dir, 'huge-keys.json');
    expect(run(['keygen', '--out', hugeKeys]).code).toBe(0);
    const rows: unknown[] = new Array(n).fill(0);
    rows[n - 1] = { ssn: '078-05-1120' };
    const file = (name: string) => join(dir, `huge.${name}.json`);
    writeFileSync(file('plain'), JSON.stringify({ id: 1, rows }));
    // Outputs go to files (spawnSync buffers at most 1 MiB of stdout), as NDJSON (one compact line:
    // indented output of 10 million elements is 70 MB).
    const steps: string[][] = [
      ['encrypt', '--keyring', `local:${hugeKeys}`, '--path', '$.rows[*].ssn', '--in', file('plain'), '--out', file('sealed'), '--ndjson'],
      ['decrypt', '--keyring', `local:${hugeKeys}`, '--path', '$..ssn', '--in', file('sealed'), '--out', file('partial'), '--ndjson'],
      ['rewrap', '--keyring', `local:${hugeKeys}`, '--in', file('sealed'), '--out', file('rewrapped'), '--ndjson'],
      ['decrypt', '--keyring', `local:${hugeKeys}`, '--in', file('rewrapped'), '--out', file('decrypted'), '--ndjson'],
    ];
    for (const args of steps) {
      const r = run(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(JSON.parse(run(['inspect', '--in', file('sealed')]).stdout).groups[0].fields).toEqual([`/rows/${n - 1}/ssn`]);
    expect(JSON.parse(readFileSync(file('partial'), 'utf8')).rows[n - 1].ssn).toBe('078-05-1120');
    const out = JSON.parse(readFileSync(file('decrypted'), 'utf8'));
    expect(out.rows).toHaveLength(n);
    expect(out.rows[n - 1]).toEqual({ ssn: '078-05-1120' });
  });

  test('demo runs with no setup and shows a sealed, a decrypted and rejected tampered copies', () => {
    const r = run(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('decrypted equals the original: yes');
    expect(r.stdout).toContain('one character of $.ssn changed        -> rejected: ERR_FIELDSEAL_DECRYPTION_FAILED');
    expect(r.stdout).not.toMatch(/NOT rejected|bug/);
  });
});
