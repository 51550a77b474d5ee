import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, reencrypt, rewrap } from '@fieldseal/core';

const doc = { id: 7, ssn: '078-05-1120', email: 'x@example.com', cards: ['4111111111111111', '4012888888881881'] };

function fieldsOf(sealed: Record<string, unknown>) {
  const { _fieldseal, ...rest } = sealed;
  return JSON.stringify(rest);
}

describe('rewrap / reencrypt', () => {
  test('rewrap changes only the header; the new keyring opens, the old one no longer does', async () => {
    const oldKeys = await LocalKeyring.generate({ name: 'old' });
    const newKeys = await LocalKeyring.generate({ name: 'new' });
    const sealed = await encrypt(doc, { keyring: oldKeys, paths: ['$.ssn', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { row: '7' } });
    const { document, changed } = await rewrap(sealed, { keyring: oldKeys, to: newKeys, context: { tenant: 't1', row: '7' } });
    expect(changed).toBe(true);
    expect(fieldsOf(document)).toBe(fieldsOf(sealed));
    expect(document._fieldseal).not.toBe(sealed._fieldseal);
    expect(inspect(document).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: newKeys.keyIds[0] }]);
    expect(await decrypt(document, { keyring: newKeys, context: { tenant: 't1', row: '7' } })).toEqual(doc);
    await expect(decrypt(document, { keyring: oldKeys, context: { tenant: 't1', row: '7' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
  });

  test('rewrap is idempotent: already in the target state comes back unchanged', async () => {
    const keys = await LocalKeyring.generate({ name: 'k' });
    const sealed = await encrypt(doc, { keyring: keys, paths: ['$.ssn'] });
    const result = await rewrap(sealed, { keyring: keys, to: keys });
    expect(result.changed).toBe(false);
    expect(result.document).toEqual(sealed);
  });

  test('rewrap to a new primary version of the same local keyring', async () => {
    const v1 = await LocalKeyring.generate({ name: 'main' });
    const v2 = v1.withNewPrimary();
    const sealed = await encrypt(doc, { keyring: v1, paths: ['$.ssn'] });
    const { document, changed } = await rewrap(sealed, { keyring: v2, to: v2 });
    expect(changed).toBe(true);
    expect(inspect(document).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
    expect((await decrypt(document, { keyring: v2 })).ssn).toBe(doc.ssn);
  });

  test('rewrap refuses a tampered header before wrapping anything', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.ssn'], context: { tenant: 't1' } });
    await expect(rewrap(sealed, { keyring: a, to: a, context: { tenant: 't2' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_CONTEXT_MISMATCH' });
  });

  test('reencrypt re-seals every field with a new message id under the target keyring', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.ssn', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { row: '7' } });
    const { document } = await reencrypt(sealed, { keyring: a, to: b, context: { tenant: 't1', row: '7' } });
    expect(inspect(document).messageId).not.toBe(inspect(sealed).messageId);
    expect(document.ssn).not.toBe(sealed.ssn);
    expect(inspect(document).requiredContextKeys).toEqual(['row']);
    expect(await decrypt(document, { keyring: b, context: { tenant: 't1', row: '7' } })).toEqual(doc);
  });
});

describe('server-side re-wrap', () => {
  test('rewrap uses the target keyring\u2019s rewrapInService and verifies it kept the data key', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.ssn'], context: { tenant: 't1' } });
    const v2 = a.withNewPrimary();
    let serviceCalls = 0;
    // A stand-in for a KMS re-encrypt: the service re-wraps under its newest version (here by unwrap + wrap).
    const honest = Object.assign(Object.create(v2) as LocalKeyring, {
      wrap: v2.wrap.bind(v2),
      unwrap: v2.unwrap.bind(v2),
      async rewrapInService(req: { wrapped: readonly { provider: string; keyId: string; ciphertext: Uint8Array }[]; context: Record<string, string> }) {
        serviceCalls++;
        const dek = await v2.unwrap(req);
        return (await v2.wrap({ dataKey: dek, context: req.context })).wrapped;
      },
    });
    const { document, changed } = await rewrap(sealed, { keyring: v2, to: honest, context: { tenant: 't1' } });
    expect(changed).toBe(true);
    expect(serviceCalls).toBe(1);
    expect(inspect(document).groups[0]!.wrappedKeys[0]!.keyId).toBe(v2.keyIds[0]);
    expect((await decrypt(document, { keyring: v2, context: { tenant: 't1' } })).ssn).toBe(doc.ssn);

    const lying = Object.assign(Object.create(v2) as LocalKeyring, {
      wrap: v2.wrap.bind(v2),
      unwrap: v2.unwrap.bind(v2),
      async rewrapInService(req: { context: Record<string, string> }) {
        return (await v2.wrap({ context: req.context })).wrapped; // a different data key
      },
    });
    await expect(rewrap(sealed, { keyring: v2, to: lying, context: { tenant: 't1' } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
  });

  test('inspect with hostile options gives a typed error', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.ssn'] });
    expect(() => inspect(sealed, null as never)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' }));
  });
});
