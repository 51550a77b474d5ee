import { describe, expect, expectTypeOf, test } from 'vitest';
import { decrypt, encrypt, LocalKeyring, MalformedError, NonJsonValueError, type JsonObject } from '@fieldseal/core';

// An interface has no index signature: `encrypt` used to refuse it at compile time.
interface Card {
  number: string;
  expires: string;
}
interface Customer {
  id: number;
  name: string;
  ssn: string;
  cards: Card[];
  note?: string;
}

const customer: Customer = { id: 42, name: 'Ada', ssn: '078-05-1120', cards: [{ number: '4111111111111111', expires: '2030-01' }] };

async function refusal(p: Promise<unknown>): Promise<NonJsonValueError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(NonJsonValueError);
  expect(err).toBeInstanceOf(MalformedError);
  expect((err as NonJsonValueError).code).toBe('ERR_FIELDSEAL_MALFORMED');
  return err as NonJsonValueError;
}

describe('typed encrypt and decrypt', () => {
  test('types: encrypt takes interfaces, decrypt returns the type asked for (JsonObject by default)', () => {
    expectTypeOf(encrypt<Customer>).parameter(0).toEqualTypeOf<Customer>();
    expectTypeOf(encrypt<Customer>).returns.resolves.toEqualTypeOf<JsonObject>();
    const withoutTypeArgument = () => decrypt({}, { keyring: undefined as never });
    expectTypeOf(withoutTypeArgument).returns.resolves.toEqualTypeOf<JsonObject>();
    expectTypeOf(decrypt<Customer>).returns.resolves.toEqualTypeOf<Customer>();
    // Not objects are still refused at compile time.
    // @ts-expect-error a string is not a document
    void (() => encrypt('078-05-1120', { keyring: undefined as never, paths: ['$.ssn'] }));
    // @ts-expect-error a number is not a document
    void (() => encrypt(42, { keyring: undefined as never, paths: ['$.ssn'] }));
  });

  test('an interface-typed document seals and opens as that type', async () => {
    const keyring = await LocalKeyring.generate();
    const sealed = await encrypt(customer, { keyring, paths: ['$.ssn', '$.cards[*].number'], context: { tenant: 'acme' } });
    expect(sealed.ssn).not.toBe(customer.ssn);
    const opened = await decrypt<Customer>(sealed, { keyring, context: { tenant: 'acme' } });
    expectTypeOf(opened.cards[0]!.number).toEqualTypeOf<string>();
    expect(opened).toEqual(customer);
  });

  test('values JSON cannot hold are refused with a NonJsonValueError naming their path, not their value', async () => {
    const keyring = await LocalKeyring.generate();
    class Money {
      constructor(readonly cents: number) {}
    }
    const cases: Array<[object, string, string]> = [
      [{ ...customer, note: undefined }, '/note', 'undefined'],
      [{ ...customer, cards: [{ number: '4111111111111111', expires: new Date(0) }] }, '/cards/0/expires', 'a Date'],
      [{ ...customer, id: 42n }, '/id', 'a bigint'],
      [{ ...customer, tags: new Map([['ssn', '078-05-1120']]) }, '/tags', 'a Map'],
      [{ ...customer, balance: new Money(1234) }, '/balance', 'a Money'],
      [{ ...customer, nested: { 'a/b~c': [0, Number.NaN] } }, '/nested/a~1b~0c/1', 'a non-finite number'],
      [{ ...customer, fn: () => customer.ssn }, '/fn', 'a function'],
      [{ ...customer, holes: [1, , 3] }, '/holes/1', 'a hole in an array'],
      [{ ...customer, proto: Object.create({}) as object }, '/proto', 'an object with a custom prototype'],
    ];
    for (const [doc, pointer, found] of cases) {
      const err = await refusal(encrypt(doc, { keyring, paths: ['$.ssn'] }));
      expect({ pointer: err.pointer, found: err.found }).toEqual({ pointer, found });
      expect(err.message).toContain(`"${pointer}"`);
      // The message names where and what, never the plaintext around it.
      expect(err.message).not.toMatch(/078-05-1120|4111|1234|Ada/);
    }
    // The selected value itself, and the sealed input of decrypt, are checked the same way.
    expect((await refusal(encrypt({ ...customer, ssn: new Date(0) }, { keyring, paths: ['$.ssn'] }))).pointer).toBe('/ssn');
    const sealed = await encrypt(customer, { keyring, paths: ['$.ssn'] });
    expect((await refusal(decrypt({ ...sealed, extra: 1n }, { keyring }))).pointer).toBe('/extra');
  });

  test('a getter is reported where it is and never invoked; a huge member name is cut in the pointer', async () => {
    const keyring = await LocalKeyring.generate();
    let invoked = false;
    const doc = { ...customer, inner: {} };
    Object.defineProperty(doc.inner, 'secret', { enumerable: true, get: () => ((invoked = true), 'x') });
    const err = await refusal(encrypt(doc, { keyring, paths: ['$.ssn'] }));
    expect(err.pointer).toBe('/inner/secret');
    expect(invoked).toBe(false);
    const long = 'k'.repeat(100_000);
    const cut = await refusal(encrypt({ ssn: '1', [long]: undefined }, { keyring, paths: ['$.ssn'] }));
    expect(cut.pointer.length).toBeLessThan(100);
    expect(cut.message.length).toBeLessThan(200);
  });

  test('a cycle or a deep document is still a limit error, not a path report', async () => {
    const keyring = await LocalKeyring.generate();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const err = await encrypt(cyclic, { keyring, paths: ['$.a'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_LIMIT_EXCEEDED' });
  });
});
