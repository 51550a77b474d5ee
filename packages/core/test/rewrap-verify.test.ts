import { describe, expect, test } from 'vitest';
import { decrypt, encrypt, inspect, LocalKeyring, rewrap, type JsonObject, type Keyring, type UnwrapRequest, type WrapRequest } from '@fieldseal/core';

// rewrap({ verify: true }) replaces a second decrypt of the rotated document: each test builds a
// fault that rewrap alone lets through (so the test cannot pass without the check) and shows that
// verify stops it with ERR_FIELDSEAL_REWRAP_VERIFY.

const doc = { id: 7, ssn: '078-05-1120', email: 'x@example.com', cards: ['4111111111111111', '4012888888881881'] };
const context = { tenant: 't1', row: '7' };

async function sealedUnder(keyring: Keyring): Promise<JsonObject> {
  return encrypt(doc, { keyring, paths: ['$.ssn', '$.email', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { row: '7' } });
}

/** A keyring that wraps like `inner` but whose unwrap is replaced. */
function withUnwrap(inner: Keyring, unwrap: (request: UnwrapRequest) => Promise<Uint8Array>): Keyring {
  return { wrap: (request: WrapRequest) => inner.wrap(request), unwrap };
}

async function expectVerifyFailure(promise: Promise<unknown>, causeCode: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_REWRAP_VERIFY' });
  expect((err as { cause?: { code?: string } }).cause?.code).toBe(causeCode);
}

describe('rewrap with verify', () => {
  test('a sound rewrap verifies and gives the same document as without verify, which the target opens', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const sealed = await sealedUnder(a);
    const { document, changed } = await rewrap(sealed, { keyring: a, to: b, context, verify: true });
    expect(changed).toBe(true);
    expect(inspect(document).groups[0]!.wrappedKeys[0]!.keyId).toBe(b.keyIds[0]);
    expect(await decrypt(document, { keyring: b, context })).toEqual(doc);
    // Already current: nothing to verify, nothing changed.
    expect((await rewrap(document, { keyring: b, to: b, context, verify: true })).changed).toBe(false);
  });

  test('a target keyring that unwraps to a different data key is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const liar = withUnwrap(b, async () => crypto.getRandomValues(new Uint8Array(32)));
    const sealed = await sealedUnder(a);
    // Without the check the document is produced (and its new wrapped key is in fact fine) ...
    expect((await rewrap(sealed, { keyring: a, to: liar, context })).changed).toBe(true);
    // ... with it, the target's answer must be the data key the old header was authenticated with.
    await expectVerifyFailure(rewrap(sealed, { keyring: a, to: liar, context, verify: true }), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('a corrupted new wrapped key is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const corrupting: Keyring = {
      async wrap(request) {
        const result = await b.wrap(request);
        const ciphertext = result.wrapped[0]!.ciphertext.slice();
        ciphertext[ciphertext.length - 1]! ^= 1;
        return { dataKey: result.dataKey, wrapped: [{ ...result.wrapped[0]!, ciphertext }] };
      },
      unwrap: (request) => b.unwrap(request),
    };
    const sealed = await sealedUnder(a);
    const unchecked = await rewrap(sealed, { keyring: a, to: corrupting, context });
    await expect(decrypt(unchecked.document, { keyring: b, context })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_KEY_UNAVAILABLE' });
    await expectVerifyFailure(rewrap(sealed, { keyring: a, to: corrupting, context, verify: true }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('a target that binds the wrapped key to another context than the document\u2019s is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const wrongContext: Keyring = { wrap: (request) => b.wrap({ ...request, context: { tenant: 't2', row: '7' } }), unwrap: (request) => b.unwrap(request) };
    const sealed = await sealedUnder(a);
    expect((await rewrap(sealed, { keyring: a, to: wrongContext, context })).changed).toBe(true);
    await expectVerifyFailure(rewrap(sealed, { keyring: a, to: wrongContext, context, verify: true }), 'ERR_FIELDSEAL_KEY_UNAVAILABLE');
  });

  test('a tampered field ciphertext (rewrap alone never opens fields) is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await sealedUnder(a);
    const tampered = structuredClone(sealed);
    const ssn = tampered.ssn as string;
    // One character in the middle of the base64url: still canonical base64url (the last character's
    // unused bits stay as they were), so only the tag can catch it.
    const at = ssn.length - 10;
    tampered.ssn = ssn.slice(0, at) + (ssn[at] === 'A' ? 'B' : 'A') + ssn.slice(at + 1);
    const v2 = a.withNewPrimary();
    expect((await rewrap(tampered, { keyring: v2, to: v2, context })).changed).toBe(true);
    await expectVerifyFailure(rewrap(tampered, { keyring: v2, to: v2, context, verify: true }), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('a field swapped in from another document under the same key and context (a changed plaintext) is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await sealedUnder(a);
    const other = await encrypt({ ...doc, ssn: '999-99-9999' }, { keyring: a, paths: ['$.ssn', '$.email', '$.cards[*]'], context: { tenant: 't1' }, requiredContext: { row: '7' } });
    const swapped: JsonObject = { ...sealed, ssn: other.ssn! };
    const v2 = a.withNewPrimary();
    expect((await rewrap(swapped, { keyring: v2, to: v2, context })).changed).toBe(true);
    await expectVerifyFailure(rewrap(swapped, { keyring: v2, to: v2, context, verify: true }), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('a listed field removed, or a ciphertext copied to a place the header does not list, is caught', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await sealedUnder(a);
    const v2 = a.withNewPrimary();
    const { email: _email, ...removed } = sealed;
    expect((await rewrap(removed as JsonObject, { keyring: v2, to: v2, context })).changed).toBe(true);
    await expectVerifyFailure(rewrap(removed as JsonObject, { keyring: v2, to: v2, context, verify: true }), 'ERR_FIELDSEAL_INCOMPLETE');
    const copied: JsonObject = { ...sealed, note: sealed.ssn! };
    await expectVerifyFailure(rewrap(copied, { keyring: v2, to: v2, context, verify: true }), 'ERR_FIELDSEAL_INCOMPLETE');
  });

  test('per-group targets: one group\u2019s target giving a different key fails the whole document', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const hr = await LocalKeyring.generate({ name: 'hr' });
    const b = await LocalKeyring.generate({ name: 'b' });
    const sealed = await encrypt(doc, { keyring: a, paths: ['$.email'], groups: [{ name: 'hr', keyring: hr, paths: ['$.ssn'] }] });
    const liar = withUnwrap(b, async () => crypto.getRandomValues(new Uint8Array(32)));
    const ok = await rewrap(sealed, { keyrings: { default: a, hr }, toKeyrings: { default: b, hr: b }, verify: true });
    expect(await decrypt(ok.document, { keyring: b })).toEqual(doc);
    await expectVerifyFailure(rewrap(sealed, { keyrings: { default: a, hr }, toKeyrings: { default: b, hr: liar }, verify: true }), 'ERR_FIELDSEAL_DECRYPTION_FAILED');
  });

  test('verify must be a boolean', async () => {
    const a = await LocalKeyring.generate({ name: 'a' });
    const sealed = await sealedUnder(a);
    await expect(rewrap(sealed, { keyring: a, to: a, context, verify: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });
});
