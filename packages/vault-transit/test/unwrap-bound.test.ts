// Issue 23 item 9: a forged header listing many versions of the configured key costs at most
// MAX_SERVICE_UNWRAPS_PER_KEY Vault decrypt calls per unwrap (the real node-vault client).
import nodeVault from 'node-vault';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyUnavailableError, MAX_SERVICE_UNWRAPS_PER_KEY } from '@fieldseal/core';
import { startVaultTransitEmulator, type VaultTransitEmulator } from '@fieldseal/emulators';
import { VaultTransitKeyring } from '@fieldseal/vault-transit';

let vault: VaultTransitEmulator;
beforeAll(async () => {
  vault = await startVaultTransitEmulator();
});
afterAll(async () => vault.close());

it('sends at most two wrapped keys per configured key to Vault, however many versions a header lists', async () => {
  vault.createKey('bound', { derived: true });
  const keyring = new VaultTransitKeyring({ client: nodeVault({ apiVersion: 'v1', endpoint: vault.url, token: vault.token }), keyName: 'bound' });
  const context = { tenant: 't1' };
  const { wrapped } = await keyring.wrap({ context });
  const genuine = wrapped[0]!;
  const text = new TextDecoder().decode(genuine.ciphertext);
  const prefix = genuine.keyId.slice(0, genuine.keyId.lastIndexOf(':v') + 2);
  // Versions 2..16 of the same key, each a well-formed Vault ciphertext of its version (garbage inside).
  const forged = Array.from({ length: 15 }, (_, i) => ({ provider: genuine.provider, keyId: `${prefix}${i + 2}`, ciphertext: new TextEncoder().encode(text.replace(/^vault:v1:/, `vault:v${i + 2}:`)) }));
  const before = vault.counters.get('decrypt');
  const err = await keyring.unwrap({ wrapped: [...forged, genuine], context }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KeyUnavailableError);
  expect(vault.counters.get('decrypt') - before).toBe(MAX_SERVICE_UNWRAPS_PER_KEY);
  expect((await keyring.unwrap({ wrapped: [genuine], context })).length).toBe(32);
});
