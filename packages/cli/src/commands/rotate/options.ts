import { resolve } from 'node:path';
import type { EncryptionContext } from '@fieldseal/core';
import { usage } from '../../exit-error.js';

/** `@fieldseal/rotation` is an optional peer of the CLI: say how to get it when it is missing. */
export async function loadRotation(): Promise<typeof import('@fieldseal/rotation')> {
  try {
    return await import('@fieldseal/rotation');
  } catch {
    throw usage('this command needs the package @fieldseal/rotation: npm install @fieldseal/rotation');
  }
}

/** Exit code of a run stopped by Ctrl-C or SIGTERM after saving its checkpoint (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** Options of `fieldseal rotate`. */
export interface RotateCommandOptions {
  /** Keyring spec that unwraps the current data keys (`local:keys.json`, `<provider>:<config.json>`). */
  readonly keyring: string;
  /** Keyring spec to wrap under; default: the same as `keyring` (rotate to its primary key). */
  readonly to?: string;
  /** `ndjson:FILE` or a `postgres://` / `postgresql://` connection string. */
  readonly store: string;
  readonly table?: string;
  readonly column?: string;
  readonly idColumn?: string;
  /** `rewrap` (default), `reencrypt`, or a migration: `seal`, `unseal` (needs `yesWritePlaintext`), `import-cloak`. */
  readonly mode?: 'rewrap' | 'reencrypt' | 'seal' | 'unseal' | 'import-cloak';
  /** Row store: the sealed columns, comma-separated (`email,ssn`). */
  readonly columns?: string;
  /** Row store: the column holding each row's header. */
  readonly headerColumn?: string;
  /** Row store: `key=column` context bound to another column of the row (repeatable). */
  readonly contextColumn?: readonly string[];
  /** `seal` of documents: the selectors to seal. */
  readonly paths?: readonly string[];
  /** Repeat passes until no plaintext (or, for unseal, ciphertext; for import-cloak, cloak ciphertext) is left. */
  readonly untilClean?: boolean;
  /** The confirmation `--mode unseal` requires. */
  readonly yesWritePlaintext?: boolean;
  /** Where `import-cloak` reads the cloak keys from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly batch?: number;
  readonly concurrency?: number;
  /** Transform in this many worker threads (documents only; the main thread keeps the I/O). Default: none. */
  readonly workers?: number;
  /** A `postgres://` connection string of the job queue (pg-boss): rotate across processes and machines. */
  readonly queue?: string;
  /** With `queue`: `coordinator` enqueues the table's key ranges, `worker` claims and rotates them until none is left. */
  readonly role?: string;
  /** With `queue`: the queue's name. Default `fieldseal-rotate-<table>-<column>`. */
  readonly queueName?: string;
  /** Coordinator: rows per range. Default 10000. */
  readonly rangeSize?: number;
  /** Coordinator: seconds before a range held by a silent worker is handed to another. Default 900. */
  readonly expireSeconds?: number;
  readonly dryRun?: boolean;
  readonly resume?: boolean;
  /** `i/n`. */
  readonly shard?: string;
  readonly json?: boolean;
  /** Checkpoint file; default beside the NDJSON file, or `./fieldseal-rotate-<table>-<column>[-shard-i-of-n].checkpoint.json`. */
  readonly checkpoint?: string;
  /** Stored context pairs every document must have. */
  readonly context?: EncryptionContext;
  /** Context key bound to each record's id (e.g. `rowId`), for documents sealed with the row id as required context. */
  readonly idContext?: string;
  /** `key=field`: context key bound to a top-level plaintext field of each document. */
  readonly fieldContext?: readonly string[];
  /** Stop after this many failures. Default 1000. */
  readonly maxFailures?: number;
  /** Also process documents already wrapped under the target key (reencrypt does by default). */
  readonly all?: boolean;
  /** Stops the run cleanly (tests); Ctrl-C and SIGTERM do the same. */
  readonly signal?: AbortSignal;
  /** Progress line interval when stderr is not a terminal (ms). Default 5000. */
  readonly progressIntervalMs?: number;
}

/** Where the checkpoint goes unless `--checkpoint` says otherwise. */
export function defaultCheckpointPath(options: Pick<RotateCommandOptions, 'store' | 'table' | 'column' | 'shard'>): string {
  const shard = options.shard ? `-shard-${options.shard.replace('/', '-of-')}` : '';
  if (options.store.startsWith('ndjson:')) return `${resolve(options.store.slice('ndjson:'.length))}.fieldseal-rotate.checkpoint.json`;
  const safe = (s: string | undefined) => (s ?? '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return resolve(`fieldseal-rotate-${safe(options.table)}-${safe(options.column)}${shard}.checkpoint.json`);
}
