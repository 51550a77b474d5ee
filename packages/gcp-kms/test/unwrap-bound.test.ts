// Issue 23 item 9: a forged header listing many versions of the configured key costs at most
// MAX_SERVICE_UNWRAPS_PER_KEY paid Decrypt calls per unwrap (the real client against the emulator).
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyUnavailableError, MAX_SERVICE_UNWRAPS_PER_KEY } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { GcpKmsKeyring } from '../src/index.js';

let emulator: GcpKmsEmulator;
let client: KeyManagementServiceClient;
beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  client = new KeyManagementServiceClient(emulator.clientOptions());
});
afterAll(async () => {
  await client.close();
  await emulator.close();
});

it('sends at most two wrapped keys per configured key to Decrypt, however many versions a header lists', async () => {
  const ring = emulator.createKeyRing('projects/p/locations/europe-west1', 'bound');
  const keyName = await emulator.createCryptoKey(ring, 'kek');
  const keyring = new GcpKmsKeyring({ keyName, client });
  const context = { tenant: 't1' };
  const { wrapped } = await keyring.wrap({ context });
  const genuine = wrapped[0]!;
  const forged = Array.from({ length: 15 }, (_, i) => ({ provider: genuine.provider, keyId: `${keyName}/cryptoKeyVersions/${i + 2}`, ciphertext: genuine.ciphertext.map((b) => b ^ 0x5a) }));
  const before = emulator.counters.get('Decrypt');
  const err = await keyring.unwrap({ wrapped: [...forged, genuine], context }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KeyUnavailableError);
  expect(emulator.counters.get('Decrypt') - before).toBe(MAX_SERVICE_UNWRAPS_PER_KEY);
  expect((err as KeyUnavailableError).reasons.filter((r) => r.message.startsWith('not tried')).length).toBe(16 - MAX_SERVICE_UNWRAPS_PER_KEY);
  // A genuine group (one wrapped key per KEK) is unaffected.
  expect((await keyring.unwrap({ wrapped: [genuine], context })).length).toBe(32);
  await keyring.close();
});
