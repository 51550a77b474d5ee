/*
 * The one PostgreSQL helper of the test suites (rotation, CLI, examples): the real server at
 * DATABASE_URL, or an embedded PGlite where none answers, so the tests never skip.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { Client } from 'pg';

/**
 * pg's Client class, loaded from its CommonJS file directly. Under vitest the worker runs with
 * `--conditions import`, which makes pg's own require('pg-pool') load the ESM build and fail;
 * lib/client.js does not need pg-pool.
 */
export const PgClient = createRequire(import.meta.url)('pg/lib/client.js') as typeof Client;

/** The server the tests use unless DATABASE_URL names another. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A PostgreSQL to test against: the real server, or an embedded PGlite when none answers. */
export interface TestDatabase {
  readonly url: string;
  /** True for PGlite: it serves one connection at a time, so no truly concurrent clients. */
  readonly embedded: boolean;
  /** A connected client; the caller ends it. */
  connect(): Promise<Client>;
  /** Releases what was started for this database (the embedded server), nothing for a real one. */
  stop(): Promise<void>;
}

/** A connected client; the caller ends it. */
export async function connect(url: string): Promise<Client> {
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
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

/** A loopback port nothing listens on right now (for an embedded server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** DATABASE_URL, else the local server, else PGlite behind pglite-socket on loopback. Never skips. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (await reachable(url)) return { url, embedded: false, connect: () => connect(url), stop: async () => {} };
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  const embeddedUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url: embeddedUrl,
    embedded: true,
    connect: () => connect(embeddedUrl),
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

/** A table name no other test (or engineer) uses. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
