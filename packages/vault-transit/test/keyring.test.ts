import { inspect } from 'node:util';
import fc from 'fast-check';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, KeyUnavailableError, ProviderError, type WrappedKey } from '@fieldseal/core';
import { startVaultTransitEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';
import { parseVaultTransitKeyId, VaultTransitKeyring, VaultTransitRequestError } from '@fieldseal/vault-transit';
import { vaultContext } from '../src/context.js';

// The real node-vault client against the loopback emulator. `endpoint` and `token` are always
// passed explicitly so a developer's VAULT_* environment cannot leak in.

const ctx = { tenant: 't1', rowId: '42' };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function keyUnavailable(p: Promise<unknown>): Promise<KeyUnavailableError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(KeyUnavailableError);
  return err as KeyUnavailableError;
}

async function providerError(p: Promise<unknown>): Promise<ProviderError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

function causeOf(err: KeyUnavailableError, i = 0): ProviderError {
  const cause = err.reasons[i]?.cause;
  expect(cause).toBeInstanceOf(ProviderError);
  return cause as ProviderError;
}

let vault: VaultTransitEmulator;
let client: nodeVault.client;
let nextKey = 0;

/** A fresh derived transit key for one test, so tests never share state. */
function freshKey(options: { derived?: boolean; mount?: string; namespace?: string } = {}): string {
  const name = `kek-${++nextKey}`;
  vault.createKey(name, { derived: options.derived ?? true, ...(options.mount ? { mount: options.mount } : {}), ...(options.namespace ? { namespace: options.namespace } : {}) });
  return name;
}

beforeAll(async () => {
  vault = await startVaultTransitEmulator({ mounts: ['transit', 'secrets/transit'] });
  client = nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token });
});
afterAll(async () => {
  await vault.close();
});

