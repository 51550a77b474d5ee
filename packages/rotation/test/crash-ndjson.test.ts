import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inspect, LocalKeyring, type JsonObject, type LocalKeyFile } from '@fieldseal/core';
import { runChild, type ChildRun } from './helpers/child.js';
import { keyrings, openRecord, plainRecord, sealMany } from './helpers/data.js';

const CHILD = new URL('./fixtures/rotate-child.mjs', import.meta.url).pathname;
const RECORDS = 200;
const BATCH = 20;
const RUNS = 3;
const KILLS_PER_RUN = 2;

let dir: string;
let keys: { v1: LocalKeyring; v2: LocalKeyring };
let sealed: JsonObject[];

beforeAll(async () => {
  // dist/ is built once for the whole suite by test/setup/build.mjs (vitest globalSetup).
  dir = await mkdtemp(join(tmpdir(), 'fieldseal-crash-'));
  keys = await keyrings();
  sealed = await sealMany(RECORDS, keys.v1);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A keyring holding only the new version: proves every record was rewrapped, not just still openable with v1. */
function onlyNewest(k: LocalKeyring): LocalKeyring {
  const file = k.exportKeyFile();
  return LocalKeyring.fromKeyFile({ ...file, keys: file.keys.filter((e) => e.version === file.primary) } as LocalKeyFile);
}

/** Kill the child at random points KILLS_PER_RUN times, then let it finish; return every run. */
async function killThenFinish(env: Record<string, string>): Promise<ChildRun[]> {
  const runs: ChildRun[] = [];
  for (let k = 0; k < KILLS_PER_RUN; k++) {
    const afterProgress = Math.floor(Math.random() * (RECORDS / BATCH / KILLS_PER_RUN + 1));
    runs.push(await runChild(CHILD, env, { afterProgress, extraDelayMs: Math.floor(Math.random() * 40) }));
  }
  let last: ChildRun;
  let guard = 0;
  do {
    last = await runChild(CHILD, env);
    runs.push(last);
  } while (last.report === undefined && ++guard < 3);
  return runs;
}

describe('crash safety: SIGKILL at random points, then resume', () => {
  for (let run = 1; run <= RUNS; run++) {
    test(`NDJSON run ${run}: nothing lost, duplicated or left under the old key`, async () => {
      const { v2 } = keys;
      const path = join(dir, `data-${run}.ndjson`);
      const keyFile = join(dir, `keys-${run}.json`);
      await writeFile(keyFile, JSON.stringify(v2.exportKeyFile()), { mode: 0o600 });
      await writeFile(path, sealed.map((d) => JSON.stringify(d)).join('\n') + '\n');
      const env = { FIELDSEAL_ROTATE_CHILD: JSON.stringify({ kind: 'ndjson', path, keyFile, checkpoint: `${path}.checkpoint.json`, batchSize: BATCH }) };
      const runs = await killThenFinish(env);
      const final = runs.at(-1)!;
      expect(final.report, final.stderr).toMatchObject({ complete: true, failed: 0 });
      expect(runs.filter((r) => r.killed).length).toBeGreaterThan(0);

      const docs = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonObject);
      expect(docs.map((d) => d.id)).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
      const newest = onlyNewest(v2);
      for (const d of docs) {
        expect(inspect(d).groups[0]!.wrappedKeys).toEqual([{ provider: 'local', keyId: keys.v2.keyIds[0] }]);
        expect(await openRecord(d, d.id as number, newest)).toEqual(plainRecord(d.id as number));
      }
      await expect(stat(`${path}.fieldseal-rotate.tmp`)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(`${path}.checkpoint.json`)).rejects.toMatchObject({ code: 'ENOENT' });
    }, 60_000);
  }

});
