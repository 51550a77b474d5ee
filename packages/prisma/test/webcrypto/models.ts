import type { FieldsealPrismaOptions } from '../../src/index.js';

/** The test models' configuration (shared by the tests and the WebCrypto bundle). */
export function models(): FieldsealPrismaOptions['models'] {
  return {
    User: { fields: { email: { beacon: 'emailBidx' }, ssn: {}, born: { codec: 'date' } }, header: 'fieldseal', context: { tenant: 'tenantId' }, generateId: 'uuid', storedContext: { table: 'users' } },
    Post: { fields: ['body'], header: 'fieldseal', generateId: 'uuid' },
    Profile: { fields: ['bio'], header: 'fieldseal', generateId: () => `p_${crypto.randomUUID()}` },
    Note: { fields: ['text'], header: 'fs' },
  };
}
