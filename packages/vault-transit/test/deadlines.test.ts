// Deadlines, retries, AbortSignal, retryable errors (issue 14 items 8, 9) and verifyKey on by
// default (issue 23 item 10): the real node-vault client against the emulator's failpoints.
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, DecryptionFailedError, encrypt, InvalidArgumentError, KeyUnavailableError, ProviderError, type JsonObject } from '@fieldseal/core';
import { startVaultTransitEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';
import { keyringFromConfig, VaultKeyNotDerivedError, VaultTransitKeyring, type VaultTransitKeyringOptions } from '@fieldseal/vault-transit';

const context = { tenant: 't1' };
let vault: VaultTransitEmulator;
let client: nodeVault.client;
let next = 0;

beforeAll(async () => {
  vault = await startVaultTransitEmulator();
  client = nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token });
});
afterAll(async () => vault.close());

function freshKey(derived = true): string {
  const name = `dl-${++next}`;
  vault.createKey(name, { derived });
  return name;
}

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5 };

function keyring(options: Partial<VaultTransitKeyringOptions> = {}): VaultTransitKeyring {
  return new VaultTransitKeyring({ client, keyName: freshKey(), ...options });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

function tamperField(sealed: JsonObject, field: string): JsonObject {
  const value = sealed[field] as string;
  const i = value.length - 6;
  return { ...sealed, [field]: value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1) };
}

describe('VaultTransitKeyring deadlines and retries (14.8)', () => {
  it('has a default policy: 3 attempts of 10 s within a 30 s deadline', () => {
    expect(keyring().retryPolicy).toMatchObject({ maxAttempts: 3, attemptTimeoutMs: 10_000, deadlineMs: 30_000 });
    expect(keyring({ timeoutMs: 0 }).retryPolicy).toMatchObject({ attemptTimeoutMs: 30_000, deadlineMs: 30_000 });
    for (const retry of [{ maxAttempts: 0 }, { deadlineMs: -1 }, { attemptTimeoutMs: 5 }, { tries: 2 }]) {
      expect(() => keyring({ retry: retry as never })).toThrow(InvalidArgumentError);
    }
  });

  it('retries throttling, 5xx, dropped connections and black-holed attempts', async () => {
    const ring = keyring({ timeoutMs: 200, retry: fastRetry });
    await ring.verifyKey();
    vault.counters.reset();
    vault.faults.inject({ kind: 'throttle', operation: 'datakey' });
    vault.faults.inject({ kind: 'server-error', status: 503, operation: 'datakey' });
    const { dataKey, wrapped } = await ring.wrap({ context });
    expect(vault.counters.get('datakey')).toBe(3);
    vault.faults.inject({ kind: 'drop', operation: 'decrypt' });
    vault.faults.inject({ kind: 'blackhole', operation: 'decrypt' });
    expect(await ring.unwrap({ wrapped, context })).toEqual(dataKey);
    expect(vault.counters.get('decrypt')).toBe(3);
  });

  it('a black-holed Vault ends at the deadline with a retryable error', async () => {
    const ring = keyring({ timeoutMs: 0, retry: { ...fastRetry, deadlineMs: 400 } });
    await ring.verifyKey();
    vault.faults.inject({ kind: 'blackhole', count: 10 });
    const started = Date.now();
    const err = await rejection(ring.wrap({ context }));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'vault-transit', kind: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/deadline/);
    expect(Date.now() - started).toBeLessThan(5_000);
    vault.faults.clear();
  });

  it('an AbortSignal stops waiting at once and stops retrying', async () => {
    const ring = keyring({ retry: fastRetry });
    const { wrapped } = await ring.wrap({ context });
    vault.counters.reset();
    vault.faults.inject({ kind: 'blackhole', count: 10 });
    const controller = new AbortController();
    const pending = ring.unwrap({ wrapped, context, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'aborted' });
    await new Promise((r) => setTimeout(r, 100));
    expect(vault.counters.get('decrypt')).toBe(1);
    vault.faults.clear();
    await expect(ring.wrap({ context, signal: AbortSignal.abort() })).rejects.toMatchObject({ kind: 'aborted' });
  });
});