describe('VaultTransitKeyring wrap/unwrap', () => {
  it('generates the data key in Vault (datakey/plaintext) and unwraps it with decrypt', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    vault.counters.reset();
    const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
    expect(dataKey).toBeInstanceOf(Uint8Array);
    expect(dataKey).toHaveLength(32);
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, datakey: 1 }); // verifyKey (default) reads the key once
    expect(wrapped).toHaveLength(1);
    const [w] = wrapped as [WrappedKey];
    expect(w.provider).toBe('vault-transit');
    expect(w.keyId).toBe(`transit/${keyName}:v1`);
    expect(new TextDecoder().decode(w.ciphertext)).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);

    const opened = await keyring.unwrap({ wrapped, context: ctx });
    expect(hex(opened)).toBe(hex(dataKey));
    expect(vault.counters.get('decrypt')).toBe(1);
  });

  it('wraps a data key from another keyring with encrypt, returning a copy and leaving the input alone', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const given = crypto.getRandomValues(new Uint8Array(32));
    const before = hex(given);
    vault.counters.reset();
    const { dataKey, wrapped } = await keyring.wrap({ dataKey: given, context: ctx });
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, encrypt: 1 });
    expect(hex(dataKey)).toBe(before);
    expect(dataKey).not.toBe(given);
    dataKey.fill(0); // the caller zeroes what it owns; the input must be unaffected
    expect(hex(given)).toBe(before);
    expect(hex(await keyring.unwrap({ wrapped, context: ctx }))).toBe(before);
  });

  it('rejects a data key that is not 32 bytes, before calling Vault', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    vault.counters.reset();
    await expect(keyring.wrap({ dataKey: new Uint8Array(16), context: ctx })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(vault.counters.total()).toBe(0);
  });

  it('binds the context: any other context, extra pair or missing pair fails as invalid-ciphertext', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const { wrapped } = await keyring.wrap({ context: ctx });
    const others: Record<string, string>[] = [{ tenant: 't2', rowId: '42' }, { ...ctx, extra: 'x' }, { tenant: 't1' }, {}];
    for (const other of others) {
      const err = await keyUnavailable(keyring.unwrap({ wrapped, context: other }));
      const cause = causeOf(err);
      expect(cause.kind).toBe('invalid-ciphertext');
      expect(cause.retryable).toBe(false);
      expect(cause.provider).toBe('vault-transit');
      expect(err.reasons[0]?.keyId).toBe(wrapped[0]?.keyId);
    }
  });

  it('binds the context canonically: the order of context keys does not matter', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const { dataKey, wrapped } = await keyring.wrap({ context: { b: '2', a: '1', é: 'x' } });
    expect(hex(await keyring.unwrap({ wrapped, context: { é: 'x', a: '1', b: '2' } }))).toBe(hex(dataKey));
  });

  it('property: any context round-trips, and any different context is refused by Vault', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const key = fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).filter((k) => !k.startsWith('fieldseal:'));
    const context = fc.dictionary(key, fc.string({ maxLength: 12, unit: 'grapheme' }), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(context, context, async (a, b) => {
        fc.pre(vaultContext(a) !== vaultContext(b));
        const { dataKey, wrapped } = await keyring.wrap({ context: a });
        expect(hex(await keyring.unwrap({ wrapped, context: { ...a } }))).toBe(hex(dataKey));
        const err = await keyUnavailable(keyring.unwrap({ wrapped, context: b }));
        expect(causeOf(err).kind).toBe('invalid-ciphertext');
      }),
      { numRuns: 25 },
    );
  });

  it('sends the canonical context as transit context (derived key), never as associated_data', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
    // Decrypt directly with the documented encoding: base64 of the canonical context.
    const res = await client.write(`transit/decrypt/${keyName}`, { ciphertext: new TextDecoder().decode(wrapped[0]!.ciphertext), context: vaultContext(ctx) });
    expect(Buffer.from(res.data.plaintext, 'base64').toString('hex')).toBe(hex(dataKey));
  });

  it('detects a tampered wrapped key', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const { wrapped } = await keyring.wrap({ context: ctx });
    const text = new TextDecoder().decode(wrapped[0]!.ciphertext);
    const raw = Buffer.from(text.slice('vault:v1:'.length), 'base64');
    raw[20]! ^= 0x04;
    const tampered = { ...wrapped[0]!, ciphertext: new TextEncoder().encode(`vault:v1:${raw.toString('base64')}`) };
    const err = await keyUnavailable(keyring.unwrap({ wrapped: [tampered], context: ctx }));
    expect(causeOf(err).kind).toBe('invalid-ciphertext');
  });

  it('rejects hostile requests with typed errors before calling Vault', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    vault.counters.reset();
    const hostile: [unknown, string][] = [
      [{ context: { a: 1 } }, 'ERR_FIELDSEAL_INVALID_ARGUMENT'],
      [{ context: null }, 'ERR_FIELDSEAL_INVALID_ARGUMENT'],
      [{ context: { 'fieldseal:x': 'y' } }, 'ERR_FIELDSEAL_CONTEXT_MISMATCH'],
      [{ context: ctx, dataKey: 'not bytes' }, 'ERR_FIELDSEAL_INVALID_ARGUMENT'],
      [null, 'ERR_FIELDSEAL_INVALID_ARGUMENT'],
    ];
    for (const [request, code] of hostile) {
      await expect(keyring.wrap(request as never), JSON.stringify(request)).rejects.toMatchObject({ code });
    }
    await expect(keyring.unwrap({ wrapped: 'x' as never, context: ctx })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    await expect(keyring.unwrap({ wrapped: [], context: { a: 1 } as never })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    expect(vault.counters.total()).toBe(0);
  });

  it('returns a typed reason when Vault returns something other than a 32-byte key', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const short = await client.write(`transit/encrypt/${keyName}`, { plaintext: Buffer.alloc(16, 7).toString('base64'), context: vaultContext(ctx) });
    const wrapped: WrappedKey = { provider: 'vault-transit', keyId: `transit/${keyName}:v1`, ciphertext: new TextEncoder().encode(short.data.ciphertext) };
    const err = await keyUnavailable(keyring.unwrap({ wrapped: [wrapped], context: ctx }));
    expect(causeOf(err).message).toMatch(/did not return a 32-byte data key/);
  });
});

