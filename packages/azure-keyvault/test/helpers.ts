// Shared test setup: pre-generated RSA keys (keygen is slow), credentials, client options.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { AZURE_EMULATOR_DEFAULT_TOKEN } from '@fieldseal/emulators';

let pool: KeyObject[] | undefined;
/** RSA-2048 private keys, generated once per test file. */
export function rsaKeys(): KeyObject[] {
  pool ??= Array.from({ length: 4 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  return pool;
}

/** A TokenCredential returning a fixed token; counts calls. No @azure/identity: it would probe IMDS. */
export function staticCredential(token = AZURE_EMULATOR_DEFAULT_TOKEN): TokenCredential & { calls: number } {
  const cred = {
    calls: 0,
    async getToken() {
      cred.calls++;
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return cred;
}

/** Client options for the emulator over plain HTTP on 127.0.0.1. */
export const insecureClientOptions: KeyClientOptions = { allowInsecureConnection: true, disableChallengeResourceVerification: true };

/** A 32-byte data key with a recognizable pattern. */
export function testDataKey(seed = 1): Uint8Array {
  return new Uint8Array(32).map((_, i) => (i * 7 + seed) & 0xff);
}
