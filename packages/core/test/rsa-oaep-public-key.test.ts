import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { dataKeyToWrap, importRsaOaepPublicKey, InvalidArgumentError, spkiFromPem, wrapWithRsaOaepPublicKey } from '@fieldseal/core';

const SIZES: ReadonlySet<number> = new Set([2048, 3072]);
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function open(ciphertext: Uint8Array): Buffer {
  return privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
}

describe('the providers’ shared RSA-OAEP-256 public-key wrap', () => {
  test('wraps a given data key so the private key (OAEP, SHA-256) opens it, from PEM, DER or a CryptoKey', async () => {
    const der = pair.publicKey.export({ type: 'spki', format: 'der' });
    for (const input of [pem, new Uint8Array(der), await importRsaOaepPublicKey(pem, SIZES, 'test keys')]) {
      const key = await importRsaOaepPublicKey(input, SIZES, 'test keys');
      const given = new Uint8Array(32).fill(7);
      const result = await wrapWithRsaOaepPublicKey(key, { dataKey: given, context: {} }, 'p', 'k1');
      expect(result.dataKey).toEqual(given);
      expect(result.dataKey).not.toBe(given);
      expect(result.wrapped).toHaveLength(1);
      expect(result.wrapped[0]).toMatchObject({ provider: 'p', keyId: 'k1' });
      expect(new Uint8Array(open(result.wrapped[0]!.ciphertext))).toEqual(given);
    }
  });

  test('makes a fresh random data key when none is given', async () => {
    const key = await importRsaOaepPublicKey(pem, SIZES, 'test keys');
    const a = await wrapWithRsaOaepPublicKey(key, { context: {} }, 'p', 'k1');
    const b = await wrapWithRsaOaepPublicKey(key, { context: {} }, 'p', 'k1');
    expect(a.dataKey).toHaveLength(32);
    expect(a.dataKey).not.toEqual(b.dataKey);
    expect(new Uint8Array(open(a.wrapped[0]!.ciphertext))).toEqual(a.dataKey);
  });

  test('refuses hostile or wrong input with typed errors that carry no key bytes', async () => {
    await expect(importRsaOaepPublicKey(pem, new Set([4096]), 'test keys')).rejects.toThrow(/2048 bits; test keys have 4096/);
    const priv = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(importRsaOaepPublicKey(priv, SIZES, 'test keys')).rejects.toThrow(/a private key/);
    expect(() => spkiFromPem(priv)).toThrow(/a private key/);
    expect(() => spkiFromPem('-----BEGIN PUBLIC KEY-----\n%%%\n-----END PUBLIC KEY-----')).toThrow(InvalidArgumentError);
    await expect(importRsaOaepPublicKey(new Uint8Array([1, 2, 3]), SIZES, 'test keys')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(importRsaOaepPublicKey(42 as unknown as string, SIZES, 'test keys')).rejects.toBeInstanceOf(InvalidArgumentError);
    const key = await importRsaOaepPublicKey(pem, SIZES, 'test keys');
    await expect(wrapWithRsaOaepPublicKey(key, { dataKey: new Uint8Array(31), context: {} }, 'p', 'k')).rejects.toThrow(/32-byte/);
    expect(() => dataKeyToWrap(null as never)).toThrow(InvalidArgumentError);
  });

  test('a key for another hash or usage is refused', async () => {
    const sha1 = await crypto.subtle.importKey('spki', new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })), { name: 'RSA-OAEP', hash: 'SHA-1' }, true, ['encrypt']);
    await expect(importRsaOaepPublicKey(sha1, SIZES, 'test keys')).rejects.toThrow(/SHA-256/);
  });
});
