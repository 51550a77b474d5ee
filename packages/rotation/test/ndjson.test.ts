import { mkdtemp, readFile, rm, stat, writeFile, chmod, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { inspect, type JsonObject } from '@fieldseal/core';
import { coreRotation, FileCheckpointStore, NdjsonStore, runRotation, type RotationProgress, type Store } from '@fieldseal/rotation';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-rot-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const contextOf = (_r: unknown, doc: JsonObject) => ({ rowId: String(doc.id) });

async function writeNdjson(path: string, docs: readonly JsonObject[]): Promise<void> {
  await writeFile(path, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
}

async function readNdjson(path: string): Promise<JsonObject[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonObject);
}

describe('NDJSON store', () => {
  test('rewraps every record to the new primary; every record opens with it and equals its plaintext; only headers change', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    const docs = await sealMany(57, v1);
    await writeNdjson(path, docs);
    const progress: RotationProgress[] = [];
    const report = await runRotation({
      store: new NdjsonStore({ path }),
      ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })),
      checkpoint: new FileCheckpointStore(`${path}.checkpoint.json`),
      batchSize: 10,
      concurrency: 4,
      onProgress: (p) => progress.push(structuredClone(p)),
    });
    expect(report).toMatchObject({ scanned: 57, rotated: 57, skipped: 0, failed: 0, conflicts: 0, complete: true, mode: 'rewrap' });
    expect(report.bySourceKey).toEqual({ [`local:${v1.keyIds[0]}`]: { scanned: 57, rotated: 57, skipped: 0, conflicts: 0, failed: 0 } });
    expect(progress).toHaveLength(6);
    expect(progress.at(-1)!.fraction).toBe(1);
    const after = await readNdjson(path);
    expect(after).toHaveLength(57);
    for (let i = 0; i < 57; i++) {
      expect(inspect(after[i]!).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: v2.keyIds[0] }]);
      const { _fieldseal: a, ...restAfter } = after[i]!;
      const { _fieldseal: b, ...restBefore } = docs[i]!;
      expect(restAfter).toEqual(restBefore);
      expect(a).not.toBe(b);
      expect(await openRecord(after[i]!, i + 1, v2)).toEqual(plainRecord(i + 1));
    }
    await expect(stat(`${path}.checkpoint.json`)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(`${path}.fieldseal-rotate.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });

    // A second run finds nothing to do and uses no key for it.
    const again = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })) });
    expect(again).toMatchObject({ scanned: 57, rotated: 0, skipped: 57, skippedByReason: { 'already-current': 57 } });
  });

  test('a transform that changes the document it is given cannot change what verify compares against', async () => {
    const { v1 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(3, v1));
    const originals: JsonObject[] = [];
    const report = await runRotation({
      store: new NdjsonStore({ path }),
      // A careless transform: it edits its argument in place and returns it.
      transform: async (document) => {
        document.name = 'changed in place';
        return { document, changed: true };
      },
      verify: async (rotated, original) => {
        originals.push(original);
        if (rotated === original) throw new Error('the transform was given the original itself');
      },
    });
    expect(report.rotated).toBe(3);
    expect(originals).toHaveLength(3);
    for (const o of originals) expect(o.name).not.toBe('changed in place');
    for (const d of await readNdjson(path)) expect(d.name).toBe('changed in place');
  });

  test('dry run writes nothing and reports what would change', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    const docs = await sealMany(12, v1);
    docs.push(...(await sealMany(3, v2, 13)));
    await writeNdjson(path, docs);
    const before = await readFile(path);
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    const report = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })), checkpoint, dryRun: true, batchSize: 4 });
    expect(report).toMatchObject({ dryRun: true, scanned: 15, rotated: 12, skipped: 3, complete: true });
    expect(report.bySourceKey[`local:${v1.keyIds[0]}`]!.rotated).toBe(12);
    expect(report.bySourceKey[`local:${v2.keyIds[0]}`]!.skipped).toBe(3);
    expect((await readFile(path)).equals(before)).toBe(true);
    await expect(stat(`${path}.fieldseal-rotate.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await checkpoint.load()).toBeUndefined();
  });

  test('records that cannot be rotated are left byte-for-byte, counted by reason, and the rest still rotate; blank lines and file mode survive', async () => {
    const { v1, v2 } = await keyrings();
    const stranger = (await keyrings()).v1;
    const path = join(dir, 'data.ndjson');
    const good = await sealMany(5, v1);
    const foreign = (await sealMany(1, stranger, 6))[0]!;
    const tampered = structuredClone((await sealMany(1, v1, 7))[0]!);
    const ssn = tampered.ssn as string;
    // One character in the middle: still canonical base64url, so the tag, not the decoder, refuses it.
    tampered.ssn = ssn.slice(0, -10) + (ssn.at(-10) === 'A' ? 'B' : 'A') + ssn.slice(-9);
    const lines = [JSON.stringify(good[0]), '', JSON.stringify(good[1]), 'not json {', JSON.stringify({ plain: 'no header' }), JSON.stringify(foreign), JSON.stringify(tampered), JSON.stringify(good[2]), JSON.stringify(good[3]), JSON.stringify(good[4])];
    await writeFile(path, lines.join('\n')); // no trailing newline
    await chmod(path, 0o640);
    const report = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })), batchSize: 3 });
    expect(report).toMatchObject({ scanned: 9, rotated: 5, failed: 4 });
    expect(report.failedByReason).toEqual({ ERR_FIELDSEAL_MALFORMED: 1, ERR_FIELDSEAL_INCOMPLETE: 1, ERR_FIELDSEAL_KEY_UNAVAILABLE: 1, ERR_FIELDSEAL_ROTATION_VERIFY: 1 });
    expect(report.failedRecords.map((f) => f.id)).toEqual(['4', '5', '6', '7']);
    const out = (await readFile(path, 'utf8')).split('\n');
    expect(out).toHaveLength(lines.length);
    expect(out[1]).toBe('');
    for (const i of [3, 4, 5, 6]) expect(out[i]).toBe(lines[i]);
    expect(await openRecord(JSON.parse(out[9]!) as JsonObject, 5, v2)).toEqual(plainRecord(5));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    // The report names ids and codes only.
    expect(JSON.stringify(report)).not.toContain('customer');
  });

  test('trailing blank lines survive when the record count is a multiple of the batch size (output line N = input line N)', async () => {
    const { v1, v2 } = await keyrings();
    const docs = (await sealMany(6, v1)).map((d) => JSON.stringify(d));
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const cases: [string, string][] = [
      ['blank lines with newlines', docs.join('\n') + '\n\n\n'],
      ['a last blank line without a newline', docs.join('\n') + '\n\n  '],
      ['blank lines between batches and at the end', [...docs.slice(0, 3), '', ' ', ...docs.slice(3), '', ''].join('\n') + '\n'],
      ['only blank lines', '\n \n\n'],
    ];
    for (const [name, text] of cases) {
      for (const batchSize of [3, 6]) {
        const path = join(dir, `trailing-${batchSize}.ndjson`);
        await writeFile(path, text);
        const report = await runRotation({ store: new NdjsonStore({ path }), ...job, batchSize });
        expect(report.complete, name).toBe(true);
        const before = text.split('\n');
        const after = (await readFile(path, 'utf8')).split('\n');
        expect(after.length, `${name}, batch ${batchSize}`).toBe(before.length);
        for (let i = 0; i < before.length; i++) {
          if (before[i]!.trim() === '') expect(after[i], `${name}, batch ${batchSize}, line ${i + 1}`).toBe(before[i]);
          else expect(inspect(JSON.parse(after[i]!) as JsonObject).groups[0]!.wrappedKeys[0]!.keyId, `${name}, line ${i + 1}`).toBe(v2.keyIds[0]);
        }
      }
    }
  });

  test('an abort stops after the current batch; without resume the checkpoint blocks; resume finishes with nothing lost', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(40, v1));
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const abort = new AbortController();
    const first = await runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint, batchSize: 7, onProgress: (p) => p.counts.scanned >= 14 && abort.abort(), signal: abort.signal });
    expect(first).toMatchObject({ complete: false, stopReason: 'aborted', scanned: 14, rotated: 14, checkpoint: checkpoint.location });
    // The original file is untouched until the end.
    expect((await readNdjson(path)).every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === v1.keyIds[0])).toBe(true);
    await expect(runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_CHECKPOINT' });
    const second = await runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint, resume: true, batchSize: 7 });
    expect(second).toMatchObject({ complete: true, resumed: true, scanned: 40, rotated: 40 });
    const after = await readNdjson(path);
    expect(after.map((d) => d.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const [i, d] of after.entries()) expect(await openRecord(d, i + 1, v2)).toEqual(plainRecord(i + 1));
  });

  test('a file changed during an interrupted run is not resumed over, and a checkpoint of another job is refused', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(20, v1));
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const abort = new AbortController();
    await runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint, batchSize: 5, onProgress: () => abort.abort(), signal: abort.signal });
    await expect(runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'reencrypt', keyring: v2, to: v2, context: contextOf })), checkpoint, resume: true })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_CHECKPOINT' });
    const extra = (await sealMany(1, v1, 21))[0]!;
    await appendFile(path, JSON.stringify(extra) + '\n');
    await expect(runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint, resume: true })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_STORE_CHANGED' });
    expect(await readNdjson(path)).toHaveLength(21);
  });

  test('reencrypt gives fresh message ids and field ciphertexts, and the same plaintext', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    const docs = await sealMany(6, v1);
    await writeNdjson(path, docs);
    const report = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'reencrypt', keyring: v2, to: v2, context: contextOf })) });
    expect(report).toMatchObject({ scanned: 6, rotated: 6, mode: 'reencrypt' });
    const after = await readNdjson(path);
    for (const [i, d] of after.entries()) {
      expect(inspect(d).messageId).not.toBe(inspect(docs[i]!).messageId);
      expect(d.ssn).not.toBe(docs[i]!.ssn);
      expect(await openRecord(d, i + 1, v2)).toEqual(plainRecord(i + 1));
    }
  });

  test('sharding an NDJSON file is refused with a typed error', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(2, v1));
    await expect(runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })), shard: { index: 0, count: 2 } })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
  });

  test('a second run on the same file is refused while the first holds the lock; a crashed holder\'s lock is taken over', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(5, v1));
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const lock = `${path}.fieldseal-rotate.lock`;
    // A live process on this host (the test runner's parent) holds it.
    await writeFile(lock, JSON.stringify({ pid: process.ppid, host: hostname() }));
    await expect(runRotation({ store: new NdjsonStore({ path }), ...job })).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_STORE_CHANGED', message: expect.stringContaining('another rotation') });
    expect(await readFile(lock, 'utf8')).toContain(String(process.ppid));
    // A process that has exited holds it: stale, taken over, and released at the end.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, JSON.stringify({ pid: dead, host: hostname() }));
    expect(await runRotation({ store: new NdjsonStore({ path }), ...job })).toMatchObject({ rotated: 5, complete: true });
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('a crash between the last batch and the file swap is finished by resume', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    await writeNdjson(path, await sealMany(9, v1));
    const checkpoint = new FileCheckpointStore(`${path}.checkpoint.json`);
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const inner = new NdjsonStore({ path });
    const crashing: Store = { description: inner.description, open: (o) => inner.open(o), next: (n) => inner.next(n), commit: (i) => inner.commit(i), complete: () => Promise.reject(new Error('simulated crash before the rename')), close: () => inner.close() };
    await expect(runRotation({ store: crashing, ...job, checkpoint, batchSize: 4 })).rejects.toThrow('simulated crash');
    expect((await checkpoint.load())?.finished).toBe(true);
    expect((await readNdjson(path)).every((d) => inspect(d).groups[0]!.wrappedKeys[0]!.keyId === v1.keyIds[0])).toBe(true);
    const report = await runRotation({ store: new NdjsonStore({ path }), ...job, checkpoint, resume: true });
    expect(report).toMatchObject({ complete: true, resumed: true, scanned: 9, rotated: 9 });
    const after = await readNdjson(path);
    expect(after).toHaveLength(9);
    for (const [i, d] of after.entries()) expect(await openRecord(d, i + 1, v2)).toEqual(plainRecord(i + 1));
    // Resuming once more after the swap finds nothing left to do.
    expect(await checkpoint.load()).toBeUndefined();
  });
});
