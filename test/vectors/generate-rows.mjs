// Generates test/vectors/rows-v1.json: table rows sealed under the column layout (docs/FORMAT.md §9),
// with every input an independent implementation needs, plus tampered rows that must fail.
// Run with `npm run vectors:rows` (after `npm run build`). Checked by test/rows-vectors.test.ts.
import { writeFileSync } from 'node:fs';
import { defineRowLayout, LocalKeyring } from '../../packages/core/dist/index.js';
import { sealRowWith } from '../../packages/core/dist/rows/seal-row.js';
import { backend as nodeBackend } from '../../packages/core/dist/lib/backend/node.js';
import { deterministicBackend, drbg } from './deterministic-backend.mjs';

const b64 = (b) => Buffer.from(b).toString('base64url');
function keyFile(name, label) {
  const random = drbg(`fieldseal row vectors KEK ${label}`);
  return { type: 'fieldseal-local-keyring', formatVersion: 1, name, primary: 1, keys: [{ version: 1, key: b64(random(32)), createdAt: '2026-01-01T00:00:00.000Z' }] };
}
const keyFiles = { k1: keyFile('rows', 'k1'), k2: keyFile('rows-restricted', 'k2') };
const keyrings = Object.fromEntries(Object.entries(keyFiles).map(([id, f]) => [id, LocalKeyring.fromKeyFile(f)]));

/** JSON form of a row: the vectors store timestamps, bigints and bytes as their sealed strings. */
function toJsonRow(row) {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? b64(v) : v]));
}

const cases = [];
async function positive(id, description, spec, row, groupKeyrings) {
  const random = drbg(`fieldseal row vectors case ${id}`);
  const backend = deterministicBackend(nodeBackend, random);
  const dataKeys = {};
  const recording = (group) => ({
    async wrap(req) {
      const dataKey = req.dataKey ?? random(32);
      dataKeys[group] = Buffer.from(dataKey).toString('hex');
      return keyrings[groupKeyrings[group]].wrap({ dataKey, context: req.context });
    },
    unwrap: (req) => keyrings[groupKeyrings[group]].unwrap(req),
  });
  const layout = defineRowLayout(spec);
  const sealed = await sealRowWith(backend, row, layout, { keyrings: Object.fromEntries(layout.groups.map((g) => [g, recording(g)])) });
  const c = { id, description, result: 'valid', layout: spec, keyrings: groupKeyrings, rngSeed: `fieldseal row vectors case ${id}`, dataKeys, plaintext: toJsonRow(row), sealed: toJsonRow(sealed) };
  cases.push(c);
  return c;
}
function negative(id, description, base, sealed, expectedCodes) {
  cases.push({ id, description, result: 'invalid', layout: base.layout, keyrings: base.keyrings, sealed, expectedCodes });
}

const users = { columns: ['email', { name: 'ssn', group: 'restricted' }, { name: 'born', codec: 'date' }, { name: 'balance', codec: 'bigint' }, { name: 'photo', codec: 'bytes' }, 'prefs', 'nickname'], header: 'fieldseal', id: 'id', contextColumns: { tenant: 'tenant_id' }, context: { table: 'users' } };
const r1 = await positive(1, 'one text column, integer id', { columns: ['email'], header: 'fieldseal', id: 'id' }, { id: 1, email: 'ada@example.com', fieldseal: null }, { default: 'k1' });
const r2 = await positive(2, 'every codec, two key groups, a NULL column, id and tenant bound, stored context', users, {
  id: '3f9c1a52-7d0e-4b8f-9a61-2c5e8d7b4f10', tenant_id: 'acme', email: 'grace@example.com', ssn: '078-05-1120', born: new Date('1906-12-09T00:00:00.000Z'), balance: 18446744073709551617n, photo: new Uint8Array([0, 255, 1, 254]), prefs: { theme: 'dark', tags: ['a', 1, null] }, nickname: null, plan: 'pro', fieldseal: null,
}, { default: 'k1', restricted: 'k2' });
await positive(3, 'column names that need escaping; a bigint id', { columns: ["it's", 'a/b~c', 'Grüße'], header: 'fs', id: 'pk' }, { pk: 9007199254740993n, "it's": 'q', 'a/b~c': 'p', 'Grüße': 'ü', fs: null }, { default: 'k1' });
await positive(4, 'every sealed column NULL: no header', { columns: ['email'], header: 'fieldseal', id: 'id' }, { id: 4, email: null, fieldseal: null }, { default: 'k1' });

const auth = ['ERR_FIELDSEAL_DECRYPTION_FAILED', 'ERR_FIELDSEAL_KEY_UNAVAILABLE'];
negative(101, 'the whole sealed state copied to another row id', r1, { ...r1.sealed, id: 2 }, auth);
negative(102, 'the tenant column changed', r2, { ...r2.sealed, tenant_id: 'globex' }, auth);
negative(103, 'two sealed columns swapped', r2, { ...r2.sealed, email: r2.sealed.prefs, prefs: r2.sealed.email }, ['ERR_FIELDSEAL_DECRYPTION_FAILED']);
negative(104, 'plaintext written into a sealed column', r2, { ...r2.sealed, email: 'mallory@example.com' }, ['ERR_FIELDSEAL_INCOMPLETE']);
negative(105, 'a listed column set to NULL', r2, { ...r2.sealed, ssn: null }, ['ERR_FIELDSEAL_INCOMPLETE']);
negative(106, 'plaintext in a column the header does not list', r2, { ...r2.sealed, nickname: 'sneaky' }, ['ERR_FIELDSEAL_INCOMPLETE']);
negative(107, 'the header removed', r2, { ...r2.sealed, fieldseal: null }, ['ERR_FIELDSEAL_INCOMPLETE']);

const out = { description: 'fieldseal format v1 row vectors (docs/FORMAT.md §9). Test-only keys: never use them.', keyFiles, cases };
writeFileSync(new URL('./rows-v1.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${cases.length} row cases`);
