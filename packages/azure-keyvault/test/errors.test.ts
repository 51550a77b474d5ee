// The Azure error -> ProviderError table (README "Errors"), for the rows the emulator tests do not reach.
import { RestError } from '@azure/core-rest-pipeline';
import { ProviderError } from '@fieldseal/core';
import { startAzureKeyVaultEmulator } from '@fieldseal/emulators';
import { describe, expect, it } from 'vitest';
import { AzureKeyVaultKeyring, toProviderError } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys } from './helpers.js';

const keyId = 'https://v.vault.azure.net/keys/k/0123';

function rest(statusCode: number | undefined, code?: string, inner?: string): RestError {
  const err = new RestError(`service said ${code ?? statusCode}`, { ...(statusCode === undefined ? {} : { statusCode }), ...(code ? { code } : {}) });
  if (inner) (err as { details?: unknown }).details = { error: { code, innerError: { code: inner } } };
  return err;
}

describe('toProviderError', () => {
  const table: [string, unknown, string, ProviderError['kind'], boolean][] = [
    ['401', rest(401, 'Unauthorized'), 'wrapKey', 'auth', false],
    ['403 no permission', rest(403, 'Forbidden', 'ForbiddenByRbac'), 'unwrapKey', 'auth', false],
    ['403 disabled', rest(403, 'Forbidden', 'KeyDisabled'), 'unwrapKey', 'disabled', false],
    ['403 expired', rest(403, 'Forbidden', 'KeyExpired'), 'wrapKey', 'disabled', false],
    ['404', rest(404, 'KeyNotFound'), 'unwrapKey', 'not-found', false],
    ['400 on unwrap', rest(400, 'BadParameter'), 'unwrapKey', 'invalid-ciphertext', false],
    ['400 on wrap', rest(400, 'BadParameter'), 'wrapKey', 'invalid-request', false],
    ['409', rest(409, 'Conflict'), 'wrapKey', 'disabled', false],
    ['408', rest(408), 'wrapKey', 'unavailable', true],
    ['429', rest(429, 'Throttled'), 'wrapKey', 'throttled', true],
    ['500', rest(500, 'InternalServerError'), 'wrapKey', 'unavailable', true],
    ['503', rest(503, 'ServiceUnavailable'), 'unwrapKey', 'unavailable', true],
    ['connection refused', rest(undefined, 'ECONNREFUSED'), 'wrapKey', 'unavailable', true],
    ['DNS failure', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), 'wrapKey', 'unavailable', true],
    ['abort/timeout', Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 'wrapKey', 'unavailable', true],
    ['untrusted certificate', rest(undefined, 'SELF_SIGNED_CERT_IN_CHAIN'), 'wrapKey', 'unavailable', false],
    ['credential unavailable', Object.assign(new Error('no managed identity endpoint'), { name: 'CredentialUnavailableError' }), 'wrapKey', 'auth', false],
    ['anything else', new Error('weird'), 'wrapKey', 'other', false],
    ['not an Error', 'a string', 'wrapKey', 'other', false],
  ];
  for (const [label, err, op, kind, retryable] of table) {
    it(`${label} -> ${kind}${retryable ? ' (retryable)' : ''}`, () => {
      const mapped = toProviderError(err, keyId, op);
      expect(mapped).toBeInstanceOf(ProviderError);
      expect(mapped).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'azure-keyvault', keyId, kind, retryable, cause: err });
      expect(mapped.message).toContain(op);
    });
  }

  it('passes a ProviderError through unchanged and caps long service messages', () => {
    const original = toProviderError(rest(404, 'KeyNotFound'), keyId, 'wrapKey');
    expect(toProviderError(original, 'other', 'unwrapKey')).toBe(original);
    expect(toProviderError(new Error('x'.repeat(10_000)), keyId, 'wrapKey').message.length).toBeLessThan(500);
  });

  it('a credential that fails to get a token surfaces as a non-retryable auth error from the keyring', async () => {
    const kv = await startAzureKeyVaultEmulator();
    try {
      await kv.createKey('k', { privateKey: rsaKeys()[0]! });
      const credential = {
        getToken: async () => {
          throw Object.assign(new Error('DefaultAzureCredential failed to retrieve a token'), { name: 'CredentialUnavailableError' });
        },
      };
      const ring = new AzureKeyVaultKeyring({ keyId: kv.keyId('k'), credential, clientOptions: insecureClientOptions, retry: { maxRetries: 0 } });
      await expect(ring.wrap({ context: {} })).rejects.toMatchObject({ kind: 'auth', retryable: false });
      expect(kv.counters.get('wrapKey')).toBe(0);
    } finally {
      await kv.close();
    }
  });
});
