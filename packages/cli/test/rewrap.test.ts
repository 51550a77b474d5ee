import { PassThrough } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, type JsonObject } from '@fieldseal/core';
import type { CommandIo } from '@fieldseal/cli';
import { rewrap } from '../src/commands/rewrap/index.js';

let dir: string;
let oldKeys: string;
let newKeys: string;
let oldRing: LocalKeyring;
let newRing: LocalKeyring;

function io(input: string): CommandIo & { out(): string } {
  const stdin = new PassThrough();
  stdin.end(input);
  const stdout = new PassThrough();
  let o = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  return { stdin, stdout, stderr: new PassThrough(), out: () => o };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-cli-rewrap-'));
  oldRing = await LocalKeyring.generate({ name: 'old' });
  newRing = await LocalKeyring.generate({ name: 'new' });
  oldKeys = join(dir, 'old.json');
  newKeys = join(dir, 'new.json');
  await writeFile(oldKeys, JSON.stringify(oldRing.exportKeyFile()), { mode: 0o600 });
  await writeFile(newKeys, JSON.stringify(newRing.exportKeyFile()), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fieldseal rewrap', () => {
  test('one document: new key, same field ciphertexts, opens with the new keyring', async () => {
    const sealed = await encrypt({ ssn: '078-05-1120', name: 'Ada' }, { keyring: oldRing, paths: ['$.ssn'], context: { tenant: 't1' } });
    const s = io(JSON.stringify(sealed));
    await rewrap({ keyring: `local:${oldKeys}`, to: `local:${newKeys}` }, s);
    const out = JSON.parse(s.out()) as JsonObject;
    expect(inspect(out).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: newRing.keyIds[0] }]);
    expect(out.ssn).toBe(sealed.ssn);
    expect(await decrypt(out, { keyring: newRing })).toEqual({ ssn: '078-05-1120', name: 'Ada' });
  });

  test('an NDJSON stream, --mode reencrypt gives fresh ciphertexts; a bad line stops with its line number', async () => {
    const docs = [await encrypt({ n: 1, ssn: 'a' }, { keyring: oldRing, paths: ['$.ssn'] }), await encrypt({ n: 2, ssn: 'b' }, { keyring: oldRing, paths: ['$.ssn'] })];
    const s = io(docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    await rewrap({ keyring: `local:${oldKeys}`, to: `local:${newKeys}`, mode: 'reencrypt', ndjson: true }, s);
    const out = s.out().trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    expect(out).toHaveLength(2);
    for (const [i, d] of out.entries()) {
      expect(d.ssn).not.toBe(docs[i]!.ssn);
      expect((await decrypt(d, { keyring: newRing })).n).toBe(i + 1);
    }
    const bad = io(JSON.stringify(docs[0]) + '\n{"plain":1}\n');
    await expect(rewrap({ keyring: `local:${oldKeys}`, to: `local:${newKeys}`, ndjson: true }, bad)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INCOMPLETE', message: expect.stringContaining('line 2') });
    await expect(rewrap({ keyring: `local:${oldKeys}`, mode: 'sideways' as never }, io('{}'))).rejects.toMatchObject({ exitCode: 2 });
  });
});
