// Generates test/vectors/hierarchy-v1.json: documents whose data keys are wrapped by a branch key
// (docs/FORMAT.md §10), with the branch key itself (test-only), so an independent implementation
// can unwrap and open them. Run: npm run build && node test/vectors/generate-hierarchy.mjs
import { writeFileSync } from 'node:fs';
import { branchKeyContext, encrypt, HierarchicalKeyring, LocalKeyring, MemoryBranchKeyStore } from '../../packages/core/dist/index.js';
import { drbg } from './deterministic-backend.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
const cases = [];
for (const [n, id, version, context, requiredContext] of [
  [1, 'acme', 1, { tenant: 'acme' }, {}],
  [2, 'tenants/Grüße', 7, { tenant: 'tenants/Grüße', table: 'users' }, { rowId: '42' }],
]) {
  const branchKey = drbg(`fieldseal hierarchy vectors branch key ${n}`)(32);
  const kek = await LocalKeyring.generate({ name: 'vector-kek' });
  const store = new MemoryBranchKeyStore();
  const { wrapped } = await kek.wrap({ dataKey: branchKey, context: branchKeyContext(id, version) });
  for (let v = 1; v <= version; v++) {
    await store.putVersion({ branchKeyId: id, version: v, state: 'active', createdAt: '2026-01-01T00:00:00.000Z', wrapped: v === version ? wrapped : (await kek.wrap({ context: branchKeyContext(id, v) })).wrapped }, v === 1 ? undefined : v - 1);
  }
  let dataKey;
  const recording = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
  const keyring = { wrap: async (r) => { const out = await recording.wrap(r); dataKey = hex(out.dataKey); return out; }, unwrap: (r) => recording.unwrap(r) };
  const plaintext = { id: n, ssn: '078-05-1120', email: 'ada@example.com' };
  const sealed = await encrypt(plaintext, { keyring, paths: ['$.ssn', '$.email'], context, requiredContext });
  cases.push({ id: n, branchKeyId: id, version, branchKey: hex(branchKey), dataKey, plaintext, decryptContext: { ...context, ...requiredContext }, sealed });
}
writeFileSync(new URL('./hierarchy-v1.json', import.meta.url), JSON.stringify({ description: 'fieldseal hierarchical keyring vectors (docs/FORMAT.md §10). Test-only branch keys: never use them.', cases }, null, 2) + '\n');
console.log(`wrote ${cases.length} hierarchy cases`);