describe('strict unwrap', () => {
  it('never sends wrapped keys of other providers, keys, mounts or namespaces to Vault', async () => {
    const a = freshKey();
    const b = freshKey();
    const mine = new VaultTransitKeyring({ client, keyName: a });
    const other = new VaultTransitKeyring({ client, keyName: b });
    const { wrapped } = await other.wrap({ context: ctx });
    const theirs = wrapped[0]!;
    const lookalikes: WrappedKey[] = [
      theirs,
      { ...theirs, keyId: `secrets/transit/${a}:v1` },
      { ...theirs, keyId: `ns/transit/${a}:v1` },
      { ...theirs, keyId: `transit/${a}x:v1` },
      { ...theirs, provider: 'aws-kms', keyId: `transit/${a}:v1` },
    ];
    vault.counters.reset();
    const err = await keyUnavailable(mine.unwrap({ wrapped: lookalikes, context: ctx }));
    expect(vault.counters.total()).toBe(0);
    expect(err.reasons).toHaveLength(1);
    expect(err.reasons[0]?.message).toBe(`no wrapped key under transit/${a}`);
  });

  it('rejects, without calling Vault, wrapped keys whose version or bytes do not match their key id', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const { wrapped } = await keyring.wrap({ context: ctx });
    const w = wrapped[0]!;
    const enc = new TextEncoder();
    const hostile: WrappedKey[] = [
      { ...w, keyId: `transit/${keyName}:v2` }, // version differs from the ciphertext's
      { ...w, keyId: `transit/${keyName}:v01` },
      { ...w, keyId: `transit/${keyName}:v` },
      { ...w, ciphertext: enc.encode('vault:v1:not base64!') },
      { ...w, ciphertext: new Uint8Array([0xff, 0xfe, 0x00]) },
      { ...w, ciphertext: 'vault:v1:AAAA' as unknown as Uint8Array },
    ];
    vault.counters.reset();
    const err = await keyUnavailable(keyring.unwrap({ wrapped: [null as unknown as WrappedKey, ...hostile], context: ctx }));
    expect(vault.counters.total()).toBe(0);
    expect(err.reasons).toHaveLength(hostile.length);
    for (const r of err.reasons) expect(r.message).toMatch(/^malformed wrapped key/);
  });

  it('tries every wrapped key under its key and returns the first that opens', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const first = await keyring.wrap({ context: ctx });
    const second = await keyring.wrap({ context: { other: 'context' } });
    vault.counters.reset();
    const key = await keyring.unwrap({ wrapped: [...second.wrapped, ...first.wrapped], context: ctx });
    expect(hex(key)).toBe(hex(first.dataKey));
    expect(vault.counters.get('decrypt')).toBe(2);
  });
});

describe('rotation', () => {
  it('after keys/:name/rotate new keys use v2 and old documents still open', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const old = await keyring.wrap({ context: ctx });
    await client.write(`transit/keys/${keyName}/rotate`, {});
    const fresh = await keyring.wrap({ context: ctx });
    expect(fresh.wrapped[0]?.keyId).toBe(`transit/${keyName}:v2`);
    expect(old.wrapped[0]?.keyId).toBe(`transit/${keyName}:v1`);
    expect(hex(await keyring.unwrap({ wrapped: old.wrapped, context: ctx }))).toBe(hex(old.dataKey));
    expect(hex(await keyring.unwrap({ wrapped: fresh.wrapped, context: ctx }))).toBe(hex(fresh.dataKey));
  });

  it('a raised min_decryption_version refuses old versions with kind "disabled"', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const old = await keyring.wrap({ context: ctx });
    await client.write(`transit/keys/${keyName}/rotate`, {});
    await client.write(`transit/keys/${keyName}/config`, { min_decryption_version: 2 });
    const err = await keyUnavailable(keyring.unwrap({ wrapped: old.wrapped, context: ctx }));
    const cause = causeOf(err);
    expect(cause.code).toBe('ERR_FIELDSEAL_PROVIDER');
    expect(cause.kind).toBe('disabled');
    expect(cause.retryable).toBe(false);
    expect(cause.keyId).toBe(`transit/${keyName}:v1`);
    expect(cause.message).toMatch(/min_decryption_version/);
    expect(err.message).toMatch(/disallowed by policy/);
  });

  it('rewrapInService moves a wrapped key to the newest version without the data key leaving Vault', async () => {
    const keyName = freshKey();
    const keyring = new VaultTransitKeyring({ client, keyName });
    const old = await keyring.wrap({ context: ctx });
    await client.write(`transit/keys/${keyName}/rotate`, {});
    await client.write(`transit/keys/${keyName}/rotate`, {});
    vault.counters.reset();
    const moved = await keyring.rewrapInService({ wrapped: old.wrapped, context: ctx });
    expect(vault.counters.snapshot()).toEqual({ rewrap: 1 });
    expect(moved).toHaveLength(1);
    expect(moved?.[0]?.keyId).toBe(`transit/${keyName}:v3`);
    expect(new TextDecoder().decode(moved![0]!.ciphertext)).toMatch(/^vault:v3:/);
    // Old versions can now be retired, and the moved key still opens to the same data key.
    await client.write(`transit/keys/${keyName}/config`, { min_decryption_version: 3 });
    expect(hex(await keyring.unwrap({ wrapped: moved!, context: ctx }))).toBe(hex(old.dataKey));
    expect(causeOf(await keyUnavailable(keyring.unwrap({ wrapped: old.wrapped, context: ctx }))).kind).toBe('disabled');
  });

  it('rewrapInService keeps the context bound and returns undefined for keys that are not its own', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey() });
    const other = new VaultTransitKeyring({ client, keyName: freshKey() });
    const { wrapped } = await keyring.wrap({ context: ctx });
    const err = await keyUnavailable(keyring.rewrapInService({ wrapped, context: { tenant: 'other' } }));
    expect(causeOf(err).kind).toBe('invalid-ciphertext');
    vault.counters.reset();
    expect(await other.rewrapInService({ wrapped, context: ctx })).toBeUndefined();
    expect(vault.counters.total()).toBe(0);
  });

  it('rewrapInService falls back (undefined) when the token may not rewrap, and surfaces transient failures', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey(), retry: { maxAttempts: 1 } });
    const { wrapped } = await keyring.wrap({ context: ctx });
    const denied = new VaultTransitKeyring({ client, keyName: keyring.keyName, token: 'hvs.no-rewrap-policy', verifyKey: false });
    expect(await denied.rewrapInService({ wrapped, context: ctx })).toBeUndefined();
    vault.faults.inject({ kind: 'server-error', status: 503, operation: 'rewrap' });
    const err = await providerError(keyring.rewrapInService({ wrapped, context: ctx }));
    expect(err.kind).toBe('unavailable');
    expect(err.retryable).toBe(true);
  });
});

