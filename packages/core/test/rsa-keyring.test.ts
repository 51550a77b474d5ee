import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, KeyUnavailableError, RsaKeyring } from '@fieldseal/core';
import type { WrappedKey } from '@fieldseal/core';

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

function pair(bits = 2048) {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

const a = pair();
const b = pair();
const pubPem = a.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const privPem = a.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const context = { tenant: 't1' };

function fingerprintByNode(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

async function expectCode(p: Promise<unknown>, code: string): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with ${code}`).toBeInstanceOf(Error);
  expect((err as { code?: string }).code).toBe(code);
  return err as Error;
}

describe('RsaKeyring', () => {
  let full: RsaKeyring;
  let sealer: RsaKeyring;
  beforeAll(async () => {
    full = await RsaKeyring.fromPrivateKey(privPem);
    sealer = await RsaKeyring.fromPublicKey(pubPem);
  });

  it('wraps with the public key and unwraps with the private key', async () => {
    const { dataKey, wrapped } = await sealer.wrap({ context });
    expect(dataKey).toBeInstanceOf(Uint8Array);
    expect(dataKey.length).toBe(32);
    expect(wrapped).toHaveLength(1);
    expect(wrapped[0]?.provider).toBe('rsa');
    expect(wrapped[0]?.keyId).toBe(sealer.keyId);
    expect(wrapped[0]?.ciphertext.length).toBe(256);
    const back = await full.unwrap({ wrapped, context });
    expect(Buffer.from(back).equals(Buffer.from(dataKey))).toBe(true);
  });

  it('is RSA-OAEP with SHA-256 as node:crypto does it, in both directions', async () => {
    const { dataKey, wrapped } = await sealer.wrap({ context });
    const byNode = privateDecrypt({ key: a.privateKey, ...OAEP }, wrapped[0]!.ciphertext);
    expect(byNode.equals(Buffer.from(dataKey))).toBe(true);

    const dek = randomBytes(32);
    const ciphertext = publicEncrypt({ key: a.publicKey, ...OAEP }, dek);
    const back = await full.unwrap({ wrapped: [{ provider: 'rsa', keyId: full.keyId, ciphertext }], context });
    expect(Buffer.from(back).equals(dek)).toBe(true);
  });

  it('uses the base64url SHA-256 of the SPKI as the default key id, the same on both sides', async () => {
    expect(sealer.keyId).toBe(fingerprintByNode(pubPem));
    expect(sealer.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(full.keyId).toBe(sealer.keyId);
    expect(await RsaKeyring.fingerprint(pubPem)).toBe(sealer.keyId);
    expect(sealer.keyId).not.toBe(fingerprintByNode(b.publicKey.export({ type: 'spki', format: 'pem' }) as string));
  });

  it('wraps a supplied data key without modifying it, and returns a copy', async () => {
    const supplied = new Uint8Array(randomBytes(32));
    const before = supplied.slice();
    const { dataKey, wrapped } = await sealer.wrap({ dataKey: supplied, context });
    expect(dataKey).not.toBe(supplied);
    expect(Array.from(dataKey)).toEqual(Array.from(before));
    dataKey.fill(0); // the caller zeroes what it owns
    expect(Array.from(supplied)).toEqual(Array.from(before));
    expect(Array.from(await full.unwrap({ wrapped, context }))).toEqual(Array.from(before));
  });

  it('refuses supplied data keys that are not 32 bytes', async () => {
    await expectCode(sealer.wrap({ dataKey: new Uint8Array(16), context }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    await expectCode(sealer.wrap({ dataKey: 'x'.repeat(32) as unknown as Uint8Array, context }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
  });

  it('refuses malformed requests with a typed error', async () => {
    await expectCode(sealer.wrap(null as unknown as { context: {} }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    for (const bad of [null, {}, { wrapped: 'x', context }]) {
      await expectCode(full.unwrap(bad as unknown as { wrapped: WrappedKey[]; context: {} }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    }
  });

  it('produces a fresh data key and a fresh ciphertext every time', async () => {
    const one = await sealer.wrap({ context });
    const two = await sealer.wrap({ context });
    expect(Buffer.from(one.dataKey).equals(Buffer.from(two.dataKey))).toBe(false);
    const again = await sealer.wrap({ dataKey: one.dataKey, context });
    expect(Buffer.from(again.wrapped[0]!.ciphertext).equals(Buffer.from(one.wrapped[0]!.ciphertext))).toBe(false); // OAEP is randomized
  });

  it('built from a public key alone, seals but never opens, and says so with a typed error', async () => {
    expect(sealer.canUnwrap).toBe(false);
    expect(full.canUnwrap).toBe(true);
    const { wrapped } = await sealer.wrap({ context });
    const err = await expectCode(sealer.unwrap({ wrapped, context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect(err.message).toMatch(/public key only/);
    expect((err as KeyUnavailableError).reasons).toHaveLength(1);
  });

  it('a private JWK given as the public key yields a keyring that still cannot open', async () => {
    const jwk = a.privateKey.export({ format: 'jwk' });
    const k = await RsaKeyring.fromPublicKey(jwk as JsonWebKey);
    expect(k.canUnwrap).toBe(false);
    expect(k.keyId).toBe(sealer.keyId);
    const { wrapped } = await k.wrap({ context });
    await expectCode(k.unwrap({ wrapped, context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  describe('strict unwrap', () => {
    it('never tries a wrapped key that carries another key id, even one its private key could open', async () => {
      const { wrapped } = await sealer.wrap({ context });
      const renamed: WrappedKey = { ...wrapped[0]!, keyId: 'someone-else' };
      const err = await expectCode(full.unwrap({ wrapped: [renamed], context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
      expect((err as KeyUnavailableError).reasons[0]?.message).toBe('no wrapped key for this RSA key');
    });

    it('ignores other providers', async () => {
      const { wrapped } = await sealer.wrap({ context });
      const other: WrappedKey = { ...wrapped[0]!, provider: 'local' };
      await expectCode(full.unwrap({ wrapped: [other], context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
    });

    it('skips a broken entry and uses the next one, reporting nothing when it succeeds', async () => {
      const { dataKey, wrapped } = await sealer.wrap({ context });
      const flipped = wrapped[0]!.ciphertext.slice();
      flipped[10]! ^= 1;
      const back = await full.unwrap({ wrapped: [{ ...wrapped[0]!, ciphertext: flipped }, wrapped[0]!], context });
      expect(Array.from(back)).toEqual(Array.from(dataKey));
    });

    it('reports one reason per matching wrapped key tried, without key bytes', async () => {
      const { dataKey, wrapped } = await sealer.wrap({ context });
      const flipped = wrapped[0]!.ciphertext.slice();
      flipped[0]! ^= 0x80;
      const short = wrapped[0]!.ciphertext.subarray(1);
      const err = (await expectCode(
        full.unwrap({ wrapped: [{ ...wrapped[0]!, ciphertext: flipped }, { ...wrapped[0]!, ciphertext: short }], context }),
        'ERR_FIELDSEAL_KEY_UNAVAILABLE',
      )) as KeyUnavailableError;
      expect(err.reasons.map((r) => r.message)).toEqual(['RSA-OAEP decryption failed', 'wrapped key is not 256 bytes long']);
      for (const secret of [dataKey, wrapped[0]!.ciphertext, flipped]) {
        expect(err.message).not.toContain(Buffer.from(secret).toString('base64'));
        expect(err.message).not.toContain(Buffer.from(secret).toString('hex'));
      }
    });

    it('rejects a ciphertext from another key pair that claims this key id', async () => {
      const ciphertext = publicEncrypt({ key: b.publicKey, ...OAEP }, randomBytes(32));
      const err = (await expectCode(full.unwrap({ wrapped: [{ provider: 'rsa', keyId: full.keyId, ciphertext }], context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE')) as KeyUnavailableError;
      expect(err.reasons[0]?.message).toBe('RSA-OAEP decryption failed');
    });

    it('rejects a wrapped value that is not a 32-byte key', async () => {
      const ciphertext = publicEncrypt({ key: a.publicKey, ...OAEP }, randomBytes(16));
      const err = (await expectCode(full.unwrap({ wrapped: [{ provider: 'rsa', keyId: full.keyId, ciphertext }], context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE')) as KeyUnavailableError;
      expect(err.reasons[0]?.message).toBe('unwrapped key is not 32 bytes');
    });

    it('SHA-1 OAEP ciphertexts (the node:crypto default) do not open', async () => {
      const ciphertext = publicEncrypt({ key: a.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, randomBytes(32));
      await expectCode(full.unwrap({ wrapped: [{ provider: 'rsa', keyId: full.keyId, ciphertext }], context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
    });
  });

  describe('key id', () => {
    it('uses a caller-supplied name on both sides', async () => {
      const s = await RsaKeyring.fromPublicKey(pubPem, { name: 'signup-form-2026' });
      const p = await RsaKeyring.fromPrivateKey(privPem, { name: 'signup-form-2026' });
      expect(s.keyId).toBe('signup-form-2026');
      const { dataKey, wrapped } = await s.wrap({ context });
      expect(Array.from(await p.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
      // The fingerprint-named private side does not follow a name it was not given.
      await expectCode(full.unwrap({ wrapped, context }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
    });

    it('refuses empty or non-string names', async () => {
      await expectCode(RsaKeyring.fromPublicKey(pubPem, { name: '' }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.fromPublicKey(pubPem, { name: 7 as unknown as string }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.fromPublicKey(pubPem, { name: 'x'.repeat(65_536) }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    });
  });

  describe('key formats', () => {
    it('accepts PKCS#1 PEM public and private keys', async () => {
      const pub1 = a.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      const priv1 = a.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      expect(pub1).toContain('BEGIN RSA PUBLIC KEY');
      expect(priv1).toContain('BEGIN RSA PRIVATE KEY');
      const s = await RsaKeyring.fromPublicKey(pub1);
      const p = await RsaKeyring.fromPrivateKey(priv1);
      expect(s.keyId).toBe(sealer.keyId);
      expect(p.keyId).toBe(sealer.keyId);
      const { dataKey, wrapped } = await s.wrap({ context });
      expect(Array.from(await p.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
    });

    it('accepts public and private JWKs, with or without alg RSA-OAEP-256', async () => {
      const pubJwk = a.publicKey.export({ format: 'jwk' }) as JsonWebKey;
      const privJwk = a.privateKey.export({ format: 'jwk' }) as JsonWebKey;
      const s = await RsaKeyring.fromPublicKey({ ...pubJwk, alg: 'RSA-OAEP-256', use: 'enc' });
      const p = await RsaKeyring.fromPrivateKey(privJwk);
      expect(s.keyId).toBe(sealer.keyId);
      const { dataKey, wrapped } = await s.wrap({ context });
      expect(Array.from(await p.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
    });

    it('accepts WebCrypto CryptoKeys, including a non-extractable private key with its public key', async () => {
      const kp = await crypto.subtle.generateKey({ name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, false, ['encrypt', 'decrypt']);
      const s = await RsaKeyring.fromPublicKey(kp.publicKey);
      await expectCode(RsaKeyring.fromPrivateKey(kp.privateKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      const p = await RsaKeyring.fromPrivateKey(kp.privateKey, { publicKey: kp.publicKey });
      const { dataKey, wrapped } = await s.wrap({ context });
      expect(Array.from(await p.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
      // A mismatched public key is caught by a round trip through the pair.
      await expectCode(RsaKeyring.fromPrivateKey(kp.privateKey, { publicKey: pubPem }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    });

    it('refuses a public key that does not match the private key', async () => {
      const other = b.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const err = await expectCode(RsaKeyring.fromPrivateKey(privPem, { publicKey: other }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(err).toBeInstanceOf(InvalidArgumentError);
    });

    it('refuses keys shorter than 2048 bits', async () => {
      const small = pair(1024);
      const err = await expectCode(RsaKeyring.fromPublicKey(small.publicKey.export({ type: 'spki', format: 'pem' }) as string), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      expect(err.message).toMatch(/at least 2048 bits/);
      await expectCode(RsaKeyring.fromPrivateKey(small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.fromPublicKey(small.publicKey.export({ format: 'jwk' }) as JsonWebKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.generate({ modulusLength: 1024 }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.generate({ modulusLength: 2049 }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.generate({ modulusLength: 32768 }), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    });

    it('refuses keys for other algorithms and malformed input with a typed error', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pubJwk = a.publicKey.export({ format: 'jwk' }) as JsonWebKey;
      const bad: unknown[] = [
        ec.publicKey.export({ type: 'spki', format: 'pem' }),
        ec.publicKey.export({ format: 'jwk' }),
        { ...pubJwk, alg: 'RSA-OAEP' },
        { ...pubJwk, alg: 'RS256' },
        { ...pubJwk, use: 'sig' },
        { kty: 'RSA', n: 7, e: 'AQAB' },
        privPem.replace('PRIVATE KEY', 'PUBLIC KEY').replace('PRIVATE KEY', 'PUBLIC KEY'), // a private key labelled as public
        '-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----',
        '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        'not a key',
        '',
        null,
        42,
        [],
      ];
      for (const input of bad) {
        await expectCode(RsaKeyring.fromPublicKey(input as string), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      }
      const badPrivate: unknown[] = [
        pubPem,
        ec.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        a.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }),
        a.publicKey.export({ format: 'jwk' }),
        '-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----',
      ];
      for (const input of badPrivate) {
        await expectCode(RsaKeyring.fromPrivateKey(input as string), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      }
    });

    it('refuses CryptoKeys for the wrong algorithm, hash or usage', async () => {
      const params = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
      const sha1 = await crypto.subtle.generateKey({ name: 'RSA-OAEP', hash: 'SHA-1', ...params }, true, ['encrypt', 'decrypt']);
      const pss = await crypto.subtle.generateKey({ name: 'RSA-PSS', hash: 'SHA-256', ...params }, true, ['sign', 'verify']);
      await expectCode(RsaKeyring.fromPublicKey(sha1.publicKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.fromPublicKey(pss.publicKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(RsaKeyring.fromPrivateKey(sha1.privateKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      const ok = await crypto.subtle.generateKey({ name: 'RSA-OAEP', hash: 'SHA-256', ...params }, true, ['encrypt', 'decrypt']);
      await expectCode(RsaKeyring.fromPublicKey(ok.privateKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT'); // private key where a public one belongs
      await expectCode(RsaKeyring.fromPrivateKey(ok.publicKey), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    });
  });

  describe('generate and export', () => {
    it('generates a 3072-bit pair by default and exports the public key as PEM and JWK', async () => {
      const k = await RsaKeyring.generate();
      expect(k.modulusLength).toBe(3072);
      expect(k.canUnwrap).toBe(true);
      const pem = await k.exportPublicKey();
      expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(fingerprintByNode(pem)).toBe(k.keyId);
      const jwk = await k.exportPublicKey('jwk');
      expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RSA-OAEP-256', use: 'enc', kid: k.keyId });
      expect(jwk).not.toHaveProperty('d');
      const s = await RsaKeyring.fromPublicKey(jwk);
      const { dataKey, wrapped } = await s.wrap({ context });
      expect(wrapped[0]?.ciphertext.length).toBe(384);
      expect(Array.from(await k.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
      await expectCode(k.exportPublicKey('der' as 'pem'), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    });

    it('exports the private key only when generated extractable', async () => {
      const sealed = await RsaKeyring.generate({ modulusLength: 2048 });
      await expectCode(sealed.exportPrivateKey(), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(sealer.exportPrivateKey(), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
      await expectCode(full.exportPrivateKey(), 'ERR_FIELDSEAL_INVALID_ARGUMENT'); // imported keys are not extractable
      const open = await RsaKeyring.generate({ modulusLength: 2048, extractable: true, name: 'exported' });
      const pem = await open.exportPrivateKey();
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const again = await RsaKeyring.fromPrivateKey(pem, { name: 'exported' });
      const { dataKey, wrapped } = await open.wrap({ context });
      expect(Array.from(await again.unwrap({ wrapped, context }))).toEqual(Array.from(dataKey));
    });

    it('is frozen', () => {
      expect(Object.isFrozen(full)).toBe(true);
      expect(() => {
        (full as { keyId: string }).keyId = 'x';
      }).toThrow(TypeError);
    });
  });
});

describe('RsaKeyring through encrypt/decrypt', () => {
  it('a document sealed with only the public key opens with the private key, bound to its context', async () => {
    const { encrypt, decrypt } = await import('@fieldseal/core');
    const sealer = await RsaKeyring.fromPublicKey(pubPem);
    const opener = await RsaKeyring.fromPrivateKey(privPem);
    const doc = { name: 'Ada', ssn: '078-05-1120', cards: [{ number: '4111111111111111' }] };
    const sealed = await encrypt(doc, { keyring: sealer, paths: ['$.ssn', '$.cards[*].number'], context: { form: 'signup' }, requiredContext: { session: 's-1' } });
    expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
    await expectCode(decrypt(sealed, { keyring: sealer, context: { form: 'signup', session: 's-1' } }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
    expect(await decrypt(sealed, { keyring: opener, context: { form: 'signup', session: 's-1' } })).toEqual(doc);
    await expect(decrypt(sealed, { keyring: opener, context: { form: 'signup', session: 's-2' } })).rejects.toHaveProperty('code', expect.stringMatching(/^ERR_FIELDSEAL_(DECRYPTION_FAILED|CONTEXT_MISMATCH)$/));
  });

  it('a non-extractable public CryptoKey needs a name', async () => {
    const kp = await crypto.subtle.generateKey({ name: 'RSA-OAEP', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, false, ['encrypt', 'decrypt']);
    const pub = await crypto.subtle.importKey('spki', await crypto.subtle.exportKey('spki', kp.publicKey), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
    await expectCode(RsaKeyring.fromPublicKey(pub), 'ERR_FIELDSEAL_INVALID_ARGUMENT');
    expect((await RsaKeyring.fromPublicKey(pub, { name: 'k1' })).keyId).toBe('k1');
  });
});
