import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultTransitEmulator, testTlsFixture, type VaultTransitEmulator } from '@fieldseal/emulators';

// The real node-vault client against the emulator. `endpoint` and `token` are always explicit so a
// developer's VAULT_* environment cannot leak in.
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

interface VaultFailure {
  message: string;
  response?: { statusCode: number; body: { errors?: string[] } };
  code?: string;
}
async function failure(p: Promise<unknown>): Promise<VaultFailure> {
  try {
    await p;
  } catch (err) {
    return err as VaultFailure;
  }
  throw new Error('expected the request to fail');
}

describe('Vault transit emulator with node-vault', () => {
  let vault: VaultTransitEmulator;
  let client: nodeVault.client;

  beforeAll(async () => {
    vault = await startVaultTransitEmulator({ mounts: ['transit', 'team/crypto'] });
    client = nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token });
  });
  afterAll(async () => {
    await vault.close();
  });

  it('listens on loopback and hands out a Vault-style token', () => {
    expect(vault.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(vault.token).toMatch(/^hvs\./);
  });

  it('creates a derived key and round-trips with the Vault envelope and vault:v1: ciphertexts', async () => {
    await client.write('transit/keys/rt', { type: 'aes256-gcm96', derived: true });
    const enc = await client.write('transit/encrypt/rt', { plaintext: b64('hello'), context: b64('ctx-1') });
    expect(enc).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, auth: null });
    expect(typeof enc.request_id).toBe('string');
    expect(enc.data.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
    expect(enc.data.key_version).toBe(1);
    const dec = await client.write('transit/decrypt/rt', { ciphertext: enc.data.ciphertext, context: b64('ctx-1') });
    expect(unb64(dec.data.plaintext)).toBe('hello');
  });

  it('binds the context of derived keys: another context fails authentication', async () => {
    const enc = await client.write('transit/encrypt/rt', { plaintext: b64('x'), context: b64('ctx-A') });
    const err = await failure(client.write('transit/decrypt/rt', { ciphertext: enc.data.ciphertext, context: b64('ctx-B') }));
    expect(err.response?.statusCode).toBe(400);
    expect(err.response?.body.errors).toEqual(['cipher: message authentication failed']);
  });

  it('requires a context for derived keys, with Vault message', async () => {
    const err = await failure(client.write('transit/encrypt/rt', { plaintext: b64('x') }));
    expect(err.response?.statusCode).toBe(400);
    expect(err.message).toMatch(/^missing 'context' for key derivation/);
  });

  it('ignores context on non-derived keys, as Vault does (so context binding needs derived keys)', async () => {
    vault.createKey('plain');
    const enc = await client.write('transit/encrypt/plain', { plaintext: b64('p'), context: b64('one') });
    const dec = await client.write('transit/decrypt/plain', { ciphertext: enc.data.ciphertext, context: b64('two') });
    expect(unb64(dec.data.plaintext)).toBe('p');
  });

  it('binds associated_data as GCM additional data, and rewrap cannot carry it', async () => {
    vault.createKey('aead');
    const enc = await client.write('transit/encrypt/aead', { plaintext: b64('a'), associated_data: b64('row-1') });
    const ok = await client.write('transit/decrypt/aead', { ciphertext: enc.data.ciphertext, associated_data: b64('row-1') });
    expect(unb64(ok.data.plaintext)).toBe('a');
    const wrong = await failure(client.write('transit/decrypt/aead', { ciphertext: enc.data.ciphertext, associated_data: b64('row-2') }));
    expect(wrong.response?.body.errors).toEqual(['cipher: message authentication failed']);
    const rewrap = await failure(client.write('transit/rewrap/aead', { ciphertext: enc.data.ciphertext, associated_data: b64('row-1') }));
    expect(rewrap.response?.statusCode).toBe(400);
  });

  it('rejects tampered and malformed ciphertexts with Vault messages', async () => {
    const enc = await client.write('transit/encrypt/rt', { plaintext: b64('t'), context: b64('c') });
    const ct: string = enc.data.ciphertext;
    const raw = Buffer.from(ct.slice('vault:v1:'.length), 'base64');
    raw[14]! ^= 0x80;
    const cases: [string, string][] = [
      [`vault:v1:${raw.toString('base64')}`, 'cipher: message authentication failed'],
      [ct.slice('vault:'.length), 'invalid ciphertext: no prefix'],
      [ct.replace('vault:v1:', 'vault:vX:'), 'invalid ciphertext: version number could not be decoded'],
      [ct.replace('vault:v1:', 'vault:v9:'), 'invalid ciphertext: version is too new'],
      ['vault:v1:***', 'invalid ciphertext: could not decode base64'],
      ['vault:v1:AAAA', 'cipher: message authentication failed'],
    ];
    for (const [ciphertext, message] of cases) {
      const err = await failure(client.write('transit/decrypt/rt', { ciphertext, context: b64('c') }));
      expect(err.response?.statusCode, ciphertext).toBe(400);
      expect(err.message).toBe(message);
    }
  });

  it('rotates, keeps old versions readable, and enforces min_decryption_version', async () => {
    await client.write('transit/keys/rot', { derived: true });
    const v1 = await client.write('transit/encrypt/rot', { plaintext: b64('one'), context: b64('c') });
    const rotated = await client.write('transit/keys/rot/rotate', {});
    expect(rotated.data.latest_version).toBe(2);
    const v2 = await client.write('transit/encrypt/rot', { plaintext: b64('two'), context: b64('c') });
    expect(v2.data.ciphertext).toMatch(/^vault:v2:/);
    expect(unb64((await client.write('transit/decrypt/rot', { ciphertext: v1.data.ciphertext, context: b64('c') })).data.plaintext)).toBe('one');

    const tooHigh = await failure(client.write('transit/keys/rot/config', { min_decryption_version: 3 }));
    expect(tooHigh.message).toBe('cannot set min decryption version of 3, latest key version is 2');
    await client.write('transit/keys/rot/config', { min_decryption_version: 2 });
    const refused = await failure(client.write('transit/decrypt/rot', { ciphertext: v1.data.ciphertext, context: b64('c') }));
    expect(refused.response?.statusCode).toBe(400);
    expect(refused.message).toBe('ciphertext or signature version is disallowed by policy (too old)');
    const read = await client.read('transit/keys/rot');
    expect(read.data).toMatchObject({ name: 'rot', type: 'aes256-gcm96', derived: true, latest_version: 2, min_decryption_version: 2 });
    expect(Object.keys(read.data.keys)).toEqual(['1', '2']);
  });

  it('rewraps to the newest version without revealing the plaintext, and the result decrypts', async () => {
    await client.write('transit/keys/rw', { derived: true });
    const v1 = await client.write('transit/encrypt/rw', { plaintext: b64('secret'), context: b64('c') });
    await client.write('transit/keys/rw/rotate', {});
    await client.write('transit/keys/rw/rotate', {});
    const rewrapped = await client.write('transit/rewrap/rw', { ciphertext: v1.data.ciphertext, context: b64('c') });
    expect(rewrapped.data).toEqual({ ciphertext: expect.stringMatching(/^vault:v3:/), key_version: 3 });
    expect(JSON.stringify(rewrapped)).not.toContain(b64('secret'));
    const dec = await client.write('transit/decrypt/rw', { ciphertext: rewrapped.data.ciphertext, context: b64('c') });
    expect(unb64(dec.data.plaintext)).toBe('secret');
    const wrongCtx = await failure(client.write('transit/rewrap/rw', { ciphertext: v1.data.ciphertext, context: b64('d') }));
    expect(wrongCtx.message).toBe('cipher: message authentication failed');
  });

  it('generates data keys: plaintext variant returns both, wrapped variant no plaintext', async () => {
    await client.write('transit/keys/dk', { derived: true });
    const both = await client.write('transit/datakey/plaintext/dk', { context: b64('c'), bits: 256 });
    expect(Buffer.from(both.data.plaintext, 'base64')).toHaveLength(32);
    const dec = await client.write('transit/decrypt/dk', { ciphertext: both.data.ciphertext, context: b64('c') });
    expect(dec.data.plaintext).toBe(both.data.plaintext);
    const wrapped = await client.write('transit/datakey/wrapped/dk', { context: b64('c') });
    expect(wrapped.data.plaintext).toBeUndefined();
    expect(wrapped.data.ciphertext).toMatch(/^vault:v1:/);
    const badBits = await failure(client.write('transit/datakey/plaintext/dk', { context: b64('c'), bits: 100 }));
    expect(badBits.response?.statusCode).toBe(400);
  });

  it('processes batch_input with per-item results and errors', async () => {
    await client.write('transit/keys/batch', { derived: true });
    const enc = await client.write('transit/encrypt/batch', {
      batch_input: [
        { plaintext: b64('a'), context: b64('1'), reference: 'r1' },
        { plaintext: b64('b'), context: b64('2') },
      ],
    });
    expect(enc.data.batch_results).toHaveLength(2);
    expect(enc.data.batch_results[0].reference).toBe('r1');
    const err = await failure(
      client.write('transit/decrypt/batch', {
        batch_input: [
          { ciphertext: enc.data.batch_results[0].ciphertext, context: b64('1') },
          { ciphertext: enc.data.batch_results[1].ciphertext, context: b64('wrong') },
        ],
      }),
    );
    expect(err.response?.statusCode).toBe(400);
    const results = (err.response?.body as unknown as { data: { batch_results: { plaintext?: string; error?: string }[] } }).data.batch_results;
    expect(unb64(results[0]!.plaintext!)).toBe('a');
    expect(results[1]!.error).toBe('cipher: message authentication failed');
  });

  it('honours key_version and min_encryption_version on encrypt', async () => {
    await client.write('transit/keys/kv', { derived: true });
    await client.write('transit/keys/kv/rotate', {});
    const v1 = await client.write('transit/encrypt/kv', { plaintext: b64('x'), context: b64('c'), key_version: 1 });
    expect(v1.data).toMatchObject({ key_version: 1, ciphertext: expect.stringMatching(/^vault:v1:/) });
    expect((await failure(client.write('transit/encrypt/kv', { plaintext: b64('x'), context: b64('c'), key_version: 3 }))).message).toBe(
      'requested version for encryption is higher than the latest key version',
    );
    await client.write('transit/keys/kv/config', { min_encryption_version: 2 });
    expect((await failure(client.write('transit/encrypt/kv', { plaintext: b64('x'), context: b64('c'), key_version: 1 }))).message).toBe(
      'requested version for encryption is less than the minimum encryption key version',
    );
    const bad = await failure(client.write('transit/keys/kv/config', { min_decryption_version: 'two' }));
    expect(bad.response?.statusCode).toBe(400);
  });

  it('deletes a key only after deletion_allowed is set', async () => {
    await client.write('transit/keys/del', { derived: true });
    expect((await failure(client.delete('transit/keys/del'))).message).toBe('deletion is not allowed for this key');
    await client.write('transit/keys/del/config', { deletion_allowed: true });
    await client.delete('transit/keys/del');
    expect((await failure(client.read('transit/keys/del'))).response?.statusCode).toBe(404);
    expect(vault.keyInfo('del')).toBeUndefined();
  });

  it('answers a partial batch failure with partial_failure_response_code when given', async () => {
    const enc = await client.write('transit/encrypt/batch', { batch_input: [{ plaintext: b64('a'), context: b64('1') }] });
    const res = await client.write('transit/decrypt/batch', {
      partial_failure_response_code: 200,
      batch_input: [{ ciphertext: enc.data.batch_results[0].ciphertext, context: b64('1') }, { ciphertext: 'nope', context: b64('1') }],
    });
    expect(res.data.batch_results[1].error).toBe('invalid ciphertext: no prefix');
  });

  it('upserts on encrypt (derived when a context is given), but never on decrypt', async () => {
    await client.write('transit/encrypt/upserted', { plaintext: b64('u'), context: b64('c') });
    expect(vault.keyInfo('upserted')?.derived).toBe(true);
    const err = await failure(client.write('transit/decrypt/missing', { ciphertext: 'vault:v1:AAAA', context: b64('c') }));
    expect(err.message).toBe('encryption key not found');
  });

  it('checks X-Vault-Token: missing, wrong and revoked tokens get 403 permission denied', async () => {
    vault.createKey('tok', { derived: true });
    const wrong = nodeVault({ endpoint: vault.url, token: 'hvs.not-a-token' });
    const err = await failure(wrong.write('transit/encrypt/tok', { plaintext: b64('x'), context: b64('c') }));
    expect(err.response?.statusCode).toBe(403);
    expect(err.response?.body.errors).toEqual(['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']);
    const noToken = nodeVault({ endpoint: vault.url, token: '' });
    noToken.token = '';
    expect((await failure(noToken.write('transit/encrypt/tok', { plaintext: b64('x'), context: b64('c') }))).response?.statusCode).toBe(403);

    const extra = vault.issueToken();
    const other = nodeVault({ endpoint: vault.url, token: extra });
    await other.write('transit/encrypt/tok', { plaintext: b64('x'), context: b64('c') });
    vault.revokeToken(extra);
    expect((await failure(other.write('transit/encrypt/tok', { plaintext: b64('x'), context: b64('c') }))).response?.statusCode).toBe(403);
  });

  it('keeps namespaces apart (X-Vault-Namespace) and serves nested mount paths', async () => {
    const nsA = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'team-a' });
    const nsB = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'team-b/' });
    await nsA.write('team/crypto/keys/shared-name', { derived: true });
    await nsB.write('team/crypto/keys/shared-name', { derived: true });
    const enc = await nsA.write('team/crypto/encrypt/shared-name', { plaintext: b64('n'), context: b64('c') });
    const err = await failure(nsB.write('team/crypto/decrypt/shared-name', { ciphertext: enc.data.ciphertext, context: b64('c') }));
    expect(err.message).toBe('cipher: message authentication failed');
    expect(vault.keyInfo('shared-name', { mount: 'team/crypto', namespace: 'team-a' })?.latestVersion).toBe(1);
    expect(vault.keyInfo('shared-name', { mount: 'team/crypto' })).toBeUndefined();
    const list = await nsA.read('team/crypto/keys?list=true');
    expect(list.data.keys).toEqual(['shared-name']);
    const lister = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'team-a', noCustomHTTPVerbs: true });
    expect((await lister.list('team/crypto/keys')).data.keys).toEqual(['shared-name']);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await failure(client.write('kv/data/x', { a: 1 }))).response?.statusCode).toBe(404);
    expect((await failure(client.write('transit/sign/rt', {}))).response?.statusCode).toBe(404);
    expect((await failure(client.read('transit/encrypt/rt'))).response?.statusCode).toBe(405);
    expect((await failure(client.read('transit/keys/does-not-exist'))).response?.statusCode).toBe(404);
  });

  it('warns about parameters it ignores, as Vault does', async () => {
    const res = await client.write('transit/encrypt/rt', { plaintext: b64('w'), context: b64('c'), colour: 'blue' });
    expect(res.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [colour]']);
  });

  it('counts requests per operation and applies failpoints', async () => {
    vault.counters.reset();
    await client.write('transit/encrypt/rt', { plaintext: b64('f'), context: b64('c') });
    expect(vault.counters.get('encrypt')).toBe(1);

    vault.faults.inject({ kind: 'throttle', operation: 'encrypt' });
    const throttled = await failure(client.write('transit/encrypt/rt', { plaintext: b64('f'), context: b64('c') }));
    expect(throttled.response?.statusCode).toBe(429);

    vault.faults.inject({ kind: 'server-error', status: 503 });
    const sealed = await failure(client.write('transit/encrypt/rt', { plaintext: b64('f'), context: b64('c') }));
    expect(sealed.response?.statusCode).toBe(503);
    expect(sealed.message).toBe('Vault is sealed');

    vault.faults.inject({ kind: 'drop', operation: 'decrypt' });
    const dropped = await failure(client.write('transit/decrypt/rt', { ciphertext: 'vault:v1:AAAA', context: b64('c') }));
    expect(dropped.response).toBeUndefined();
    expect(dropped.code).toBe('ECONNRESET');

    vault.faults.inject({ kind: 'corrupt-response', operation: 'encrypt' });
    const corrupted = await client.write('transit/encrypt/rt', { plaintext: b64('f'), context: b64('c') });
    const bad = await failure(client.write('transit/decrypt/rt', { ciphertext: corrupted.data.ciphertext, context: b64('c') }));
    expect(bad.message).toBe('cipher: message authentication failed');
    expect(vault.faults.armed).toBe(0);
    expect(vault.counters.get('encrypt')).toBe(4);
  });

  it('rejects oversized and non-JSON bodies', async () => {
    const huge = await failure(client.write('transit/encrypt/rt', { plaintext: 'A'.repeat(2 << 20), context: b64('c') }));
    expect(huge.response?.statusCode).toBe(413);
    const res = await fetch(`${vault.url}/v1/transit/encrypt/rt`, { method: 'POST', headers: { 'X-Vault-Token': vault.token }, body: '[1,2' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: ['failed to parse JSON input'] });
  });
});

