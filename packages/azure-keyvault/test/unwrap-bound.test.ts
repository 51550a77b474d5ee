// Issue 23 item 9: a forged header listing many versions of the configured key costs at most
// MAX_SERVICE_UNWRAPS_PER_KEY unwrapKey calls per unwrap (the real Azure SDK against the emulator).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyUnavailableError, MAX_SERVICE_UNWRAPS_PER_KEY } from '@fieldseal/core';
import { startAzureKeyVaultEmulator, type AzureKeyVaultEmulator } from '@fieldseal/emulators';
import { AzureKeyVaultKeyring } from '@fieldseal/azure-keyvault';
import { insecureClientOptions, rsaKeys, staticCredential, testDataKey } from './helpers.js';

let kv: AzureKeyVaultEmulator;
beforeAll(async () => {
  kv = await startAzureKeyVaultEmulator();
});
afterAll(async () => kv.close());

it('sends at most two wrapped keys per configured key to unwrapKey, however many versions a header lists', async () => {
  await kv.createKey('bound', { privateKey: rsaKeys()[0]! });
  const keyring = new AzureKeyVaultKeyring({ keyId: kv.keyId('bound'), credential: staticCredential(), clientOptions: insecureClientOptions, retry: { maxRetries: 0 } });
  const context = { tenant: 't1' };
  const { wrapped } = await keyring.wrap({ dataKey: testDataKey(), context });
  const genuine = wrapped[0]!;
  const forged = Array.from({ length: 15 }, (_, i) => ({ provider: genuine.provider, keyId: kv.keyId('bound', (i + 1).toString(16).padStart(32, '0')), ciphertext: genuine.ciphertext }));
  const before = kv.counters.get('unwrapKey');
  const err = await keyring.unwrap({ wrapped: [...forged, genuine], context }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KeyUnavailableError);
  expect(kv.counters.get('unwrapKey') - before).toBe(MAX_SERVICE_UNWRAPS_PER_KEY);
  expect((await keyring.unwrap({ wrapped: [genuine], context })).length).toBe(32);
});
