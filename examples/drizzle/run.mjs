// One command: `node examples/drizzle/run.mjs` (an in-memory PGlite, no server needed), or
// `DATABASE_URL=postgres://… node examples/drizzle/run.mjs` for a PostgreSQL server.
import { withTypeScriptModule } from '../lib/run-typescript.mjs';

await withTypeScriptModule(new URL('./example.ts', import.meta.url), { external: ['pg', 'drizzle-orm', '@electric-sql/pglite'] }, async ({ runDrizzleExample }) => {
  await runDrizzleExample({ databaseUrl: process.env.DATABASE_URL, log: (line) => console.log(line) });
  console.log('done');
});
