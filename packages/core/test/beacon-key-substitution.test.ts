import { describe, expect, test } from 'vitest';
import { BeaconIndex, BeaconKey, DecryptionFailedError, FieldsealError, InvalidArgumentError, LocalKeyring, MultiKeyring, RsaKeyring, type BeaconKeyDocument } from '@fieldseal/core';

// Issue 23 item 3: whoever can write the beacon key document and holds a public key can wrap a root
// key of their own choosing under it and compute a matching check value.

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FieldsealError);
    return (err as FieldsealError).code;
  }
  return 'resolved';
}

describe('beacon key documents under public-key keyrings', () => {
  test('an attacker-made document wrapped with the public key is refused unless the key check is pinned, and a pin refuses it', async () => {
    const server = await RsaKeyring.generate({ name: 'beacons' });
    const publicPem = await server.exportPublicKey();
    const genuine = await BeaconKey.generate({ keyring: server, id: 'b1', context: { app: 'crm' } });

    // The attacker needs only the public key and write access to where the document is stored.
    const attacker = await BeaconKey.generate({ keyring: await RsaKeyring.fromPublicKey(publicPem, { name: 'beacons' }), id: 'b1', context: { app: 'crm' } });
    const attackerIndex = new BeaconIndex({ keys: attacker.key, fields: { email: { path: '$.email', bits: 16, distinctValues: 1_000_000 } } });
    const attackerBeacon = await attackerIndex.beacon('email', 'ada@example.com');

    // Without a pin, neither document loads through an RSA keyring: both could have been made by anyone.
    const refused = await code(BeaconKey.load(attacker.document, { keyring: server, context: { app: 'crm' } }));
    expect(refused).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expect(BeaconKey.load(genuine.document, { keyring: server })).rejects.toThrow(/public key/);

    // The application pins the genuine key check in its configuration.
    const pin = genuine.document.check;
    await expect(BeaconKey.load(attacker.document, { keyring: server, check: pin })).rejects.toBeInstanceOf(DecryptionFailedError);
    // A copied check value does not help the attacker: the check is a MAC under the root key.
    const copied: BeaconKeyDocument = { ...attacker.document, check: pin };
    await expect(BeaconKey.load(copied, { keyring: server, check: pin })).rejects.toBeInstanceOf(DecryptionFailedError);
    const loaded = await BeaconKey.load(JSON.stringify(genuine.document), { keyring: server, check: pin });
    const index = new BeaconIndex({ keys: loaded, fields: { email: { path: '$.email', bits: 16, distinctValues: 1_000_000 } } });
    expect(await index.beacon('email', 'ada@example.com')).not.toBe(attackerBeacon);
    expect(await index.beacon('email', 'ada@example.com')).toBe(await new BeaconIndex({ keys: genuine.key, fields: { email: { path: '$.email', bits: 16, distinctValues: 1_000_000 } } }).beacon('email', 'ada@example.com'));
  });

  test('an RSA entry next to a symmetric one is ignored without a pin; the symmetric KEK opens the document', async () => {
    const local = await LocalKeyring.generate({ name: 'beacons' });
    const rsa = await RsaKeyring.generate({ name: 'beacons' });
    const { document } = await BeaconKey.generate({ keyring: new MultiKeyring([local, rsa]), id: 'b2' });
    expect(document.wrapped.map((w) => w.provider)).toEqual(['local', 'rsa']);
    expect((await BeaconKey.load(document, { keyring: new MultiKeyring([rsa, local]) })).id).toBe('b2');
    expect(await code(BeaconKey.load(document, { keyring: rsa }))).toBe('ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect((await BeaconKey.load(document, { keyring: rsa, check: document.check })).id).toBe('b2');
  });

  test('a pin works with any keyring, and a malformed pin is a typed error', async () => {
    const local = await LocalKeyring.generate({ name: 'beacons' });
    const a = await BeaconKey.generate({ keyring: local, id: 'b1' });
    const b = await BeaconKey.generate({ keyring: local, id: 'b1' });
    expect((await BeaconKey.load(a.document, { keyring: local, check: a.document.check })).id).toBe('b1');
    await expect(BeaconKey.load(b.document, { keyring: local, check: a.document.check })).rejects.toBeInstanceOf(DecryptionFailedError);
    await expect(BeaconKey.load(a.document, { keyring: local, check: 'not base64url!' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(BeaconKey.load(a.document, { keyring: local, check: 42 as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