describe('context binding with associated_data', () => {
  it('binds the context as associated_data on a non-derived key, generating the data key locally', async () => {
    const keyName = freshKey({ derived: false });
    const keyring = new VaultTransitKeyring({ client, keyName, contextBinding: 'associated-data' });
    vault.counters.reset();
    const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, encrypt: 1 });
    expect(hex(await keyring.unwrap({ wrapped, context: ctx }))).toBe(hex(dataKey));
    const err = await keyUnavailable(keyring.unwrap({ wrapped, context: { tenant: 't2', rowId: '42' } }));
    expect(causeOf(err).kind).toBe('invalid-ciphertext');
    // Vault's rewrap cannot carry associated_data: no server-side rewrap, the caller re-wraps client-side.
    expect(await keyring.rewrapInService({ wrapped, context: ctx })).toBeUndefined();
  });
});

describe('verifyKey', () => {
  it('reports a derived key, and refuses a non-derived key for derived-key binding', async () => {
    const derived = new VaultTransitKeyring({ client, keyName: freshKey() });
    expect(await derived.verifyKey()).toEqual({ type: 'aes256-gcm96', derived: true, latestVersion: 1, minDecryptionVersion: 1 });
    const plain = new VaultTransitKeyring({ client, keyName: freshKey({ derived: false }) });
    await expect(plain.verifyKey()).rejects.toThrow(/not derived, so Vault would ignore the encryption context/);
    const aad = new VaultTransitKeyring({ client, keyName: derived.keyName, contextBinding: 'associated-data' });
    await expect(aad.verifyKey()).rejects.toBeInstanceOf(InvalidArgumentError);
    const missing = new VaultTransitKeyring({ client, keyName: 'does-not-exist' });
    expect((await providerError(missing.verifyKey())).kind).toBe('not-found');
  });

  it('with verifyKey: true, checks once before the first call and refuses to wrap with a non-derived key', async () => {
    const plain = new VaultTransitKeyring({ client, keyName: freshKey({ derived: false }), verifyKey: true });
    vault.counters.reset();
    await expect(plain.wrap({ context: ctx })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1 });

    const good = new VaultTransitKeyring({ client, keyName: freshKey(), verifyKey: true });
    vault.counters.reset();
    const { wrapped } = await good.wrap({ context: ctx });
    await good.unwrap({ wrapped, context: ctx });
    await good.wrap({ context: ctx });
    expect(vault.counters.snapshot()).toEqual({ 'keys.read': 1, datakey: 2, decrypt: 1 });
  });
});

