// AwsKmsKeyring with the real @aws-sdk/client-kms against the loopback KMS emulator.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, encrypt, inspect, KeyUnavailableError, LocalKeyring, MultiKeyring, ProviderError, rewrap } from '@fieldseal/core';
import type { JsonObject, WrappedKey } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import type { AwsEmulatedKey, AwsKmsEmulator } from '@fieldseal/emulators';
import { AWS_KMS_PROVIDER, AwsKmsKeyring } from '@fieldseal/aws-kms';
import type { AwsKmsKeyringOptions } from '@fieldseal/aws-kms';

let kms: AwsKmsEmulator;
let keyA: AwsEmulatedKey;
let keyB: AwsEmulatedKey;
let keyC: AwsEmulatedKey;
const keyrings: AwsKmsKeyring[] = [];
const clients: KMSClient[] = [];

/** A keyring exactly as an application would build it, pointed at the emulator. */
function keyring(keyIds: string[], extra: Partial<AwsKmsKeyringOptions> = {}): AwsKmsKeyring {
  const k = new AwsKmsKeyring({ keyIds, region: kms.region, endpoint: kms.url, credentials: kms.credentials, maxAttempts: 1, ...extra });
  keyrings.push(k);
  return k;
}

const ctx = { tenant: 't1', table: 'customers' };
const customer = (): JsonObject => ({ id: 42, name: 'Ada', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }] });

async function reasonsOf(p: Promise<unknown>): Promise<KeyUnavailableError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KeyUnavailableError);
    return err as KeyUnavailableError;
  }
  throw new Error('expected KeyUnavailableError');
}

async function providerErrorOf(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected ProviderError');
}

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  keyA = await kms.createKey({ alias: 'alias/app' });
  keyB = await kms.createKey({ alias: 'alias/backup' });
  keyC = await kms.createKey();
});

afterEach(() => {
  kms.faults.clear();
  kms.counters.reset();
});

afterAll(async () => {
  for (const k of keyrings) k.destroy();
  for (const c of clients) c.destroy();
  await kms.close();
});

