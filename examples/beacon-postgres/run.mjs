// One command: `node examples/beacon-postgres/run.mjs` (set DATABASE_URL to use another server).
// example.ts is bundled by ../lib/run-typescript.mjs (Node 20 cannot load TypeScript).
import pg from 'pg';
import { withTypeScriptModule } from '../lib/run-typescript.mjs';

await withTypeScriptModule(new URL('./example.ts', import.meta.url), { external: ['pg'] }, async ({ runBeaconExample }) => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  let result;
  try {
    result = await runBeaconExample({ client, log: (line) => console.log(line) });
  } finally {
    await client.end();
  }
  const exact = result.lookups.every((l) => JSON.stringify(l.found) === JSON.stringify(l.expected));
  console.log(exact ? `every lookup returned exactly its matching rows (${result.lookups.length} lookups)` : 'MISMATCH: a lookup did not return exactly its matching rows');
  process.exitCode = exact ? 0 : 1;
});
