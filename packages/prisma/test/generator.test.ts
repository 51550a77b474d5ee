// The optional fieldseal Prisma generator: /// @fieldseal comments in schema.prisma become the
// models option (test/generated/fieldseal.ts is written by `prisma generate` in the build).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FieldsealError } from '@fieldseal/core';
import { fieldseal, modelsFromSchema } from '../src/index.js';
import { fieldsealModels } from './generated/fieldseal.js';
import { models, setup } from './helpers/db.js';

describe('models from /// @fieldseal comments', () => {
  test('the generated configuration matches the hand-written one of the test schema', () => {
    const hand = models();
    const { storedContext: _stored, ...user } = hand.User!;
    expect(fieldsealModels.User).toEqual({ ...user, id: 'id' });
    expect(fieldsealModels.Post).toEqual({ ...hand.Post, fields: { body: {} }, id: 'id' });
    // cuid() and autoincrement() ids get no generateId: the application gives one (or configures it in TS).
    expect(fieldsealModels.Profile).not.toHaveProperty('generateId');
    expect(fieldsealModels.Note).toEqual({ fields: { text: {} }, header: 'fs', id: 'id' });
  });

  const model = (fields: { name: string; documentation?: string; isId?: boolean }[]) => [{ name: 'M', fields: fields.map((f) => ({ kind: 'scalar', type: 'String', ...f })) }];
  test.each([
    ['an unknown directive', model([{ name: 'a', documentation: '@fieldseal secret' }, { name: 'h', documentation: '@fieldseal header' }]), /unknown \/\/\/ @fieldseal directive/],
    ['an unknown option', model([{ name: 'a', documentation: '@fieldseal encrypted hash=x' }, { name: 'h', documentation: '@fieldseal header' }]), /unknown option "hash"/],
    ['no header', model([{ name: 'a', documentation: '@fieldseal' }]), /no \/\/\/ @fieldseal header/],
    ['two headers', model([{ name: 'a', documentation: '@fieldseal header' }, { name: 'h', documentation: '@fieldseal header' }]), /two header fields/],
    ['an option without a value', model([{ name: 'a', documentation: '@fieldseal beacon=' }, { name: 'h', documentation: '@fieldseal header' }]), /key=value/],
  ])('%s is an error', (_name, input, message) => {
    expect(() => modelsFromSchema(input)).toThrow(expect.objectContaining({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT', message: expect.stringMatching(message) }));
  });

  test('other documentation lines are ignored; a model without directives is left out', () => {
    expect(modelsFromSchema([...model([{ name: 'a', documentation: 'The address.\n@fieldseal' }, { name: 'h', documentation: '@fieldseal header' }, { name: 'k', isId: true }]), { name: 'Plain', fields: [{ name: 'x', kind: 'scalar', type: 'String', documentation: 'no tag' }] }])).toEqual({
      M: { fields: { a: {} }, header: 'h', id: 'k' },
    });
  });
});

describe('the generated configuration drives the extension', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    t = await setup();
  });
  afterAll(async () => {
    await t?.close();
  });

  test('rows written with it are sealed and opened; the hand-written configuration, which also stores a context, refuses them', async () => {
    const prisma = t.base.$extends(fieldseal({ keyring: t.keyring, beacons: t.beacons, models: fieldsealModels }));
    const u = await prisma.user.create({ data: { tenantId: 'g', name: 'gen', email: 'gen@example.com', ssn: 'gen-ssn' } });
    expect(JSON.stringify(await t.sql('SELECT * FROM $S.users'))).not.toMatch(/gen@example|gen-ssn/);
    expect((await prisma.user.findMany({ where: { email: 'gen@example.com' } })).map((x) => x.ssn)).toEqual(['gen-ssn']);
    expect(await code(prisma.user.findMany({ orderBy: { ssn: 'asc' } }))).toBe('ERR_FIELDSEAL_UNSUPPORTED_QUERY');
    // The hand-written configuration also stores context { table: 'users' }: a different layout, so
    // it refuses these rows (the stored context must match), proving the layouts are compared.
    await expect(t.prisma.user.findUnique({ where: { id: u.id } })).rejects.toBeInstanceOf(FieldsealError);
  });
});

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FieldsealError);
  return (err as FieldsealError).code;
}
