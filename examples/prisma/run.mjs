// One command: `node examples/prisma/run.mjs` (set DATABASE_URL to use another server).
// Generates the Prisma client offline, then runs example.ts (bundled by ../lib/run-typescript.mjs).
import { generate } from '../../packages/prisma/scripts/generate.mjs';
import { withTypeScriptModule } from '../lib/run-typescript.mjs';

generate('examples/prisma/schema.prisma');
await withTypeScriptModule(new URL('./example.ts', import.meta.url), { external: ['pg', '@prisma/*'] }, ({ runPrismaExample }) =>
  runPrismaExample({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', log: (line) => console.log(line) }),
);