// node-vault's generated helpers (health, tokenLookupSelf, startTokenRenewal) render paths with
// mustache, which breaks under vitest's `--conditions import` (require('mustache') gets the ESM
// build); they work under plain Node. These tests call the same endpoints through read/write.
describe('Vault emulator tokens with a TTL', () => {
  it('answers sys/health without a token, and lookup-self/renew-self for the caller token', async () => {
    const vault = await startVaultTransitEmulator({ tokenTtlSeconds: 60 });
    try {
      const client = nodeVault({ endpoint: vault.url, token: vault.token });
      const health = await fetch(`${vault.url}/v1/sys/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ initialized: true, sealed: false });
      const self = await client.read('auth/token/lookup-self');
      expect(self.data.renewable).toBe(true);
      expect(self.data.ttl).toBeGreaterThan(55);
      expect(self.data.ttl).toBeLessThanOrEqual(60);
      const renewed = await client.write('auth/token/renew-self', { increment: 30 });
      expect(renewed.auth).toMatchObject({ renewable: true, lease_duration: 30 });
      expect((await failure(nodeVault({ endpoint: vault.url, token: 'hvs.nope' }).read('auth/token/lookup-self'))).response?.statusCode).toBe(403);
    } finally {
      await vault.close();
    }
  });

  it('expires tokens after their TTL unless renewed', async () => {
    const vault = await startVaultTransitEmulator();
    try {
      vault.createKey('k', { derived: true });
      const shortLived = vault.issueToken(undefined, { ttlSeconds: 2 });
      const renewed = vault.issueToken(undefined, { ttlSeconds: 2 });
      const a = nodeVault({ endpoint: vault.url, token: shortLived });
      const b = nodeVault({ endpoint: vault.url, token: renewed });
      await a.write('transit/encrypt/k', { plaintext: b64('x'), context: b64('c') });
      // Generous margins: renewals 700 ms apart keep a 2 s token alive even on a loaded machine.
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 700));
        await b.write('auth/token/renew-self', {});
      }
      await b.write('transit/encrypt/k', { plaintext: b64('x'), context: b64('c') });
      const err = await failure(a.write('transit/encrypt/k', { plaintext: b64('x'), context: b64('c') }));
      expect(err.response?.statusCode).toBe(403);
      expect(vault.counters.get('token.renew-self')).toBe(4);
    } finally {
      await vault.close();
    }
  });
});

describe('Vault transit emulator over HTTPS', () => {
  it('serves the test-only certificate, which node-vault trusts through requestOptions.ca', async () => {
    const vault = await startVaultTransitEmulator({ tls: true, token: 'tls-test-token' });
    try {
      vault.createKey('k', { derived: true });
      expect(vault.url).toMatch(/^https:/);
      const trusting = nodeVault({ endpoint: vault.url, token: vault.token, requestOptions: { ca: testTlsFixture().cert } });
      const enc = await trusting.write('transit/encrypt/k', { plaintext: b64('tls'), context: b64('c') });
      expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
      const untrusting = nodeVault({ endpoint: vault.url, token: vault.token });
      const err = await failure(untrusting.write('transit/encrypt/k', { plaintext: b64('tls'), context: b64('c') }));
      expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await vault.close();
    }
  });

  it('refuses to listen on a non-loopback address, and refuses an empty token', async () => {
    await expect(startVaultTransitEmulator({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
    await expect(startVaultTransitEmulator({ token: '' })).rejects.toThrow(/non-empty/);
  });
});
