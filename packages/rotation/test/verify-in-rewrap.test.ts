import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { defineRowLayout, sealRow, type JsonObject, type Keyring } from '@fieldseal/core';
import { coreRotation, NdjsonStore, rowRotation, runRotation, type StoreRecord } from '@fieldseal/rotation';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';

// Rewrap jobs verify inside core's rewrap (one pass) instead of decrypting the result again. These
// faults pass a rewrap without verification, so they show the one-pass check is still a check.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-rotv-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const contextOf = (_r: unknown, doc: JsonObject) => ({ rowId: String(doc.id) });

/** Wraps like `inner`; unwrap answers a random 32-byte key (a faulty or hostile target). */
function lyingTarget(inner: Keyring): Keyring {
  return { wrap: (request) => inner.wrap(request), unwrap: async () => crypto.getRandomValues(new Uint8Array(32)) };
}

describe('rewrap jobs verify in the same pass', () => {
  test('a rewrap result that differs from the record outside its header is refused: a changed, added, dropped or moved member', async () => {
    const { v1, v2 } = await keyrings();
    const [sealed] = await sealMany(1, v1);
    const record: StoreRecord = { id: '1', text: JSON.stringify(sealed) };
    const job = await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf });
    const original = JSON.parse(record.text) as JsonObject;
    const { document } = await job.transform(JSON.parse(record.text) as JsonObject, record);
    expect(document._fieldseal).not.toBe(original._fieldseal);
    await expect(job.verify!(document, original, record)).resolves.toBeUndefined();
    const { _fieldseal: header, ...rest } = document;
    const faults: JsonObject[] = [
      { ...document, name: 'someone else' },
      { ...document, extra: true },
      { _fieldseal: header!, ...Object.fromEntries(Object.entries(rest).slice(1)) },
      { _fieldseal: header!, ...Object.fromEntries(Object.entries(rest).reverse()) },
      { ...document, cards: [...(document.cards as string[]), 'x'] },
    ];
    for (const fault of faults) await expect(job.verify!(fault, original, record)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_VERIFY' });
  });

  test('NDJSON: a target keyring that unwraps to another data key fails every record with ERR_FIELDSEAL_ROTATION_VERIFY and writes nothing', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    const docs = await sealMany(6, v1);
    const text = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
    await writeFile(path, text);
    const report = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: lyingTarget(v2), context: contextOf })) });
    expect(report).toMatchObject({ scanned: 6, rotated: 0, failed: 6, failedByReason: { ERR_FIELDSEAL_ROTATION_VERIFY: 6 } });
    expect(await readFile(path, 'utf8')).toBe(text);
    // Without verification the same job writes every record: the check above is what stopped it.
    const unchecked = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: lyingTarget(v2), context: contextOf, verify: false })) });
    expect(unchecked.rotated).toBe(6);
  });

  test('NDJSON: a record whose field ciphertext was changed fails verification; the others rotate and open', async () => {
    const { v1, v2 } = await keyrings();
    const path = join(dir, 'data.ndjson');
    const docs = await sealMany(3, v1);
    const ssn = docs[1]!.ssn as string;
    // One character in the middle: still canonical base64url, so the tag, not the decoder, refuses it.
    docs[1] = { ...docs[1]!, ssn: ssn.slice(0, -10) + (ssn.at(-10) === 'A' ? 'B' : 'A') + ssn.slice(-9) };
    await writeFile(path, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const report = await runRotation({ store: new NdjsonStore({ path }), ...(await coreRotation({ mode: 'rewrap', keyring: v2, to: v2, context: contextOf })) });
    expect(report).toMatchObject({ rotated: 2, failed: 1, failedByReason: { ERR_FIELDSEAL_ROTATION_VERIFY: 1 } });
    const out = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    expect(out[1]).toEqual(docs[1]);
    for (const i of [0, 2]) expect(await openRecord(out[i]!, i + 1, v2)).toEqual(plainRecord(i + 1));
  });

  test('rows: a lying target is refused by the row job too, by its verifier (the one opening of the new row)', async () => {
    const { v1, v2 } = await keyrings();
    const layout = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id' });
    const row = await sealRow({ id: '1', email: 'a@example.com', ssn: '078-05-1120', fieldseal: null }, layout, { keyring: v1 });
    const record: StoreRecord = { id: '1', text: JSON.stringify(row) };
    const bad = await rowRotation({ mode: 'rewrap', layout, keyring: v2, to: lyingTarget(v2) });
    const lied = await bad.transform(structuredClone(row) as JsonObject, record);
    expect(lied.changed).toBe(true);
    await expect(bad.verify!(lied.document, row as JsonObject, record)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_VERIFY' });
    // Without verification the job has no verifier: the check above is what stops the write.
    expect((await rowRotation({ mode: 'rewrap', layout, keyring: v2, to: lyingTarget(v2), verify: false })).verify).toBeUndefined();
    const good = await rowRotation({ mode: 'rewrap', layout, keyring: v2, to: v2 });
    const result = await good.transform(structuredClone(row) as JsonObject, record);
    expect(result.changed).toBe(true);
    await good.verify!(result.document, row as JsonObject, record);
    // The verifier still refuses a rotated row whose ciphertext differs from the original's.
    await expect(good.verify!({ ...result.document, ssn: row.email } as JsonObject, row as JsonObject, record)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_ROTATION_VERIFY' });
  });
});
