import { createBranchKey, destroyBranchKey, rewrapBranchKeys, rotateBranchKey, type BranchKeyStore } from '@fieldseal/core';
import type { CommandIo } from '../../io.js';
import { keyringFromSpec } from '../../keyring-spec.js';
import { usage } from '../../exit-error.js';

/** Options of `fieldseal keystore`. */
export interface KeystoreCommandOptions {
  readonly action: string;
  /** `file:branch-keys.json` or `postgres://…`. */
  readonly store: string;
  /** Table of the PostgreSQL store. */
  readonly table?: string;
  /** The key-encryption keyring spec (for rewrap: the current one). */
  readonly kek?: string;
  /** The new key-encryption keyring spec, for rewrap. */
  readonly to?: string;
  readonly id?: string;
  /** Required by shred: the operator confirms that the branch key's data becomes unrecoverable. */
  readonly confirmShred?: boolean;
  readonly json?: boolean;
}

const ACTIONS = ['create', 'rotate', 'rewrap', 'shred', 'list'];

async function openStore(spec: string, table: string | undefined): Promise<{ store: BranchKeyStore; close: () => Promise<void> }> {
  let keystore: typeof import('@fieldseal/keystore');
  try {
    keystore = await import('@fieldseal/keystore');
  } catch {
    throw usage('fieldseal keystore needs the package @fieldseal/keystore: npm install @fieldseal/keystore');
  }
  if (spec.startsWith('file:') && spec.length > 5) return { store: new keystore.FileBranchKeyStore(spec.slice(5)), close: async () => undefined };
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: spec, max: 2 });
    const store = new keystore.PostgresBranchKeyStore({ pool, ...(table !== undefined ? { table } : {}) });
    try {
      await store.migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return { store, close: () => pool.end() };
  }
  throw usage(`--store must be file:PATH or postgres://… (got "${spec}")`);
}

function need(value: string | undefined, flag: string, action: string): string {
  if (value === undefined || value.length === 0) throw usage(`fieldseal keystore ${action} needs ${flag}`);
  return value;
}

/**
 * `fieldseal keystore create|rotate|rewrap|shred|list --store file:F|postgres://… [--kek <spec>] [--id ID]`:
 * administer the branch keys of the hierarchical keyring. Prints one JSON line per result.
 */
export async function keystore(options: KeystoreCommandOptions, io: CommandIo): Promise<void> {
  const { action } = options;
  if (!ACTIONS.includes(action)) throw usage(`fieldseal keystore takes one of ${ACTIONS.join(', ')} (got "${action}")`);
  // Check every flag before touching a key service or the store.
  const id = action === 'create' || action === 'rotate' || action === 'shred' ? need(options.id, '--id', action) : undefined;
  if (action === 'shred' && options.confirmShred !== true) {
    throw usage(`shredding destroys every version of branch key "${id}": every document it protects becomes unrecoverable, backups included. Rerun with --yes-destroy-every-version to confirm`);
  }
  const kekSpec = action === 'create' || action === 'rotate' || action === 'rewrap' ? need(options.kek, '--kek', action) : undefined;
  const toSpec = action === 'rewrap' ? need(options.to, '--to', action) : undefined;
  const kek = kekSpec !== undefined ? await keyringFromSpec(kekSpec) : undefined;
  const to = toSpec !== undefined ? await keyringFromSpec(toSpec) : undefined;
  const { store, close } = await openStore(options.store, options.table);
  const print = (value: unknown) => io.stdout.write(JSON.stringify(value) + '\n');
  try {
    switch (action) {
      case 'create': {
        const r = await createBranchKey({ store, kek: kek!, branchKeyId: id! });
        print({ created: `${r.branchKeyId}/v${r.version}`, wrappedBy: r.wrapped.map((w) => `${w.provider}:${w.keyId}`) });
        break;
      }
      case 'rotate': {
        const r = await rotateBranchKey({ store, kek: kek!, branchKeyId: id! });
        print({ active: `${r.branchKeyId}/v${r.version}` });
        break;
      }
      case 'rewrap': {
        print(await rewrapBranchKeys({ store, from: kek!, to: to! }));
        break;
      }
      case 'shred': {
        const n = await destroyBranchKey({ store, branchKeyId: id! });
        if (n === 0) throw usage(`branch key "${id}" is not in the store (nothing was destroyed)`);
        print({ destroyed: id, versions: n, note: 'processes that cached this branch key keep it until their cacheTtlMs ends' });
        break;
      }
      default:
        for (const r of await store.list()) print({ id: r.branchKeyId, version: r.version, state: r.state, createdAt: r.createdAt, wrappedBy: r.wrapped.map((w) => `${w.provider}:${w.keyId}`) });
    }
  } finally {
    await close();
  }
}
