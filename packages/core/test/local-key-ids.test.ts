import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, keyVersionOf, LocalKeyring, rewrap, type LocalKeyFile } from '@fieldseal/core';

const ctx = { tenant: 't1' };
const doc = { id: 1, ssn: '078-05-1120' };

/** A key file exactly as `fieldseal keygen` wrote it before key ids existed (no `id` per version). */
async function legacyFile(name = 'main'): Promise<LocalKeyFile> {
  const file = (await LocalKeyring.generate({ name })).exportKeyFile();
  return { ...file, keys: file.keys.map(({ version, key, createdAt }) => ({ version, key, createdAt })) };
}

describe('LocalKeyring key ids are unique per key (issue 14.1)', () => {
  test('two generated keyrings with the same name wrap under different key ids', async () => {
    const a = await LocalKeyring.generate();
    const b = await LocalKeyring.generate();
    expect(a.keyIds[0]).not.toBe(b.keyIds[0]);
    expect(a.keyIds[0]).toMatch(/^main\/[A-Za-z0-9_-]{11}\/v1$/);
    expect(keyVersionOf(a.keyIds[0]!)).toBe(1);
    const wrappedA = (await a.wrap({ context: ctx })).wrapped[0]!;
    const wrappedB = (await b.wrap({ context: ctx })).wrapped[0]!;
    expect(wrappedA.keyId).toBe(a.keyIds[0]);
    expect(wrappedB.keyId).toBe(b.keyIds[0]);
  });

  test('the id is kept in the key file; a new version gets its own id; a duplicated id is refused', async () => {
    const a = await LocalKeyring.generate();
    const file = a.withNewPrimary().exportKeyFile();
    expect(file.keys.map((k) => typeof k.id)).toEqual(['string', 'string']);
    expect(file.keys[0]!.id).toBe(a.exportKeyFile().keys[0]!.id);
    expect(file.keys[0]!.id).not.toBe(file.keys[1]!.id);
    const reloaded = LocalKeyring.fromKeyFile(JSON.stringify(file));
    expect(reloaded.keyIds).toEqual(LocalKeyring.fromKeyFile(file).keyIds);
    const twice = { ...file, keys: [file.keys[0]!, { ...file.keys[1]!, id: file.keys[0]!.id }] };
    expect(() => LocalKeyring.fromKeyFile(twice)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_MALFORMED' }));
    expect(() => LocalKeyring.fromKeyFile({ ...file, keys: [{ ...file.keys[0]!, id: 'a/b' }, file.keys[1]!] })).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_MALFORMED' }));
  });

  test('an id in a wrapped key must match the version it names: the same version of another key file is not tried', async () => {
    const a = await LocalKeyring.generate();
    const b = await LocalKeyring.generate();
    const { wrapped } = await a.wrap({ context: ctx });
    const err = await b.unwrap({ wrapped, context: ctx }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    expect((err as { reasons: { message: string }[] }).reasons[0]!.message).toBe('this keyring does not hold that key');
  });

  test('key files and documents of the previous version keep working: legacy ids wrap and unwrap as before', async () => {
    const legacy = LocalKeyring.fromKeyFile(await legacyFile());
    expect(legacy.keyIds).toEqual(['main/v1']);
    const sealed = await encrypt(doc, { keyring: legacy, paths: ['$.ssn'] });
    expect(inspect(sealed).groups[0]!.wrappedKeys[0]!.keyId).toBe('main/v1');
    expect(await decrypt(sealed, { keyring: LocalKeyring.fromKeyFile(legacy.exportKeyFile()) })).toEqual(doc);
    // Giving the file ids (keygen --add) keeps opening documents labelled with the old id.
    const upgraded = LocalKeyring.fromKeyFile(JSON.stringify(legacy.withNewPrimary().exportKeyFile()));
    expect(upgraded.keyIds[0]).toMatch(/^main\/[A-Za-z0-9_-]{11}\/v2$/);
    expect(upgraded.keyIds[1]).toMatch(/^main\/[A-Za-z0-9_-]{11}\/v1$/);
    expect(await decrypt(sealed, { keyring: upgraded })).toEqual(doc);
    const { document, changed } = await rewrap(sealed, { keyring: upgraded, to: upgraded });
    expect(changed).toBe(true);
    expect(inspect(document).groups[0]!.wrappedKeys[0]!.keyId).toBe(upgraded.keyIds[0]);
  });

  test('rewrap between two legacy key files that share the label main/v1 really rewraps (was: unchanged, data lost with the old file)', async () => {
    const a = LocalKeyring.fromKeyFile(await legacyFile());
    const b = LocalKeyring.fromKeyFile(await legacyFile());
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.ssn'], context: ctx });
    const { document, changed } = await rewrap(sealed, { keyring: a, to: b, context: ctx });
    expect(changed).toBe(true);
    expect(await decrypt(document, { keyring: b, context: ctx })).toEqual(doc);
    // The same legacy file on both sides is truly current: unchanged.
    expect((await rewrap(sealed, { keyring: a, to: a, context: ctx })).changed).toBe(false);
  });

  test('keyIdConflicts names ids two keyrings hold with different key material', async () => {
    const a = LocalKeyring.fromKeyFile(await legacyFile());
    const b = LocalKeyring.fromKeyFile(await legacyFile());
    expect(a.keyIdConflicts(b)).toEqual(['main/v1']);
    expect(a.keyIdConflicts(a)).toEqual([]);
    expect(a.keyIdConflicts(LocalKeyring.fromKeyFile(a.exportKeyFile()))).toEqual([]);
    const fresh = await LocalKeyring.generate();
    expect(a.keyIdConflicts(fresh)).toEqual([]);
    expect(fresh.keyIdConflicts(await LocalKeyring.generate())).toEqual([]);
    // A hand-copied id on other key material is a conflict too.
    const copied = LocalKeyring.fromKeyFile({ ...(await LocalKeyring.generate()).exportKeyFile(), keys: [{ ...(await LocalKeyring.generate()).exportKeyFile().keys[0]!, id: fresh.exportKeyFile().keys[0]!.id! }] });
    expect(fresh.keyIdConflicts(copied)).toEqual([fresh.keyIds[0]]);
    expect(LocalKeyring.isUniqueKeyId('main/v1')).toBe(false);
    expect(LocalKeyring.isUniqueKeyId(fresh.keyIds[0]!)).toBe(true);
  });
});
