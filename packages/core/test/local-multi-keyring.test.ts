import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, KeyUnavailableError, LocalKeyring, MultiKeyring, ProviderError, type Keyring } from '@fieldseal/core';

const ctx = { tenant: 't1' };

describe('LocalKeyring', () => {
  test('key file round trip; old versions unwrap, only the primary wraps', async () => {
    const v1 = await LocalKeyring.generate({ name: 'main' });
    const file = v1.exportKeyFile();
    expect(file).toMatchObject({ type: 'fieldseal-local-keyring', formatVersion: 1, name: 'main', primary: 1 });
    const v2 = LocalKeyring.fromKeyFile(JSON.stringify(v1.withNewPrimary().exportKeyFile()));
    expect(v2.keyIds).toEqual([expect.stringMatching(/^main\/[A-Za-z0-9_-]{11}\/v2$/), v1.keyIds[0]]);
    const { dataKey, wrapped } = await v1.wrap({ context: ctx });
    expect(wrapped[0]).toMatchObject({ provider: 'local', keyId: v1.keyIds[0] });
    expect(await v2.unwrap({ wrapped, context: ctx })).toEqual(dataKey);
    expect((await v2.wrap({ context: ctx })).wrapped[0]!.keyId).toBe(v2.keyIds[0]);
  });

  test('strict: a wrapped key naming another keyring or version is not followed', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const { wrapped } = await a.wrap({ context: ctx });
    const renamed = [{ ...wrapped[0]!, keyId: wrapped[0]!.keyId.replace(/^a\//, 'b/') }];
    const err = await LocalKeyring.fromKeyFile({ ...a.exportKeyFile(), name: 'b' }).unwrap({ wrapped: renamed, context: ctx }).catch((e: unknown) => e);
    // Same key bytes under another name: the key id is in the wrap AAD, so it still fails.
    expect(err).toBeInstanceOf(KeyUnavailableError);
    const missing = await a.unwrap({ wrapped: [{ ...wrapped[0]!, keyId: 'a/v9' }], context: ctx }).catch((e: unknown) => e);
    expect((missing as KeyUnavailableError).reasons[0]).toMatchObject({ provider: 'local', keyId: 'a/v9' });
    const wrongContext = await a.unwrap({ wrapped, context: { tenant: 't2' } }).catch((e: unknown) => e);
    expect(wrongContext).toBeInstanceOf(KeyUnavailableError);
  });

  test('malformed key files are MALFORMED errors that never quote key material', () => {
    const good = JSON.stringify({ type: 'fieldseal-local-keyring', formatVersion: 1, name: 'x', primary: 1, keys: [{ version: 1, key: 'A'.repeat(43), createdAt: '' }] });
    expect(() => LocalKeyring.fromKeyFile(good)).not.toThrow();
    const bad = [
      'not json',
      '{}',
      good.replace('"primary":1', '"primary":2'),
      good.replace('A'.repeat(43), 'A'.repeat(40)),
      good.replace('A'.repeat(43), 'SECRETKEYMATERIAL'),
      good.replace('"version":1', '"version":-1'),
      good.replace('"name":"x"', '"name":"../etc"'),
      good.replace('"formatVersion":1', '"formatVersion":2'),
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        LocalKeyring.fromKeyFile(text);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'ERR_FIELDSEAL_MALFORMED' });
      expect(String((error as Error).message)).not.toContain('SECRETKEYMATERIAL');
    }
  });

  test('toJSON hides key material', async () => {
    const k = await LocalKeyring.generate({ name: 'n' });
    expect(JSON.stringify(k)).not.toContain(k.exportKeyFile().keys[0]!.key);
    expect(JSON.parse(JSON.stringify(k))).toEqual({ provider: 'local', name: 'n', primary: k.keyIds[0], keyIds: [k.keyIds[0]] });
  });
});

describe('MultiKeyring', () => {
  test('wraps under every keyring; unwraps with the first that works, in order', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const calls: string[] = [];
    const spy = (name: string, k: Keyring): Keyring => ({ wrap: (r) => (calls.push(`wrap ${name}`), k.wrap(r)), unwrap: (r) => (calls.push(`unwrap ${name}`), k.unwrap(r)) });
    const multi = new MultiKeyring([spy('a', a), spy('b', b)]);
    const sealed = await encrypt({ s: '1' }, { keyring: multi, paths: ['$.s'], context: ctx });
    expect(calls).toEqual(['wrap a', 'wrap b']);
    calls.length = 0;
    expect((await decrypt(sealed, { keyring: multi, context: ctx })).s).toBe('1');
    expect(calls).toEqual(['unwrap a']);
    calls.length = 0;
    const onlyB = new MultiKeyring([spy('stranger', await LocalKeyring.generate({ name: 'c' })), spy('b', b)]);
    expect((await decrypt(sealed, { keyring: onlyB, context: ctx })).s).toBe('1');
    expect(calls).toEqual(['unwrap stranger', 'unwrap b']);
  });

  test('wrap fails when any keyring fails (no document is sealed without every KEK)', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const failing: Keyring = {
      wrap: () => Promise.reject(new ProviderError({ provider: 'aws-kms', keyId: 'k', kind: 'unavailable', retryable: true, message: 'down' })),
      unwrap: () => Promise.reject(new Error('x')),
    };
    await expect(encrypt({ s: '1' }, { keyring: new MultiKeyring([a, failing]), paths: ['$.s'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', retryable: true });
  });

  test('when every keyring fails, the error lists one reason per keyring, typed', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await encrypt({ s: '1' }, { keyring: a, paths: ['$.s'] });
    const provider: Keyring = { wrap: () => Promise.reject(new Error('unused')), unwrap: () => Promise.reject(new ProviderError({ provider: 'gcp-kms', keyId: 'kr/k', kind: 'throttled', retryable: true, message: 'slow down' })) };
    const untyped: Keyring = { wrap: () => Promise.reject(new Error('unused')), unwrap: () => Promise.reject(new Error('socket hang up')) };
    const err = (await decrypt(sealed, { keyring: new MultiKeyring([await LocalKeyring.generate({ name: 'z' }), provider, untyped]) }).catch((e: unknown) => e)) as KeyUnavailableError;
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect(err.reasons.map((r) => r.provider)).toEqual(['local', 'gcp-kms', 'keyring']);
    expect(err.message).not.toContain('socket hang up');
  });

  test('an empty or invalid list is refused', () => {
    expect(() => new MultiKeyring([])).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
    expect(() => new MultiKeyring([{} as Keyring])).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });
});

describe('keyring contract guarded by core', () => {
  test('a keyring returning a short key or no wrapped keys cannot produce a document', async () => {
    const short: Keyring = { wrap: async () => ({ dataKey: new Uint8Array(16), wrapped: [{ provider: 'x', keyId: 'y', ciphertext: new Uint8Array(1) }] }), unwrap: async () => new Uint8Array(32) };
    const none: Keyring = { wrap: async () => ({ dataKey: new Uint8Array(32), wrapped: [] }), unwrap: async () => new Uint8Array(32) };
    await expect(encrypt({ s: '1' }, { keyring: short, paths: ['$.s'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    await expect(encrypt({ s: '1' }, { keyring: none, paths: ['$.s'] })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });

  test('an unwrap returning the wrong 32 bytes fails the key commitment', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await encrypt({ s: '1' }, { keyring: a, paths: ['$.s'] });
    const liar: Keyring = { wrap: (r) => a.wrap(r), unwrap: async () => new Uint8Array(32).fill(7) };
    await expect(decrypt(sealed, { keyring: liar })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_DECRYPTION_FAILED' });
  });
});
