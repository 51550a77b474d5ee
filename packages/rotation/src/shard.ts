import { InvalidArgumentError } from '@fieldseal/core';
import type { Shard } from './store.js';

/**
 * Parses `i/n` (for example `--shard 1/3`) into a {@link Shard}.
 *
 * @param text `index/count`, zero-based index, `0 <= index < count <= 65536`.
 * @returns The shard.
 * @throws {InvalidArgumentError} `ERR_FIELDSEAL_INVALID_ARGUMENT` when the text is not of that form.
 */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(String(text).trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 65536 || index >= count) {
    throw new InvalidArgumentError(`shard must look like i/n with 0 <= i < n <= 65536 (e.g. 0/3, 1/3, 2/3), got ${JSON.stringify(String(text).slice(0, 20))}`);
  }
  return { index, count };
}

/**
 * The shard an id belongs to among `count` shards: FNV-1a (32-bit) over the id's UTF-8 bytes,
 * modulo `count`. Stable across processes, machines and versions, so N workers given `0/N` ...
 * `N-1/N` partition the ids with no overlap and no gap.
 *
 * @param id A record id.
 * @param count Number of shards.
 * @returns The shard index of `id`.
 */
export function shardOf(id: string, count: number): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(id, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}

/**
 * Whether a record id belongs to a shard (always true without a shard).
 *
 * @param id A record id.
 * @param shard The shard, or `undefined` for "all records".
 * @returns True when `id` falls in `shard`.
 */
export function inShard(id: string, shard: Shard | undefined): boolean {
  return shard === undefined || shard.count === 1 || shardOf(id, shard.count) === shard.index;
}

/** `i/n`, for messages and checkpoints. */
export function formatShard(shard: Shard | undefined): string | null {
  return shard === undefined ? null : `${shard.index}/${shard.count}`;
}
