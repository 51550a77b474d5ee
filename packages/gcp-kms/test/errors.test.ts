// The gRPC status -> ProviderError table (src/errors.ts). The keyring tests exercise it over the
// wire; this pins every row, including the message google-gax writes when it gives up retrying.
import { ProviderError } from '@fieldseal/core';
import { describe, expect, it } from 'vitest';
import { toProviderError } from '../src/errors.js';

const KEY = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} X: ${details}`), { code, details });
}

describe('toProviderError', () => {
  it.each([
    [3, 'Decrypt', 'Decryption failed: the ciphertext is invalid.', 'invalid-ciphertext', false],
    [3, 'Encrypt', 'The plaintext exceeds 65536 bytes.', 'invalid-request', false],
    [3, 'Encrypt', 'The checksum in field plaintext_crc32c did not match the data in field plaintext.', 'integrity', true],
    [4, 'Encrypt', 'Deadline exceeded', 'unavailable', true],
    [5, 'Encrypt', 'CryptoKey not found.', 'not-found', false],
    [7, 'Decrypt', "Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied", 'auth', false],
    [8, 'Encrypt', 'Quota exceeded', 'throttled', true],
    [9, 'Decrypt', 'CryptoKeyVersion is not enabled', 'disabled', false],
    [12, 'Encrypt', 'unimplemented', 'invalid-request', false],
    [13, 'Encrypt', 'internal', 'unavailable', true],
    [14, 'Encrypt', 'The service is currently unavailable.', 'unavailable', true],
    [16, 'Encrypt', 'Request had invalid authentication credentials.', 'auth', false],
    [2, 'Encrypt', 'unknown', 'other', false],
  ] as const)('status %i on %s -> %s', (code, operation, details, kind, retryable) => {
    const err = toProviderError(grpcError(code, details), 'gcp-kms', KEY, operation);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'gcp-kms', keyId: KEY, kind, retryable });
    expect(err.cause).toBeDefined();
  });

  it('recovers the status google-gax gave up on from its DEADLINE_EXCEEDED message', () => {
    const gaveUp = Object.assign(new Error('Exceeded maximum number of retries retrying error Error: 8 RESOURCE_EXHAUSTED: Quota exceeded before any response was received'), { code: 4 });
    expect(toProviderError(gaveUp, 'gcp-kms', KEY, 'Encrypt')).toMatchObject({ kind: 'throttled', retryable: true, message: expect.stringMatching(/RESOURCE_EXHAUSTED/) });
  });

  it('classifies errors without a gRPC status: credentials as auth, anything else as other', () => {
    expect(toProviderError(new Error('Could not load the default credentials.'), 'gcp-kms', KEY, 'Encrypt')).toMatchObject({ kind: 'auth', retryable: false });
    expect(toProviderError('boom', 'gcp-kms', KEY, 'Encrypt')).toMatchObject({ kind: 'other', retryable: false });
    const existing = new ProviderError({ provider: 'gcp-kms', kind: 'integrity', retryable: true, message: 'x' });
    expect(toProviderError(existing, 'gcp-kms', KEY, 'Encrypt')).toBe(existing);
  });

  it('caps long service details in the message', () => {
    const err = toProviderError(grpcError(5, 'x'.repeat(5000)), 'gcp-kms', KEY, 'Encrypt');
    expect(err.message.length).toBeLessThan(500);
  });
});
