// Issue 23 item 2: a document wrapped with a public key proves nothing about who wrote it. The
// example re-seals every signup on receipt under a symmetric key the server alone holds, and reads
// stored signups only with that key, so a document forged with the public key never opens.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring, RsaKeyring, decrypt, encrypt, inspect, isFieldsealError } from '@fieldseal/core';
import { createApp, loadStorageKeyring, readSignup, resealSignup } from './server.mjs';

const dir = mkdtempSync(join(tmpdir(), 'fieldseal-browser-form-reseal-'));
const signup = { name: 'Grace Hopper', email: 'grace@navy.example.test', ssn: '219-09-9999', card: { number: '4111111111111111', expiry: '12/29' } };
const PATHS = ['$.email', '$.ssn', '$.card.number'];

let rsa: RsaKeyring;
let publicKeyring: RsaKeyring;
let storage: LocalKeyring;
let server: Server;
let base: string;
let app: ReturnType<typeof createApp>;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (!isFieldsealError(err)) throw err;
    return err.code;
  }
  return 'resolved';
}

beforeAll(async () => {
  rsa = await RsaKeyring.generate({ modulusLength: 2048 });
  publicKeyring = await RsaKeyring.fromPublicKey(await rsa.exportPublicKey('pem'));
  storage = await loadStorageKeyring(join(dir, 'storage-key.json'));
  app = createApp({ keyring: rsa, storageKeyring: storage, html: '', script: '', publicKeyPem: await rsa.exportPublicKey('pem') });
  server = createServer((req, res) => void app.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/browser-form: re-seal on receipt', () => {
  it('the storage key file is created once, mode 0600, and reloaded', async () => {
    expect(statSync(join(dir, 'storage-key.json')).mode & 0o777).toBe(0o600);
    const again = await loadStorageKeyring(join(dir, 'storage-key.json'));
    const probe = await encrypt({ a: 'x' }, { keyring: storage, paths: ['$.a'] });
    expect(await decrypt(probe, { keyring: again })).toEqual({ a: 'x' });
  });

  it('what is stored is wrapped only under the server-held symmetric key and bound to its signup id', async () => {
    const sealed = await encrypt(signup, { keyring: publicKeyring, paths: PATHS, context: { form: 'signup-v1' } });
    const { opened, stored } = await resealSignup({ keyring: rsa, storageKeyring: storage }, sealed, 'id-1');
    expect(opened).toEqual(signup);
    const info = inspect(stored);
    expect(info.groups.flatMap((g) => g.wrappedKeys.map((k) => k.provider))).toEqual(['local']);
    expect(info.groups.flatMap((g) => g.fields).sort()).toEqual(['/card/number', '/email', '/ssn']);
    expect(await readSignup(storage, stored, 'id-1')).toEqual(signup);
    // Moved to another signup's slot: refused.
    expect(await code(readSignup(storage, stored, 'id-2'))).toMatch(/^ERR_FIELDSEAL_(DECRYPTION_FAILED|KEY_UNAVAILABLE)$/);
  });

  it('a document forged with only the public key opens with the RSA keyring but never from storage', async () => {
    const forged = await encrypt(
      { ...signup, ssn: '000-00-0000' },
      { keyring: publicKeyring, paths: PATHS, context: { table: 'signups' }, requiredContext: { signupId: 'id-1' } },
    );
    // The problem: every check of the RSA keyring passes, required row id included.
    expect((await decrypt(forged, { keyring: rsa, context: { table: 'signups', signupId: 'id-1' } })).ssn).toBe('000-00-0000');
    // The way out: stored documents are read with the storage keyring only.
    expect(await code(readSignup(storage, forged, 'id-1'))).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  it('over HTTP: POST stores the re-sealed document, GET opens it with the storage key', async () => {
    const sealed = await encrypt(signup, { keyring: publicKeyring, paths: PATHS, context: { form: 'signup-v1' } });
    const posted = await fetch(`${base}/api/signups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sealed) });
    expect(posted.status).toBe(201);
    const { id } = (await posted.json()) as { id: string };
    const stored = app.signups.get(id)!;
    expect(JSON.stringify(stored)).not.toContain(signup.ssn);
    expect(inspect(stored).groups[0]!.wrappedKeys[0]!.provider).toBe('local');
    const got = await fetch(`${base}/api/signups/${id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ id, received: { name: 'Grace Hopper', emailDomain: 'navy.example.test', ssnLast4: '9999' } });
    // A storage writer who replaces the row with a public-key forgery gets a refusal, not data.
    app.signups.set(id, await encrypt({ ...signup, ssn: '000-00-0000' }, { keyring: publicKeyring, paths: PATHS, context: { table: 'signups' }, requiredContext: { signupId: id } }));
    const forged = await fetch(`${base}/api/signups/${id}`);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    expect((await fetch(`${base}/api/signups/nope`)).status).toBe(404);
  });
});
