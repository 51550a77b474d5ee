import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8' });
// Suite 1 documents, as written before suite 2 (test-only keys).
const vectors = JSON.parse(readFileSync(new URL('../../../test/vectors/format-v1.json', import.meta.url), 'utf8')) as { keyFiles: Record<string, unknown>; cases: { id: number; sealed: unknown; plaintext?: unknown }[] };

describe('fieldseal decrypt --min-suite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldseal-min-suite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keys = join(dir, 'k1.json');
  writeFileSync(keys, JSON.stringify(vectors.keyFiles.k1), { mode: 0o600 });
  const legacy = vectors.cases.find((c) => c.id === 1)!;

  test('a suite 1 document opens by default and is refused with --min-suite 2; a suite 2 document opens with it', () => {
    const opened = run(['decrypt', '--keyring', `local:${keys}`, '--compact'], JSON.stringify(legacy.sealed));
    expect(opened.status).toBe(0);
    expect(JSON.parse(opened.stdout)).toEqual(legacy.plaintext);
    const refused = run(['decrypt', '--keyring', `local:${keys}`, '--min-suite', '2'], JSON.stringify(legacy.sealed));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/suite 1/);
    expect(refused.stdout).toBe('');
    const sealed = run(['encrypt', '--keyring', `local:${keys}`, '--path', '$.ssn', '--compact'], JSON.stringify(legacy.plaintext));
    expect(sealed.status).toBe(0);
    const current = run(['decrypt', '--keyring', `local:${keys}`, '--min-suite', '2', '--compact'], sealed.stdout);
    expect(current.status).toBe(0);
    expect(JSON.parse(current.stdout)).toEqual(legacy.plaintext);
  });

  test('an unknown suite is a usage error', () => {
    for (const bad of ['3', '0', 'two']) {
      const r = run(['decrypt', '--keyring', `local:${keys}`, '--min-suite', bad], '{}');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--min-suite/);
    }
  });
});
