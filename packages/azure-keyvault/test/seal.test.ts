// Sealing documents through core encrypt/decrypt with Azure Key Vault keyrings against the emulator:
// rotation, context binding despite Key Vault having no AAD, and client-side (public-key) sealing.
import { decrypt, encrypt, inspect, LocalKeyring, MultiKeyring, rewrap } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAzureKeyVaultEmulator } from '@fieldseal/emulators';
import type { AzureKeyVaultEmulator } from '@fieldseal/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureKeyVaultKeyring, AzureKeyVaultPublicKeyKeyring as FromIndex, fetchAzurePublicKey } from '@fieldseal/azure-keyvault';
import { AzureKeyVaultPublicKeyKeyring } from '@fieldseal/azure-keyvault/public-key';
import { insecureClientOptions, rsaKeys, staticCredential } from './helpers.js';

const customer = { id: 7, name: 'Grace Hopper', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }] };
const paths = ['$.ssn', '$.cards[*].number'];
let kv: AzureKeyVaultEmulator;

beforeAll(async () => {
  kv = await startAzureKeyVaultEmulator();
  await kv.createKey('kek', { privateKey: rsaKeys()[0]! });
});
afterAll(async () => kv.close());

function keyring(keyId: string, extra: Partial<ConstructorParameters<typeof AzureKeyVaultKeyring>[0]> = {}): AzureKeyVaultKeyring {
  return new AzureKeyVaultKeyring({ keyId, credential: staticCredential(), clientOptions: insecureClientOptions, retry: { maxRetries: 0 }, ...extra });
}

/** Replace bytes inside the base64url header (same length), keeping the prefix. */
function tamperHeader(sealed: JsonObject, from: string, to: string): JsonObject {
  const header = sealed._fieldseal as string;
  const prefix = header.slice(0, header.indexOf('.') + 1);
  const bytes = Buffer.from(header.slice(prefix.length), 'base64url');
  // Search after the context key, so random message-id bytes cannot match first.
  const at = bytes.indexOf(Buffer.from(from), bytes.indexOf(Buffer.from('tenant')));
  expect(at).toBeGreaterThan(0);
  Buffer.from(to).copy(bytes, at);
  return { ...sealed, _fieldseal: prefix + bytes.toString('base64url') };
}