describe('VaultTransitKeyring shared first key check', () => {
  it('one caller aborting does not fail the others waiting on the same check', async () => {
    const ring = keyring();
    vault.faults.inject({ kind: 'delay', delayMs: 200, operation: 'keys.read' });
    const controller = new AbortController();
    const aborted = ring.wrap({ context, signal: controller.signal });
    const patient = ring.wrap({ context });
    setTimeout(() => controller.abort(), 50);
    await expect(aborted).rejects.toMatchObject({ kind: 'aborted' });
    expect((await patient).wrapped).toHaveLength(1);
  });
});

describe('VaultTransitKeyring errors say whether retrying can help (14.9)', () => {
  it('decrypt: throttling and 5xx are retryable; a wrong key is not; a tampered field is the same auth error', async () => {
    const ring = keyring({ retry: { maxAttempts: 1 } });
    const sealed = await encrypt({ ssn: '123-45-6789' }, { keyring: ring, paths: ['$.ssn'], context });

    vault.faults.inject({ kind: 'throttle', operation: 'decrypt' });
    const throttled = await rejection(decrypt(sealed, { keyring: ring, context }));
    expect(throttled).toMatchObject({ retryable: true, kind: 'throttled' });
    vault.faults.inject({ kind: 'server-error', status: 503, operation: 'decrypt' });
    expect(await rejection(decrypt(sealed, { keyring: ring, context }))).toMatchObject({ retryable: true });

    const other = keyring();
    const wrongKey = await rejection(decrypt(sealed, { keyring: other, context }));
    expect(wrongKey).toBeInstanceOf(KeyUnavailableError);
    expect(wrongKey).toMatchObject({ retryable: false });

    const tampered = await rejection(decrypt(tamperField(sealed, 'ssn'), { keyring: ring, context }));
    expect(tampered).toBeInstanceOf(DecryptionFailedError);
    expect((tampered as Error).message).toBe(new DecryptionFailedError().message);
    expect(await decrypt(sealed, { keyring: ring, context })).toEqual({ ssn: '123-45-6789' });
  });
});

describe('verifyKey is on by default (23.10)', () => {
  it('refuses a non-derived key before the first call, saying how to create a derived one', async () => {
    const name = freshKey(false);
    const ring = new VaultTransitKeyring({ client, keyName: name });
    vault.counters.reset();
    const err = await rejection(ring.wrap({ context }));
    expect(err).toBeInstanceOf(VaultKeyNotDerivedError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT', keyPath: `transit/${name}` });
    expect((err as Error).message).toContain(`vault write transit/keys/${name} derived=true`);
    expect(vault.counters.get('datakey')).toBe(0);
    expect(await rejection(ring.unwrap({ wrapped: [{ provider: 'vault-transit', keyId: `transit/${name}:v1`, ciphertext: new TextEncoder().encode('vault:v1:AAAA') }], context }))).toBeInstanceOf(VaultKeyNotDerivedError);

    // From config too; and verifyKey: false opts out.
    const fromConfig = await keyringFromConfig({ endpoint: vault.url, token: vault.token, keyName: name }, { env: {} });
    expect(await rejection(fromConfig.wrap({ context }))).toBeInstanceOf(VaultKeyNotDerivedError);
    const optOut = new VaultTransitKeyring({ client, keyName: name, verifyKey: false });
    expect((await optOut.wrap({ context })).wrapped).toHaveLength(1);
  });

  it('checks once, then calls Vault directly; a derived key passes', async () => {
    const ring = keyring();
    vault.counters.reset();
    const { wrapped } = await ring.wrap({ context });
    await ring.unwrap({ wrapped, context });
    await ring.wrap({ context });
    expect(vault.counters.get('keys.read')).toBe(1);
  });
});
