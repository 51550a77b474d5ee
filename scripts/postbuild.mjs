// tsc does not set the executable bit; npm links these as `fieldseal` and `fieldseal-emulators`.
import { chmodSync, existsSync } from 'node:fs';

for (const bin of ['packages/cli/dist/bin.js', 'packages/emulators/dist/bin.js']) {
  if (existsSync(bin)) chmodSync(bin, 0o755);
}

// The Prisma clients of @fieldseal/prisma's tests and example are generated, not committed.
const { generateAll } = await import('../packages/prisma/scripts/generate.mjs');
generateAll();
