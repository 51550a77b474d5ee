// The real @google-cloud/kms client against the Cloud KMS emulator over loopback gRPC: no mocks.
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { decrypt, encrypt, inspect, needsRotation, rewrap, InvalidArgumentError, KeyUnavailableError, ProviderError } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, GCP_KMS_PROVIDER, GcpKmsKeyring } from '../src/index.js';

const CONTEXT = { tenant: 't1', table: 'customers' };

/** The ProviderError a failed unwrap carries as the cause of its first reason. */
async function unwrapCause(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => expect.unreachable('unwrap succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyUnavailableError);
  const cause = (err as KeyUnavailableError).reasons[0]?.cause;
  expect(cause).toBeInstanceOf(ProviderError);
  return cause as ProviderError;
}

describe('crc32c', () => {
  it('matches the Castagnoli known answers', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 §B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 §B.4: 32 bytes of 0xff
  });
});

describe('GcpKmsKeyring (symmetric) against the emulator', () => {
  let emulator: GcpKmsEmulator;
  let client: KeyManagementServiceClient;
  let ring: string;
  let keyName: string;
  let keyring: GcpKmsKeyring;

  beforeAll(async () => {
    emulator = await startGcpKmsEmulator();
    client = new KeyManagementServiceClient(emulator.clientOptions());
    ring = emulator.createKeyRing('projects/p/locations/europe-west1', 'app');
    keyName = await emulator.createCryptoKey(ring, 'customer-kek');
    keyring = new GcpKmsKeyring({ keyName, client, retry: { initialDelayMs: 5, maxDelayMs: 20 } });
  });
  afterEach(() => emulator.faults.clear());
  afterAll(async () => {
    await keyring.close(); // a caller-owned client stays open ...
    await client.close(); // ... and is closed by its owner
    await emulator.close();
  });

  it('wraps with Encrypt and unwraps with Decrypt; the key id is the version that encrypted', async () => {
    const before = emulator.counters.snapshot();
    const { dataKey, wrapped } = await keyring.wrap({ context: CONTEXT });
    expect(dataKey).toHaveLength(32);
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]!.provider).toBe(GCP_KMS_PROVIDER);
    expect(wrapped[0]!.keyId).toBe(`${keyName}/cryptoKeyVersions/1`);
    const unwrapped = await keyring.unwrap({ wrapped, context: CONTEXT });
    expect(unwrapped).toEqual(dataKey);
    expect(unwrapped).not.toBe(dataKey);
    expect(emulator.counters.get('Encrypt') - (before.Encrypt ?? 0)).toBe(1);
    expect(emulator.counters.get('Decrypt') - (before.Decrypt ?? 0)).toBe(1);
  });

  it('wraps a copy of a data key it is given and leaves the caller’s array alone', async () => {
    const given = crypto.getRandomValues(new Uint8Array(32));
    const snapshot = given.slice();
    const { dataKey, wrapped } = await keyring.wrap({ dataKey: given, context: CONTEXT });
    expect(dataKey).toEqual(snapshot);
    dataKey.fill(0);
    expect(given).toEqual(snapshot);
    expect(await keyring.unwrap({ wrapped, context: CONTEXT })).toEqual(snapshot);
    await expect(keyring.wrap({ dataKey: new Uint8Array(16), context: CONTEXT })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('binds the encryption context as AAD: Cloud KMS refuses another context', async () => {
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    const contexts: Record<string, string>[] = [{ tenant: 't2', table: 'customers' }, { tenant: 't1' }, { ...CONTEXT, extra: 'x' }];
    for (const context of contexts) {
      const cause = await unwrapCause(keyring.unwrap({ wrapped, context }));
      expect(cause).toMatchObject({ provider: 'gcp-kms', kind: 'invalid-ciphertext', retryable: false, keyId: wrapped[0]!.keyId });
    }
  });

  it('detects a flipped bit in the wrapped key', async () => {
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    const tampered = wrapped[0]!.ciphertext.slice();
    tampered[tampered.length - 3]! ^= 0x10;
    const cause = await unwrapCause(keyring.unwrap({ wrapped: [{ ...wrapped[0]!, ciphertext: tampered }], context: CONTEXT }));
    expect(cause.kind).toBe('invalid-ciphertext');
  });

  it('the AAD is canonical: the order of context keys does not matter', async () => {
    const { dataKey, wrapped } = await keyring.wrap({ context: { tenant: 't1', table: 'customers', 'é': '1', z: '2' } });
    expect(await keyring.unwrap({ wrapped, context: { z: '2', 'é': '1', table: 'customers', tenant: 't1' } })).toEqual(dataKey);
  });

  it('property: any flipped bits in the wrapped key are refused by the service, never a different data key', async () => {
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    const original = wrapped[0]!;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: original.ciphertext.length - 1 }), fc.integer({ min: 1, max: 255 }), async (position, mask) => {
        const ciphertext = original.ciphertext.slice();
        ciphertext[position]! ^= mask;
        const result = await keyring.unwrap({ wrapped: [{ ...original, ciphertext }], context: CONTEXT }).catch((e: unknown) => e);
        expect(result).toBeInstanceOf(KeyUnavailableError);
        expect((result as KeyUnavailableError).reasons[0]!.cause).toMatchObject({ kind: 'invalid-ciphertext', retryable: false });
      }),
      { numRuns: 40 },
    );
  });

  it('seals and opens documents through core, and inspect shows the key version', async () => {
    const doc = { id: 42, ssn: '123-45-6789', cards: [{ number: '4111111111111111' }] };
    const sealed = await encrypt(doc, { keyring, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    expect(JSON.stringify(sealed)).not.toContain('123-45-6789');
    const info = inspect(sealed);
    expect(info.groups[0]!.wrappedKeys).toEqual([{ provider: 'gcp-kms', keyId: `${keyName}/cryptoKeyVersions/1` }]);
    expect(await decrypt(sealed, { keyring, context: { tenant: 't1', rowId: '42' } })).toEqual(doc);
    // The required-but-not-stored pair is part of the KMS AAD too.
    await expect(decrypt(sealed, { keyring, context: { tenant: 't1', rowId: '43' } })).rejects.toThrow();
  });

  it('catches a corrupted ciphertext_crc32c in an Encrypt response, re-sends, and gives up with a typed integrity error', async () => {
    // One corrupted response: discarded, the call is sent again and succeeds.
    let before = emulator.counters.get('Encrypt');
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'Encrypt' });
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    expect(emulator.counters.get('Encrypt') - before).toBe(2);
    expect(await keyring.unwrap({ wrapped, context: CONTEXT })).toHaveLength(32);
    // Corrupted every time: a ProviderError of kind integrity after maxAttempts (3) calls.
    before = emulator.counters.get('Encrypt');
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'Encrypt', count: 10 });
    const err = await keyring.wrap({ context: CONTEXT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'gcp-kms', kind: 'integrity', retryable: true, keyId: keyName });
    expect((err as Error).message).toMatch(/ciphertext_crc32c/);
    expect(emulator.counters.get('Encrypt') - before).toBe(3);
  });

  it('catches a corrupted plaintext_crc32c in a Decrypt response', async () => {
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    emulator.faults.inject({ kind: 'corrupt-response', operation: 'Decrypt', count: 10 });
    const cause = await unwrapCause(keyring.unwrap({ wrapped, context: CONTEXT }));
    expect(cause).toMatchObject({ kind: 'integrity', retryable: true });
    expect(cause.message).toMatch(/plaintext_crc32c/);
  });

  it('refuses responses where the service did not verify the request checksums, or names another key', async () => {
    for (const field of ['verifiedPlaintextCrc32c', 'verifiedAdditionalAuthenticatedDataCrc32c']) {
      for (let i = 0; i < 3; i++) emulator.tamperNextResponse('Encrypt', (r) => void (r[field] = false));
      await expect(keyring.wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'integrity' });
    }
    for (let i = 0; i < 3; i++) emulator.tamperNextResponse('Encrypt', (r) => void delete r.ciphertextCrc32c);
    await expect(keyring.wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'integrity', message: expect.stringMatching(/no ciphertext_crc32c/) });
    // A response for a different key is not a transport error: no retry.
    const before = emulator.counters.get('Encrypt');
    emulator.tamperNextResponse('Encrypt', (r) => void (r.name = `${ring}/cryptoKeys/other/cryptoKeyVersions/1`));
    await expect(keyring.wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'integrity', retryable: false });
    expect(emulator.counters.get('Encrypt') - before).toBe(1);
    // A decrypt response with a plaintext that is not 32 bytes (checksum consistent) is refused.
    const { wrapped } = await keyring.wrap({ context: CONTEXT });
    emulator.tamperNextResponse('Decrypt', (r) => {
      const short = Buffer.alloc(16, 7);
      r.plaintext = short;
      r.plaintextCrc32c = { value: String(crc32c(short)) };
    });
    expect((await unwrapCause(keyring.unwrap({ wrapped, context: CONTEXT }))).kind).toBe('invalid-ciphertext');
  });

  it('after rotation, wraps under the new primary version and still opens old documents', async () => {
    const rotating = await emulator.createCryptoKey(ring, 'rotating');
    const kr = new GcpKmsKeyring({ keyName: rotating, client });
    const old = await encrypt({ ssn: '1' }, { keyring: kr, paths: ['$.ssn'], context: CONTEXT });
    expect(inspect(old).groups[0]!.wrappedKeys[0]!.keyId).toBe(`${rotating}/cryptoKeyVersions/1`);
    // Rotate over the real API: CreateCryptoKeyVersion + UpdateCryptoKeyPrimaryVersion.
    const [version] = await client.createCryptoKeyVersion({ parent: rotating, cryptoKeyVersion: {} });
    await client.updateCryptoKeyPrimaryVersion({ name: rotating, cryptoKeyVersionId: '2' });
    const fresh = await encrypt({ ssn: '2' }, { keyring: kr, paths: ['$.ssn'], context: CONTEXT });
    expect(inspect(fresh).groups[0]!.wrappedKeys[0]!.keyId).toBe(version.name);
    expect(await decrypt(old, { keyring: kr, context: CONTEXT })).toEqual({ ssn: '1' });
    expect(await decrypt(fresh, { keyring: kr, context: CONTEXT })).toEqual({ ssn: '2' });
    // core's rotation predicate reads the version from the key id; rewrap moves the old document.
    const current = { provider: 'gcp-kms', keyId: new RegExp(`^${rotating}/`), minVersion: 2 };
    expect(needsRotation(old, current)).toBe(true);
    expect(needsRotation(fresh, current)).toBe(false);
    const moved = await rewrap(old, { keyring: kr, to: kr, context: CONTEXT });
    expect(needsRotation(moved.document, current)).toBe(false);
    // Disabling the old version makes its documents unavailable with a typed, non-retryable reason.
    emulator.setVersionState(`${rotating}/cryptoKeyVersions/1`, 'DISABLED');
    const err = await decrypt(old, { keyring: kr, context: CONTEXT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect((err as KeyUnavailableError).reasons.some((r) => r.cause instanceof ProviderError && r.cause.kind === 'disabled' && !r.cause.retryable)).toBe(true);
  });

  it('a keyring pinned to a version encrypts with that version only', async () => {
    const key = await emulator.createCryptoKey(ring, 'pinned');
    await emulator.rotate(key);
    const pinned = new GcpKmsKeyring({ keyName: `${key}/cryptoKeyVersions/1`, client });
    const { wrapped } = await pinned.wrap({ context: CONTEXT });
    expect(wrapped[0]!.keyId).toBe(`${key}/cryptoKeyVersions/1`);
    expect(await pinned.unwrap({ wrapped, context: CONTEXT })).toHaveLength(32);
  });

  it('is strict: never calls Decrypt for a wrapped key of another CryptoKey, whatever the document says', async () => {
    const other = await emulator.createCryptoKey(ring, 'other');
    const otherKeyring = new GcpKmsKeyring({ keyName: other, client });
    const { wrapped } = await otherKeyring.wrap({ context: CONTEXT });
    const before = emulator.counters.get('Decrypt');
    const hostile = [
      wrapped[0]!,
      { ...wrapped[0]!, keyId: 'projects/p/locations/europe-west1/keyRings/app/cryptoKeys/customer-kek-evil/cryptoKeyVersions/1' },
      { ...wrapped[0]!, keyId: `${keyName}/cryptoKeyVersions/1/../../other` },
      { ...wrapped[0]!, keyId: keyName }, // a CryptoKey, not a version
      { ...wrapped[0]!, keyId: 'x'.repeat(70_000) },
    ];
    const err = await keyring.unwrap({ wrapped: hostile, context: CONTEXT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect((err as KeyUnavailableError).reasons).toHaveLength(hostile.length);
    expect(emulator.counters.get('Decrypt')).toBe(before);
    // No gcp-kms wrapped key at all.
    await expect(keyring.unwrap({ wrapped: [{ provider: 'local', keyId: 'k', ciphertext: new Uint8Array(40) }], context: CONTEXT })).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  it('maps NOT_FOUND to a typed, non-retryable error naming the key', async () => {
    const missing = new GcpKmsKeyring({ keyName: `${ring}/cryptoKeys/missing`, client });
    await expect(missing.wrap({ context: CONTEXT })).rejects.toMatchObject({ provider: 'gcp-kms', kind: 'not-found', retryable: false, keyId: `${ring}/cryptoKeys/missing` });
  });

  it('retries UNAVAILABLE a bounded number of times, then fails with a typed retryable error', async () => {
    const before = emulator.counters.get('Encrypt');
    emulator.faults.inject({ kind: 'server-error', operation: 'Encrypt', count: 100 });
    const err = await keyring.wrap({ context: CONTEXT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'gcp-kms', kind: 'unavailable', retryable: true, keyId: keyName });
    expect((err as Error).message).toMatch(/UNAVAILABLE/);
    expect(emulator.counters.get('Encrypt') - before).toBe(3); // maxAttempts, not the library's 600 s budget
    emulator.faults.clear();
    // Two failures are absorbed by the retries.
    emulator.faults.inject({ kind: 'server-error', operation: 'Encrypt', count: 2 });
    await expect(keyring.wrap({ context: CONTEXT })).resolves.toMatchObject({ wrapped: [expect.anything()] });
  });

  it('maps RESOURCE_EXHAUSTED to throttled (retryable) and honours maxAttempts: 1', async () => {
    const once = new GcpKmsKeyring({ keyName, client, retry: { maxAttempts: 1 } });
    const before = emulator.counters.get('Encrypt');
    emulator.faults.inject({ kind: 'throttle', operation: 'Encrypt', count: 5 });
    await expect(once.wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'throttled', retryable: true });
    expect(emulator.counters.get('Encrypt') - before).toBe(1);
  });

  it('gives each attempt its own deadline: a server that never answers fails fast as unavailable', async () => {
    const impatient = new GcpKmsKeyring({ keyName, client, retry: { attemptTimeoutMs: 150, maxAttempts: 2, initialDelayMs: 5 } });
    const before = emulator.counters.get('Encrypt');
    emulator.faults.inject({ kind: 'blackhole', operation: 'Encrypt', count: 2 });
    await expect(impatient.wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
    expect(emulator.counters.get('Encrypt') - before).toBe(2);
  });

  it('leaves the caller’s client retry behaviour untouched (no per-call options stick)', async () => {
    emulator.faults.inject({ kind: 'server-error', operation: 'Encrypt', count: 100 });
    await expect(new GcpKmsKeyring({ keyName, client, retry: { maxAttempts: 1 } }).wrap({ context: CONTEXT })).rejects.toBeInstanceOf(ProviderError);
    emulator.faults.clear();
    // A plain call on the same client still gets the library's default retries.
    emulator.faults.inject({ kind: 'server-error', operation: 'Encrypt', count: 2 });
    const [response] = await client.encrypt({ name: keyName, plaintext: Buffer.from('x') });
    expect(response.name).toBe(`${keyName}/cryptoKeyVersions/1`);
  });

  it('is frozen; close() leaves a caller-owned client open and closes a client it built', async () => {
    expect(Object.isFrozen(keyring)).toBe(true);
    const borrowing = new GcpKmsKeyring({ keyName, client });
    await borrowing.close();
    await expect(borrowing.wrap({ context: CONTEXT })).resolves.toMatchObject({ wrapped: [expect.anything()] });
    const owning = new GcpKmsKeyring({ keyName, clientOptions: emulator.clientOptions() });
    await owning.wrap({ context: CONTEXT });
    await owning.close();
    await expect(owning.wrap({ context: CONTEXT })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', retryable: false });
  });

  it('validates its options', () => {
    for (const bad of [undefined, null, {}, { keyName: 'customer-kek' }, { keyName: `${ring}/cryptoKeys/` }, { keyName: `${ring}/cryptoKeys/a/b` }, { keyName: 42 }]) {
      expect(() => new GcpKmsKeyring(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(() => new GcpKmsKeyring({ keyName, client, retry: { maxAttempts: 0 } })).toThrow(InvalidArgumentError);
    expect(() => new GcpKmsKeyring({ keyName, client, retry: { attemptTimeoutMs: -1 } })).toThrow(InvalidArgumentError);
    expect(() => new GcpKmsKeyring({ keyName, client: {} as never })).toThrow(InvalidArgumentError);
    expect(() => new GcpKmsKeyring({ keyName, client, clientOptions: { projectId: 'p' } })).toThrow(/either client or clientOptions/);
  });

  it('rejects a context over Cloud KMS’s 64 KiB AAD limit with a typed error before calling', async () => {
    const before = emulator.counters.get('Encrypt');
    const context = { a: 'x'.repeat(40_000), b: 'y'.repeat(40_000) };
    await expect(keyring.wrap({ context })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(emulator.counters.get('Encrypt')).toBe(before);
  });
});

describe('GcpKmsKeyring over TLS with a bearer token', () => {
  it('works with call credentials and maps UNAUTHENTICATED to auth', async () => {
    const emulator = await startGcpKmsEmulator({ tls: true, requireToken: 'test-token' });
    const good = new KeyManagementServiceClient(emulator.clientOptions());
    const { credentials } = await import('@grpc/grpc-js');
    const bad = new KeyManagementServiceClient({ ...emulator.clientOptions(), sslCreds: credentials.createSsl(Buffer.from(emulator.caPem!)) });
    try {
      const keyName = await emulator.createCryptoKey(emulator.createKeyRing('projects/p/locations/global', 'r'), 'k');
      const keyring = new GcpKmsKeyring({ keyName, client: good });
      const { dataKey, wrapped } = await keyring.wrap({ context: CONTEXT });
      expect(await keyring.unwrap({ wrapped, context: CONTEXT })).toEqual(dataKey);
      await expect(new GcpKmsKeyring({ keyName, client: bad }).wrap({ context: CONTEXT })).rejects.toMatchObject({ kind: 'auth', retryable: false });
    } finally {
      await good.close();
      await bad.close();
      await emulator.close();
    }
  });
});
