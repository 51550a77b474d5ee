// The example runners' database: the PostgreSQL at DATABASE_URL (default the local test server),
// or, when none answers, an embedded PGlite served on a loopback port so that the CLI can reach it.
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const require = createRequire(import.meta.url);

/** @returns {Promise<{ url: string, embedded: boolean, stop: () => Promise<void> }>} */
export async function openDatabase() {
  const PgClient = require('pg/lib/client.js');
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const probe = new PgClient({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
    await probe.end();
    return { url, embedded: false, stop: async () => {} };
  } catch {
    await probe.end().catch(() => {});
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const port = await new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 4 });
  await server.start();
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, embedded: true, stop: async () => (await server.stop(), await db.close()) };
}