describe('mounts, namespaces and tokens', () => {
  it('uses a custom mount path and carries it in the key id', async () => {
    const keyName = freshKey({ mount: 'secrets/transit' });
    const keyring = new VaultTransitKeyring({ client, keyName, mount: '/secrets/transit/' });
    const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
    expect(wrapped[0]?.keyId).toBe(`secrets/transit/${keyName}:v1`);
    expect(hex(await keyring.unwrap({ wrapped, context: ctx }))).toBe(hex(dataKey));
  });

  it('sends X-Vault-Namespace and carries the namespace in the key id', async () => {
    const keyName = freshKey({ namespace: 'team-a' });
    const keyring = new VaultTransitKeyring({ client, keyName, namespace: 'team-a' });
    expect(keyring.keyPath).toBe(`team-a/transit/${keyName}`);
    const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
    expect(wrapped[0]?.keyId).toBe(`team-a/transit/${keyName}:v1`);
    expect(hex(await keyring.unwrap({ wrapped, context: ctx }))).toBe(hex(dataKey));
    // The same key name in the root namespace is another key.
    const root = new VaultTransitKeyring({ client, keyName });
    expect(root.keyPath).toBe(`transit/${keyName}`);
    await keyUnavailable(root.unwrap({ wrapped, context: ctx }));
  });

  it("takes the namespace of a caller's client, and refuses a conflicting one", async () => {
    const keyName = freshKey({ namespace: 'team-b' });
    const nsClient = nodeVault({ endpoint: vault.url, token: vault.token, namespace: 'team-b' });
    const keyring = new VaultTransitKeyring({ client: nsClient, keyName });
    expect(keyring.namespace).toBe('team-b');
    const { wrapped } = await keyring.wrap({ context: ctx });
    expect(wrapped[0]?.keyId).toBe(`team-b/transit/${keyName}:v1`);
    expect(() => new VaultTransitKeyring({ client: nsClient, keyName, namespace: 'team-c' })).toThrow(InvalidArgumentError);
  });

  it('calls a token function on every request, so the caller can renew or replace the token', async () => {
    const keyName = freshKey();
    let current = vault.issueToken();
    let calls = 0;
    const anonymous = nodeVault({ endpoint: vault.url, token: 'hvs.unused-placeholder' });
    const keyring = new VaultTransitKeyring({ client: anonymous, keyName, token: () => (calls++, current) });
    const { wrapped } = await keyring.wrap({ context: ctx });
    vault.revokeToken(current);
    current = vault.issueToken();
    await keyring.unwrap({ wrapped, context: ctx });
    expect(calls).toBe(3); // verifyKey's read, datakey, decrypt
    const failing = new VaultTransitKeyring({ client, keyName, token: () => Promise.reject(new Error('agent not ready')) });
    const err = await providerError(failing.wrap({ context: ctx }));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/token source failed/);
  });

  // node-vault's startTokenRenewal does the same with its mustache-generated tokenRenewSelf, which
  // vitest's `--conditions import` breaks (it works under plain Node); renew-self is called directly here.
  it("works across token expiry when the caller renews the client's token", async () => {
    const ttl = await startVaultTransitEmulator({ tokenTtlSeconds: 2 });
    try {
      ttl.createKey('k', { derived: true });
      const renewing = nodeVault({ endpoint: ttl.url, token: ttl.token });
      const idle = nodeVault({ endpoint: ttl.url, token: ttl.issueToken(undefined, { ttlSeconds: 2 }) });
      const keyring = new VaultTransitKeyring({ client: renewing, keyName: 'k' });
      const unrenewed = new VaultTransitKeyring({ client: idle, keyName: 'k' });
      const { wrapped } = await keyring.wrap({ context: ctx });
      await unrenewed.wrap({ context: ctx });
      // Generous margins: renewals 700 ms apart keep a 2 s token alive even on a loaded machine.
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 700));
        await renewing.write('auth/token/renew-self', {});
      }
      await keyring.unwrap({ wrapped, context: ctx }); // 2.8 s after a 2 s token was issued
      expect((await providerError(unrenewed.wrap({ context: ctx }))).kind).toBe('auth');
    } finally {
      await ttl.close();
    }
  });

  it('builds its own node-vault client from endpoint and token, ignoring VAULT_* variables', async () => {
    const keyName = freshKey();
    const saved = { ...process.env };
    process.env.VAULT_TOKEN = 'hvs.from-env-must-not-be-used';
    process.env.VAULT_NAMESPACE = 'from-env';
    process.env.VAULT_PREFIX = '/wrong';
    try {
      const keyring = new VaultTransitKeyring({ endpoint: vault.url, token: vault.token, keyName });
      expect(keyring.keyPath).toBe(`transit/${keyName}`);
      const { dataKey, wrapped } = await keyring.wrap({ context: ctx });
      expect(hex(await keyring.unwrap({ wrapped, context: ctx }))).toBe(hex(dataKey));
    } finally {
      for (const k of ['VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe('errors', () => {
  it('a bad token is a non-retryable auth error on wrap, and an auth reason on unwrap', async () => {
    const keyName = freshKey();
    const good = new VaultTransitKeyring({ client, keyName });
    const { wrapped } = await good.wrap({ context: ctx });
    const bad = new VaultTransitKeyring({ client: nodeVault({ endpoint: vault.url, token: 'hvs.wrong' }), keyName });
    const err = await providerError(bad.wrap({ context: ctx }));
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'vault-transit', keyId: `transit/${keyName}`, kind: 'auth', retryable: false });
    expect(err.cause).toBeInstanceOf(VaultTransitRequestError);
    expect((err.cause as VaultTransitRequestError).statusCode).toBe(403);
    expect((err.cause as VaultTransitRequestError).errors).toEqual([expect.stringMatching(/occurred:\s+\* permission denied\s+\* invalid token/)]);
    const unwrapErr = await keyUnavailable(bad.unwrap({ wrapped, context: ctx }));
    expect(causeOf(unwrapErr).kind).toBe('auth');
  });

  it('a missing key is not-found; an unknown mount is not-found', async () => {
    const missing = new VaultTransitKeyring({ client, keyName: 'never-created' });
    expect((await providerError(missing.wrap({ context: ctx }))).kind).toBe('not-found');
    const noMount = new VaultTransitKeyring({ client, keyName: freshKey(), mount: 'nope' });
    const err = await providerError(noMount.wrap({ context: ctx }));
    expect(err.kind).toBe('not-found');
    expect((err.cause as VaultTransitRequestError).statusCode).toBe(404);
  });

  it('5xx, sealed and throttled answers are retryable; unwrap throws them directly', async () => {
    const keyring = new VaultTransitKeyring({ client, keyName: freshKey(), retry: { maxAttempts: 1 } });
    const { wrapped } = await keyring.wrap({ context: ctx });
    vault.faults.inject({ kind: 'server-error', operation: 'datakey' });
    expect(await providerError(keyring.wrap({ context: ctx }))).toMatchObject({ kind: 'unavailable', retryable: true });
    vault.faults.inject({ kind: 'server-error', status: 503, operation: 'encrypt' });
    const sealed = await providerError(keyring.wrap({ dataKey: new Uint8Array(32), context: ctx }));
    expect(sealed).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(sealed.message).toMatch(/Vault is sealed/);
    vault.faults.inject({ kind: 'throttle', operation: 'decrypt' });
    const throttled = await providerError(keyring.unwrap({ wrapped, context: ctx }));
    expect(throttled).toMatchObject({ kind: 'throttled', retryable: true, keyId: wrapped[0]?.keyId });
    // And the next call, with the failpoint spent, works.
    await keyring.unwrap({ wrapped, context: ctx });
  });

  it('connection refused, dropped connections and timeouts are retryable unavailable errors', async () => {
    const doomed = await startVaultTransitEmulator();
    const keyName = 'k';
    doomed.createKey(keyName, { derived: true });
    const c = nodeVault({ endpoint: doomed.url, token: doomed.token });
    const keyring = new VaultTransitKeyring({ client: c, keyName, retry: { maxAttempts: 1 } });
    const impatient = new VaultTransitKeyring({ client: c, keyName, timeoutMs: 200, retry: { maxAttempts: 1 } });
    const { wrapped } = await keyring.wrap({ context: ctx });

    doomed.faults.inject({ kind: 'drop', operation: 'decrypt' });
    const dropped = await providerError(keyring.unwrap({ wrapped, context: ctx }));
    expect(dropped).toMatchObject({ kind: 'unavailable', retryable: true });
    expect((dropped.cause as VaultTransitRequestError).code).toBe('ECONNRESET');

    doomed.faults.inject({ kind: 'delay', delayMs: 1_000, operation: 'datakey' });
    const slow = await providerError(impatient.wrap({ context: ctx }));
    expect(slow).toMatchObject({ kind: 'unavailable', retryable: true });
    // Whichever fires first: axios's timeout (ECONNABORTED) or the keyring's attempt timer.
    expect(slow.message).toMatch(/ECONNABORTED|no answer within 200 ms/);

    await doomed.close();
    const refused = await providerError(keyring.wrap({ context: ctx }));
    expect(refused).toMatchObject({ kind: 'unavailable', retryable: true, provider: 'vault-transit' });
    expect((refused.cause as VaultTransitRequestError).code).toBe('ECONNREFUSED');
    const refusedUnwrap = await providerError(keyring.unwrap({ wrapped, context: ctx }));
    expect(refusedUnwrap.retryable).toBe(true);
  });

  it('never puts the data key in an error, its causes, or their inspection', async () => {
    const doomed = await startVaultTransitEmulator();
    const url = doomed.url;
    await doomed.close();
    const dataKey = crypto.getRandomValues(new Uint8Array(32));
    const secrets = [Buffer.from(dataKey).toString('base64'), hex(dataKey), Buffer.from(dataKey).toString('base64url')];
    const refused = new VaultTransitKeyring({ endpoint: url, token: 'hvs.whatever', keyName: 'k' });
    const bad = new VaultTransitKeyring({ client: nodeVault({ endpoint: vault.url, token: 'hvs.wrong' }), keyName: freshKey() });
    for (const keyring of [refused, bad]) {
      const err = await providerError(keyring.wrap({ dataKey, context: ctx }));
      const seen = [inspect(err, { depth: Infinity, showHidden: true }), JSON.stringify(err), String(err.stack)].join('\n');
      for (const s of secrets) expect(seen).not.toContain(s);
    }
  });
});

describe('constructor preconditions', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['no key name', { client: {} }],
    ['a key name with a slash', { keyName: 'a/b' }],
    ['a key name with a space', { keyName: 'a b' }],
    ['a mount that climbs', { keyName: 'k', mount: 'transit/../sys' }],
    ['an empty mount', { keyName: 'k', mount: '/' }],
    ['a namespace with a query', { keyName: 'k', namespace: 'a?b' }],
    ['an unknown context binding', { keyName: 'k', contextBinding: 'none' }],
    ['a negative timeout', { keyName: 'k', timeoutMs: -1 }],
    ['an empty token', { keyName: 'k', token: '' }],
    ['a client without write', { keyName: 'k', client: { read() {} } }],
    ['a client and an endpoint', { keyName: 'k', endpoint: 'http://127.0.0.1:1' }],
  ];
  for (const [what, options] of bad) {
    it(`rejects ${what}`, () => {
      const opts = 'client' in options ? options : { client, ...options };
      expect(() => new VaultTransitKeyring(opts as never)).toThrow(InvalidArgumentError);
    });
  }
  it('requires an endpoint and a token when it builds the client', () => {
    expect(() => new VaultTransitKeyring({ keyName: 'k', token: 't' })).toThrow(/endpoint/);
    expect(() => new VaultTransitKeyring({ keyName: 'k', endpoint: 'http://127.0.0.1:8200' })).toThrow(/token/);
    expect(() => new VaultTransitKeyring({ keyName: 'k', endpoint: 'ftp://x', token: 't' })).toThrow(/endpoint/);
  });
  it('is frozen', () => {
    const keyring = new VaultTransitKeyring({ client, keyName: 'k' });
    expect(Object.isFrozen(keyring)).toBe(true);
    expect(keyring.keyId(7)).toBe('transit/k:v7');
  });
});

describe('parseVaultTransitKeyId', () => {
  it('splits key ids the keyring writes, and rejects other shapes', () => {
    const keyring = new VaultTransitKeyring({ client, keyName: 'customer-kek', namespace: 'admin/team', mount: 'secrets/transit' });
    expect(parseVaultTransitKeyId(keyring.keyId(12))).toEqual({ keyPath: 'admin/team/secrets/transit/customer-kek', version: 12 });
    expect(parseVaultTransitKeyId('transit/k:v1')).toEqual({ keyPath: 'transit/k', version: 1 });
    for (const bad of ['transit/k', 'transit/k:v0', 'transit/k:v01', 'k:v1', 'transit/k:v1x', 'transit/:v1', '', 42 as unknown as string]) {
      expect(parseVaultTransitKeyId(bad), String(bad)).toBeUndefined();
    }
  });
});

