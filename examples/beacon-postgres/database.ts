import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { Client } from 'pg';

/*
 * pg's Client class, loaded from its CommonJS file directly. Under vitest the worker runs with
 * `--conditions import`, which makes pg's own require('pg-pool') load the ESM build and fail;
 * lib/client.js does not need pg-pool. Plain Node (run.mjs) just imports 'pg'.
 */
export const PgClient = createRequire(import.meta.url)('pg/lib/client.js') as typeof Client;

/** A connected client; the caller ends it. */
export async function connect(url: string): Promise<Client> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  return client;
}

/** A PostgreSQL connection string for the example and a function that releases what was started for it. */
export interface Database {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

async function reachable(url: string): Promise<boolean> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The real server at DATABASE_URL (default: the local one on 127.0.0.1:5432). Where none answers,
 * an embedded PostgreSQL (PGlite behind pglite-socket, on loopback) so the example still runs for real.
 */
export async function openDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (await reachable(url)) return { url, embedded: false, stop: async () => {} };
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 4 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    embedded: true,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