describe('encrypt/decrypt with AzureKeyVaultKeyring', () => {
  it('round-trips a document; inspect shows provider azure-keyvault and the versioned kid', async () => {
    const ring = keyring(kv.keyId('kek'));
    const sealed = await encrypt(customer, { keyring: ring, paths, context: { tenant: 't1' } });
    expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
    const [v1] = kv.keyVersions('kek');
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'azure-keyvault', keyId: kv.keyId('kek', v1!.version) }]);
    expect(await decrypt(sealed, { keyring: keyring(kv.keyId('kek')), context: { tenant: 't1' } })).toEqual(customer);
  });

  it('after the vault key is rotated, old documents still open and new ones use the new version; rewrap moves old ones forward', async () => {
    const { version: v1 } = await kv.createKey('rot', { privateKey: rsaKeys()[1]! });
    const ring = keyring(kv.keyId('rot'));
    const old = await encrypt(customer, { keyring: ring, paths });
    const { version: v2 } = await kv.rotateKey('rot', { privateKey: rsaKeys()[2]! });
    const fresh = await encrypt(customer, { keyring: ring, paths });
    expect(inspect(old).groups[0]!.wrappedKeys[0]!.keyId).toBe(kv.keyId('rot', v1));
    expect(inspect(fresh).groups[0]!.wrappedKeys[0]!.keyId).toBe(kv.keyId('rot', v2));
    const reader = keyring(kv.keyId('rot'));
    expect(await decrypt(old, { keyring: reader })).toEqual(customer);
    expect(await decrypt(fresh, { keyring: reader })).toEqual(customer);

    const moved = await rewrap(old, { keyring: reader, to: reader });
    expect(inspect(moved.document).groups[0]!.wrappedKeys[0]!.keyId).toBe(kv.keyId('rot', v2));
    expect(moved.document.ssn).toBe(old.ssn); // field ciphertext untouched
    kv.setKeyEnabled('rot', v1, false); // v1 retired: rewrapped documents no longer need it
    expect(await decrypt(moved.document, { keyring: keyring(kv.keyId('rot')) })).toEqual(customer);
    await expect(decrypt(old, { keyring: keyring(kv.keyId('rot')) })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
  });

  it('binds the context although Key Vault has no AAD: the vault unwraps, fieldseal still refuses', async () => {
    const ring = keyring(kv.keyId('kek'));
    const sealed = await encrypt(customer, { keyring: ring, paths, context: { tenant: 't1' }, requiredContext: { rowId: '42' } });
    expect(await decrypt(sealed, { keyring: ring, context: { tenant: 't1', rowId: '42' } })).toEqual(customer);

    // A wrong required-but-not-stored value: Key Vault happily unwraps the data key (it binds no
    // context), and the header MAC / field AADs reject it.
    kv.counters.reset();
    await expect(decrypt(sealed, { keyring: ring, context: { tenant: 't1', rowId: '43' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
    expect(kv.counters.get('unwrapKey')).toBeGreaterThanOrEqual(1);

    // Rewriting the stored context in the header to another tenant is detected too.
    const moved = tamperHeader(sealed, 't1', 't2');
    expect(inspect(moved).context).toEqual({ tenant: 't2' });
    await expect(decrypt(moved, { keyring: ring, context: { tenant: 't2', rowId: '42' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });

    // A field copied into a document sealed for another tenant under the same Azure key fails as well.
    const other = await encrypt(customer, { keyring: ring, paths, context: { tenant: 't2' }, requiredContext: { rowId: '42' } });
    await expect(decrypt({ ...other, ssn: sealed.ssn! }, { keyring: ring, context: { tenant: 't2', rowId: '42' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
  });

  it('a data key corrupted on its way back from Key Vault is caught by the key commitment', async () => {
    const ring = keyring(kv.keyId('kek'));
    const sealed = await encrypt(customer, { keyring: ring, paths });
    kv.faults.inject({ kind: 'corrupt-response', operation: 'unwrapKey' });
    const err = (await decrypt(sealed, { keyring: ring }).catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toMatch(/^ERR_FIELDSEAL_(DECRYPTION_FAILED|KEY_UNAVAILABLE)$/);
    expect(JSON.stringify(err)).not.toContain('078-05-1120');
    expect(kv.faults.armed).toBe(0);
    expect(await decrypt(sealed, { keyring: ring })).toEqual(customer);
  });

  it('works inside a MultiKeyring with a local break-glass key: either one opens', async () => {
    const local = await LocalKeyring.generate({ name: 'break-glass' });
    const sealed = await encrypt(customer, { keyring: new MultiKeyring([keyring(kv.keyId('kek')), local]), paths });
    expect(inspect(sealed).groups[0]!.wrappedKeys.map((w) => w.provider)).toEqual(['azure-keyvault', 'local']);
    expect(await decrypt(sealed, { keyring: local })).toEqual(customer);
    expect(await decrypt(sealed, { keyring: keyring(kv.keyId('kek')) })).toEqual(customer);
  });
});

describe('client-side mode', () => {
  it('a browser-style keyring seals with only the public JWK; the server unwraps in Key Vault', async () => {
    const { version } = await kv.createKey('browser', { privateKey: rsaKeys()[3]! });
    const jwk = await fetchAzurePublicKey(kv.keyId('browser'), { credential: staticCredential(), clientOptions: insecureClientOptions });
    expect(jwk).toEqual({ kty: 'RSA', n: rsaKeys()[3]!.export({ format: 'jwk' }).n, e: 'AQAB', kid: kv.keyId('browser', version) });
    // What the browser receives is plain JSON: no credential, no private member.
    const browserKeyring = await AzureKeyVaultPublicKeyKeyring.create({ publicKey: JSON.parse(JSON.stringify(jwk)) });
    expect(FromIndex).toBe(AzureKeyVaultPublicKeyKeyring);
    kv.counters.reset();
    const sealed = await encrypt(customer, { keyring: browserKeyring, paths, context: { form: 'signup' } });
    expect(kv.counters.total()).toBe(0); // nothing reached the vault
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'azure-keyvault', keyId: kv.keyId('browser', version) }]);
    await expect(decrypt(sealed, { keyring: browserKeyring, context: { form: 'signup' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    expect(await decrypt(sealed, { keyring: keyring(kv.keyId('browser')), context: { form: 'signup' } })).toEqual(customer);
    expect(kv.counters.get('unwrapKey')).toBe(1);
  });

  it('accepts an SPKI PEM with a versioned key id', async () => {
    const [v] = kv.keyVersions('browser');
    const pem = rsaKeys()[3]!.export({ format: 'pem', type: 'pkcs1' }).toString();
    await expect(AzureKeyVaultPublicKeyKeyring.create({ publicKey: pem, keyId: kv.keyId('browser', v!.version) })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    const { createPublicKey } = await import('node:crypto');
    const spki = createPublicKey(rsaKeys()[3]!).export({ format: 'pem', type: 'spki' }).toString();
    const ring = await AzureKeyVaultPublicKeyKeyring.create({ publicKey: spki, keyId: kv.keyId('browser', v!.version) });
    const sealed = await encrypt(customer, { keyring: ring, paths });
    expect(await decrypt(sealed, { keyring: keyring(kv.keyId('browser')) })).toEqual(customer);
  });

  it("wrapMode 'local' fetches the public key once and never calls wrapkey", async () => {
    const ring = keyring(kv.keyId('browser'), { wrapMode: 'local' });
    kv.counters.reset();
    const docs = await Promise.all([1, 2, 3].map(() => encrypt(customer, { keyring: ring, paths })));
    expect(kv.counters.get('getKey')).toBe(1);
    expect(kv.counters.get('wrapKey')).toBe(0);
    for (const d of docs) expect(await decrypt(d, { keyring: ring })).toEqual(customer);
  });

  it('refuses public keys that are unsafe or do not match', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const jwk = await fetchAzurePublicKey(kv.keyId('browser'), { credential: staticCredential(), clientOptions: insecureClientOptions });
    const priv = rsaKeys()[3]!.export({ format: 'jwk' });
    const cases: unknown[] = [
      { publicKey: { ...weak, kid: jwk.kid } },
      { publicKey: { ...priv, kid: jwk.kid } },
      { publicKey: { ...jwk, kid: kv.keyId('browser') } }, // versionless
      { publicKey: { ...jwk, kid: undefined } }, // no key id at all
      { publicKey: { ...jwk, kty: 'EC' } },
      { publicKey: { ...jwk, n: 'not base64url!' } },
      { publicKey: jwk, keyId: kv.keyId('kek', '0'.repeat(32)) }, // kid and keyId disagree
      { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
      { publicKey: 42 },
      null,
    ];
    for (const c of cases) {
      await expect(AzureKeyVaultPublicKeyKeyring.create(c as never), JSON.stringify(c)?.slice(0, 80)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    }
    // A keyring given another key's public key fails at construction, not at decrypt time.
    expect(() => keyring(kv.keyId('kek'), { wrapMode: 'local', publicKey: jwk })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });

  it("wrapMode 'local' refuses a non-RSA key", async () => {
    const hsm = await startAzureKeyVaultEmulator({ managedHsm: true }); // only a Managed HSM holds AES keys
    try {
      await hsm.createKey('aes-only', { kty: 'oct-HSM' });
      const ring = keyring(hsm.keyId('aes-only'), { wrapMode: 'local' });
      await expect(ring.wrap({ context: {} })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', kind: 'invalid-request' });
    } finally {
      await hsm.close();
    }
  });
});