describe('wrap and unwrap', () => {
  it('GenerateDataKey wraps a fresh key under the key ARN; Decrypt with the configured KeyId returns it', async () => {
    const k = keyring([keyA.arn]);
    const { dataKey, wrapped } = await k.wrap({ context: ctx });
    expect(dataKey).toHaveLength(32);
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]!.provider).toBe('aws-kms');
    expect(wrapped[0]!.keyId).toBe(keyA.arn);
    expect(kms.counters.snapshot()).toEqual({ GenerateDataKey: 1 });
    const back = await k.unwrap({ wrapped, context: ctx });
    expect(back).toEqual(dataKey);
    expect(back).not.toBe(dataKey);
    const decrypt = kms.log.at(-1)!;
    expect(decrypt).toMatchObject({ operation: 'Decrypt', keyId: keyA.arn, encryptionContext: ctx, status: 200 });
  });

  it('sends the encryption context as EncryptionContext on every call, and a wrong context fails in KMS', async () => {
    const k = keyring([keyA.arn, keyB.arn]);
    const { wrapped } = await k.wrap({ context: ctx });
    for (const entry of kms.log.slice(-2)) expect(entry.encryptionContext).toEqual(ctx);
    const err = await reasonsOf(k.unwrap({ wrapped, context: { ...ctx, tenant: 't2' } }));
    expect(err.code).toBe('ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(err.reasons).toHaveLength(2);
    for (const r of err.reasons) {
      expect((r.cause as ProviderError).kind).toBe('invalid-ciphertext');
      expect((r.cause as ProviderError).retryable).toBe(false);
    }
    expect(kms.log.slice(-2).map((r) => r.encryptionContext)).toEqual([{ ...ctx, tenant: 't2' }, { ...ctx, tenant: 't2' }]);
    // An empty context is sent as no context at all (KMS treats both alike).
    const { wrapped: w2, dataKey } = await k.wrap({ context: {} });
    expect(kms.log.at(-1)!.encryptionContext).toBeUndefined();
    expect(await k.unwrap({ wrapped: w2, context: {} })).toEqual(dataKey);
  });

  it('context keys that look like prototype properties stay plain data on the wire', async () => {
    const hostile = JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}') as Record<string, string>;
    const k = keyring([keyA.arn]);
    const { wrapped, dataKey } = await k.wrap({ context: hostile });
    expect(Object.keys(kms.log.at(-1)!.encryptionContext ?? {}).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(await k.unwrap({ wrapped, context: hostile })).toEqual(dataKey);
    await reasonsOf(k.unwrap({ wrapped, context: { constructor: 'y', toString: 'z' } }));
  });

  it('several keys: wraps under all (one GenerateDataKey, then Encrypt), unwraps with the first that works', async () => {
    const k = keyring([keyA.arn, 'alias/backup', keyC.keyId]);
    const { dataKey, wrapped } = await k.wrap({ context: ctx });
    expect(wrapped.map((w) => w.keyId)).toEqual([keyA.arn, keyB.arn, keyC.arn]);
    expect(kms.counters.snapshot()).toEqual({ GenerateDataKey: 1, Encrypt: 2 });
    kms.counters.reset();
    expect(await k.unwrap({ wrapped: [...wrapped].reverse(), context: ctx })).toEqual(dataKey);
    expect(kms.counters.snapshot()).toEqual({ Decrypt: 1 });
    // With key A disabled, the backup (configured by alias) opens it.
    kms.setKeyEnabled(keyA.arn, false);
    try {
      kms.counters.reset();
      expect(await k.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
      expect(kms.counters.get('Decrypt')).toBe(2);
    } finally {
      kms.setKeyEnabled(keyA.arn, true);
    }
  });

  it('takes a data key from another keyring (multi-keyring) and only Encrypts it', async () => {
    const local = await LocalKeyring.generate({ name: 'main' });
    const multi = new MultiKeyring([local, keyring(['alias/app'])]);
    const { dataKey, wrapped } = await multi.wrap({ context: ctx });
    expect(wrapped.map((w) => w.provider)).toEqual(['local', 'aws-kms']);
    expect(kms.counters.snapshot()).toEqual({ Encrypt: 1 });
    const onlyKms = keyring([keyA.arn]);
    expect(await onlyKms.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
  });

  it('strict: a document wrapped under a key the keyring is not configured with is not followed', async () => {
    const other = keyring([keyC.arn]);
    const { wrapped } = await other.wrap({ context: ctx });
    const k = keyring([keyA.arn]);
    kms.counters.reset();
    const err = await reasonsOf(k.unwrap({ wrapped, context: ctx }));
    expect(err.reasons).toEqual([expect.objectContaining({ provider: 'aws-kms', keyId: keyA.arn })]);
    expect(kms.counters.total()).toBe(0); // nothing was even asked of KMS

    // A forged entry claiming to be key A but holding key C's blob: KMS refuses it (IncorrectKeyException).
    const forged: WrappedKey[] = [{ ...wrapped[0]!, keyId: keyA.arn }];
    const err2 = await reasonsOf(k.unwrap({ wrapped: forged, context: ctx }));
    expect((err2.reasons[0]!.cause as ProviderError).kind).toBe('invalid-ciphertext');
    expect(kms.log.at(-1)).toMatchObject({ operation: 'Decrypt', keyId: keyA.arn, errorType: 'IncorrectKeyException' });
  });

  it('a keyring configured by alias follows the alias in KMS, not the document', async () => {
    const byAlias = keyring(['alias/app']);
    const { dataKey, wrapped } = await byAlias.wrap({ context: ctx });
    expect(wrapped[0]!.keyId).toBe(keyA.arn);
    const underC = await keyring([keyC.arn]).wrap({ context: ctx });
    // Both blobs offered: the alias's blob opens it, and the other one is never decrypted by name.
    kms.counters.reset();
    expect(await byAlias.unwrap({ wrapped: [...underC.wrapped, ...wrapped], context: ctx })).toEqual(dataKey);
    expect(kms.log.at(-1)).toMatchObject({ operation: 'Decrypt', keyId: 'alias/app', status: 200 });
    expect(kms.counters.get('Decrypt')).toBe(1);
    // Fresh keyring with no memory of the alias target: C's blob is tried by alias, and KMS refuses it.
    const fresh = keyring(['alias/app']);
    kms.counters.reset();
    expect(await fresh.unwrap({ wrapped: [...underC.wrapped, ...wrapped], context: ctx })).toEqual(dataKey);
    expect(kms.log.slice(-2).map((r) => r.errorType ?? r.status)).toEqual(['IncorrectKeyException', 200]);
  });

  it('alias rotation: after the alias moves, old documents need the old key ARN configured', async () => {
    const v1 = await kms.createKey({ alias: 'alias/rotating' });
    const v2 = await kms.createKey();
    const byAlias = keyring(['alias/rotating']);
    const old = await byAlias.wrap({ context: ctx });
    expect(old.wrapped[0]!.keyId).toBe(v1.arn);
    kms.setAlias('alias/rotating', v2.keyId, { replace: true });
    const fresh = await byAlias.wrap({ context: ctx });
    expect(fresh.wrapped[0]!.keyId).toBe(v2.arn);
    const err = await reasonsOf(byAlias.unwrap({ wrapped: old.wrapped, context: ctx }));
    expect((err.reasons[0]!.cause as ProviderError).kind).toBe('invalid-ciphertext');
    const both = keyring(['alias/rotating', v1.arn]);
    expect(await both.unwrap({ wrapped: old.wrapped, context: ctx })).toEqual(old.dataKey);
    expect(await both.unwrap({ wrapped: fresh.wrapped, context: ctx })).toEqual(fresh.dataKey);
  });

  it('discovery is off by default, and when on only follows key ARNs of the listed accounts', async () => {
    const { dataKey, wrapped } = await keyring([keyC.arn]).wrap({ context: ctx });
    const trusting = keyring([], { discovery: { accountIds: [kms.accountId] } });
    expect(await trusting.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
    expect(kms.log.at(-1)).toMatchObject({ operation: 'Decrypt', keyId: keyC.arn });
    await expect(trusting.wrap({ context: ctx })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });

    const otherAccount = keyring([], { discovery: { accountIds: ['999988887777'] } });
    kms.counters.reset();
    const err = await reasonsOf(otherAccount.unwrap({ wrapped, context: ctx }));
    expect(err.reasons[0]!.message).toContain('discovery');
    expect(kms.counters.total()).toBe(0);
    const otherRegion = keyring([], { discovery: { accountIds: [kms.accountId], regions: ['eu-west-1'] } });
    await reasonsOf(otherRegion.unwrap({ wrapped, context: ctx }));
    expect(kms.counters.total()).toBe(0);
  });

  it('unwrap ignores other providers, malformed and oversized entries', async () => {
    const k = keyring([keyA.arn]);
    const { dataKey, wrapped } = await k.wrap({ context: ctx });
    const junk: WrappedKey[] = [
      { provider: 'local', keyId: keyA.arn, ciphertext: wrapped[0]!.ciphertext },
      { provider: 'aws-kms', keyId: keyA.arn, ciphertext: new Uint8Array(0) },
      { provider: 'aws-kms', keyId: keyA.arn, ciphertext: new Uint8Array(7000) },
      null as unknown as WrappedKey,
    ];
    kms.counters.reset();
    await reasonsOf(k.unwrap({ wrapped: junk, context: ctx }));
    expect(kms.counters.total()).toBe(0);
    expect(await k.unwrap({ wrapped: [...junk, ...wrapped], context: ctx })).toEqual(dataKey);
  });

  it('accepts a caller-built KMSClient or KMS client, and never destroys it', async () => {
    const client = new KMSClient({ ...kms.clientConfig(), maxAttempts: 1 });
    clients.push(client);
    const k = new AwsKmsKeyring({ keyIds: [keyA.arn], client });
    const { wrapped, dataKey } = await k.wrap({ context: ctx });
    k.destroy();
    const aggregated = new KMS({ ...kms.clientConfig(), maxAttempts: 1 });
    const k2 = new AwsKmsKeyring({ keyIds: [keyA.arn], client: aggregated });
    expect(await k2.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
    aggregated.destroy();
    // The first client still works after the keyring's destroy().
    expect(await new AwsKmsKeyring({ keyIds: [keyA.arn], client }).unwrap({ wrapped, context: ctx })).toEqual(dataKey);
  });

  it('keys in several regions get one client per region', async () => {
    const eu = await kms.createKey({ region: 'eu-west-1' });
    const regions: (string | undefined)[] = [];
    const k = new AwsKmsKeyring({
      keyIds: [keyA.arn, eu.arn],
      clientProvider: (region) => {
        regions.push(region);
        const c = new KMSClient({ ...kms.clientConfig(region), maxAttempts: 1 });
        clients.push(c);
        return c;
      },
    });
    const { dataKey, wrapped } = await k.wrap({ context: ctx });
    expect(wrapped.map((w) => w.keyId)).toEqual([keyA.arn, eu.arn]);
    expect(regions.sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(await keyring([eu.arn], { region: 'eu-west-1' }).unwrap({ wrapped, context: ctx })).toEqual(dataKey);
  });

  it('rejects bad options with typed errors', () => {
    const bad: unknown[] = [
      {},
      { keyIds: [] },
      { keyIds: ['not-a-key'] },
      { keyIds: ['arn:aws:s3:::bucket'] },
      { keyIds: [keyA.arn, keyA.arn] },
      { keyIds: [keyA.arn], discovery: { accountIds: [] } },
      { keyIds: [keyA.arn], discovery: { accountIds: ['123'] } },
      { keyIds: [keyA.arn], maxAttempts: 0 },
      { keyIds: [keyA.arn], endpoint: 'not a url' },
      { keyIds: [keyA.arn], client: {} },
      null,
    ];
    for (const options of bad) expect(() => new AwsKmsKeyring(options as AwsKmsKeyringOptions), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(Object.isFrozen(keyring([keyA.arn]))).toBe(true);
    expect(AWS_KMS_PROVIDER).toBe('aws-kms');
  });
});

describe('errors and retries', () => {
  it('throttling is retried by the SDK (3 attempts by default) and then succeeds', async () => {
    const k = keyring([keyA.arn], { maxAttempts: undefined }); // the keyring's default, not the helper's 1
    kms.faults.inject({ kind: 'throttle', count: 2, operation: 'GenerateDataKey' });
    const { wrapped } = await k.wrap({ context: ctx });
    expect(wrapped).toHaveLength(1);
    expect(kms.counters.get('GenerateDataKey')).toBe(3);
  });

  it('a 500 and a 503 are retried and then succeed', async () => {
    const k = keyring([keyA.arn], { maxAttempts: 3 });
    const { wrapped, dataKey } = await k.wrap({ context: ctx });
    kms.counters.reset();
    kms.faults.inject({ kind: 'server-error', operation: 'Decrypt' });
    kms.faults.inject({ kind: 'server-error', status: 503, operation: 'Decrypt' });
    expect(await k.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
    expect(kms.counters.get('Decrypt')).toBe(3);
  });

  it('throttling that outlasts the retries is a retryable ProviderError naming provider and key', async () => {
    const k = keyring([keyA.arn]);
    kms.faults.inject({ kind: 'throttle', operation: 'GenerateDataKey' });
    const err = await providerErrorOf(k.wrap({ context: ctx }));
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'aws-kms', keyId: keyA.arn, kind: 'throttled', retryable: true });
    expect(err.message).toContain('ThrottlingException');
    expect((err.cause as Error).name).toBe('ThrottlingException');
  });

  it('a dropped connection is a retryable unavailable error; a delay beyond requestTimeoutMs times out', async () => {
    const k = keyring([keyA.arn]);
    kms.faults.inject({ kind: 'drop', operation: 'GenerateDataKey' });
    expect(await providerErrorOf(k.wrap({ context: ctx }))).toMatchObject({ kind: 'unavailable', retryable: true });
    const impatient = keyring([keyA.arn], { requestTimeoutMs: 200 });
    kms.faults.inject({ kind: 'delay', delayMs: 8000, operation: 'GenerateDataKey' });
    const started = Date.now();
    const err = await providerErrorOf(impatient.wrap({ context: ctx }));
    expect(err).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(6000); // it gave up long before the 8 s answer (a generous bound: not a speed test)
  });

  it('a dead endpoint fails fast with a typed retryable error, on wrap and on unwrap', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const dead = keyring([keyA.arn], { endpoint: `http://127.0.0.1:${port}` });
    const started = Date.now();
    const err = await providerErrorOf(dead.wrap({ context: ctx }));
    expect(err).toMatchObject({ provider: 'aws-kms', keyId: keyA.arn, kind: 'unavailable', retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(5000); // no retry backoff, no hang (a generous bound: not a speed test)
    const { wrapped } = await keyring([keyA.arn]).wrap({ context: ctx });
    const unwrapErr = await reasonsOf(dead.unwrap({ wrapped, context: ctx }));
    expect(unwrapErr.reasons[0]!.cause).toMatchObject({ kind: 'unavailable', retryable: true });
  });

  it('access denied, a missing key, a disabled key and bad credentials are not retryable', async () => {
    const stranger = kms.addCredentials();
    const restricted = await kms.createKey({ allowedAccessKeyIds: [kms.credentials.accessKeyId] });
    expect(await providerErrorOf(keyring([restricted.arn], { credentials: stranger }).wrap({ context: ctx }))).toMatchObject({ kind: 'auth', retryable: false });
    expect(await providerErrorOf(keyring(['alias/missing']).wrap({ context: ctx }))).toMatchObject({ kind: 'not-found', retryable: false, keyId: 'alias/missing' });
    const disabled = await kms.createKey();
    kms.setKeyEnabled(disabled.arn, false);
    expect(await providerErrorOf(keyring([disabled.arn]).wrap({ context: ctx }))).toMatchObject({ kind: 'disabled', retryable: false });
    const wrongSecret = keyring([keyA.arn], { credentials: { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: 'wrong' } });
    expect(await providerErrorOf(wrongSecret.wrap({ context: ctx }))).toMatchObject({ kind: 'auth', retryable: false });
    expect(kms.log.at(-1)!.errorType).toBe('InvalidSignatureException');
  });

  it('a failure under the second key fails the whole wrap and leaks no data key', async () => {
    const k = keyring([keyA.arn, 'alias/missing']);
    const err = await providerErrorOf(k.wrap({ context: ctx }));
    expect(err).toMatchObject({ kind: 'not-found', keyId: 'alias/missing' });
    expect(err.message).not.toMatch(/[A-Za-z0-9+/]{40,}/); // no base64 blobs or keys in the message
  });
});

describe('through core encrypt / decrypt / rewrap', () => {
  it('round-trips a document with one GenerateDataKey and one Decrypt per document', async () => {
    const k = keyring([keyA.arn]);
    const sealed = await encrypt(customer(), { keyring: k, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    expect(kms.counters.snapshot()).toEqual({ GenerateDataKey: 1 });
    expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'aws-kms', keyId: keyA.arn }]);
    // Suite 2: KMS binds the key group too (docs/FORMAT.md §5.1), so a key policy can condition on it.
    expect(kms.log.at(-1)!.encryptionContext).toEqual({ tenant: 't1', rowId: '42', 'fieldseal.group': 'default' });
    const opened = await decrypt(sealed, { keyring: k, context: { tenant: 't1', rowId: '42' } });
    expect(opened).toEqual(customer());
    expect(kms.counters.snapshot()).toEqual({ GenerateDataKey: 1, Decrypt: 1 });
    for (let i = 0; i < 5; i++) await encrypt(customer(), { keyring: k, paths: ['$.ssn'], context: { tenant: 't1' } });
    expect(kms.counters.get('GenerateDataKey')).toBe(6);
  });

  it('decrypt with a wrong required-context value fails, and KMS saw the wrong context', async () => {
    const k = keyring([keyA.arn]);
    const sealed = await encrypt(customer(), { keyring: k, paths: ['$.ssn'], context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    await expect(decrypt(sealed, { keyring: k, context: { tenant: 't1', rowId: '43' } })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_FIELDSEAL_/) });
    expect(kms.log.at(-1)).toMatchObject({ operation: 'Decrypt', encryptionContext: { tenant: 't1', rowId: '43' }, errorType: 'InvalidCiphertextException' });
  });

  it('a data key corrupted on the way back from KMS is caught by the key commitment, not used', async () => {
    const k = keyring([keyA.arn]);
    const sealed = await encrypt(customer(), { keyring: k, paths: ['$.ssn'], context: { tenant: 't1' } });
    kms.faults.inject({ kind: 'corrupt-response', operation: 'Decrypt' });
    await expect(decrypt(sealed, { keyring: k, context: { tenant: 't1' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
    expect(await decrypt(sealed, { keyring: k, context: { tenant: 't1' } })).toEqual(customer());
  });

  it('rotation: rewrap to another KMS key uses ReEncrypt server-side, and the old key is no longer needed', async () => {
    const oldKeys = keyring([keyA.arn]);
    const newKeys = keyring([keyB.arn]);
    const sealed = await encrypt(customer(), { keyring: oldKeys, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 't1' } });
    kms.counters.reset();
    const { document, changed } = await rewrap(structuredClone(sealed), { keyring: oldKeys, to: newKeys, context: { tenant: 't1' } });
    expect(changed).toBe(true);
    // One Decrypt to unlock the header MAC key, one ReEncrypt, one Decrypt to verify the new wrapped key holds the same DEK.
    expect(kms.counters.snapshot()).toEqual({ Decrypt: 2, ReEncrypt: 1 });
    const re = kms.log.find((r) => r.operation === 'ReEncrypt')!;
    expect(re).toMatchObject({ keyId: keyB.arn, encryptionContext: { tenant: 't1' }, destinationEncryptionContext: { tenant: 't1' }, status: 200 });
    expect(inspect(document).groups[0]!.wrappedKeys).toEqual([{ provider: 'aws-kms', keyId: keyB.arn }]);
    // Field ciphertexts are untouched.
    expect((document as { ssn: unknown }).ssn).toEqual((sealed as { ssn: unknown }).ssn);
    kms.setKeyEnabled(keyA.arn, false);
    try {
      expect(await decrypt(document, { keyring: newKeys, context: { tenant: 't1' } })).toEqual(customer());
      await expect(decrypt(sealed, { keyring: oldKeys, context: { tenant: 't1' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    } finally {
      kms.setKeyEnabled(keyA.arn, true);
    }
  });

  it('rewrap with verify: the verification is the one check of a server-side re-wrap (no third KMS call), and a corrupted ReEncrypt answer is still refused', async () => {
    const oldKeys = keyring([keyA.arn]);
    const newKeys = keyring([keyB.arn]);
    const sealed = await encrypt(customer(), { keyring: oldKeys, paths: ['$.ssn'], context: { tenant: 't1' } });
    kms.counters.reset();
    const { document, changed } = await rewrap(structuredClone(sealed), { keyring: oldKeys, to: newKeys, context: { tenant: 't1' }, verify: true });
    expect(changed).toBe(true);
    // One Decrypt to unlock the header MAC key, one ReEncrypt, one Decrypt by the verification.
    expect(kms.counters.snapshot()).toEqual({ Decrypt: 2, ReEncrypt: 1 });
    expect(await decrypt(document, { keyring: newKeys, context: { tenant: 't1' } })).toEqual(customer());
    for (const verify of [true, false]) {
      kms.faults.inject({ kind: 'corrupt-response', operation: 'ReEncrypt' });
      await expect(rewrap(structuredClone(sealed), { keyring: oldKeys, to: newKeys, context: { tenant: 't1' }, verify })).rejects.toMatchObject({ code: verify ? 'ERR_FIELDSEAL_REWRAP_VERIFY' : 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    }
  });

  it('rewrapInService: falls back (undefined) when no source is usable, throws when KMS is unavailable', async () => {
    const target = keyring([keyB.arn]);
    const { wrapped } = await keyring([keyA.arn]).wrap({ context: ctx });
    const viaService = await target.rewrapInService({ wrapped, context: ctx });
    expect(viaService?.map((w) => w.keyId)).toEqual([keyB.arn]);
    expect(await target.unwrap({ wrapped: viaService!, context: ctx })).toEqual(await keyring([keyA.arn]).unwrap({ wrapped, context: ctx }));
    // Sources from an untrusted account, or other providers: nothing sent to KMS.
    kms.counters.reset();
    const foreign = wrapped.map((w) => ({ ...w, keyId: w.keyId.replace(kms.accountId, '999988887777') }));
    expect(await target.rewrapInService({ wrapped: foreign, context: ctx })).toBeUndefined();
    expect(await target.rewrapInService({ wrapped: [{ provider: 'local', keyId: 'x', ciphertext: new Uint8Array(8) }], context: ctx })).toBeUndefined();
    expect(kms.counters.total()).toBe(0);
    // A wrong context: KMS refuses, and the caller is told to fall back.
    expect(await target.rewrapInService({ wrapped, context: { other: 'ctx' } })).toBeUndefined();
    kms.faults.inject({ kind: 'server-error', operation: 'ReEncrypt' });
    expect(await providerErrorOf(target.rewrapInService({ wrapped, context: ctx }))).toMatchObject({ kind: 'unavailable', retryable: true });
  });
});
