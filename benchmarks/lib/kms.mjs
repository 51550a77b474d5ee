// W4: fieldseal over the AWS KMS emulator (real @aws-sdk/client-kms, SigV4, loopback HTTP), with
// and without CachingKeyring. Counts KMS requests from the emulator's own log, so a call the cache
// should have saved cannot hide.
//
// The emulator runs in this process: its request handling shares the CPU with the client, so the
// uncached numbers measure client + emulator, not a network round trip to real KMS (which adds
// ~5–20 ms per call; see BENCHMARKS.md).
import { CachingKeyring, decrypt as fsDecrypt, encrypt as fsEncrypt } from '@fieldseal/core';
import { CONTEXT, CUSTOMER_PATHS, customerRecord } from './data.mjs';
import { baseline } from './subjects.mjs';

/** Run `op(i)` sequentially or with `concurrency` workers until `count` ops and `timeMs` have both passed. */
async function drive(op, { count, timeMs, concurrency }) {
  let next = 0;
  const start = performance.now();
  const deadline = start + timeMs;
  const worker = async () => {
    while (next < count || performance.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  return { ops: next, elapsedMs, opsPerSec: (next * 1000) / elapsedMs };
}

function counted(kms, fn) {
  return async () => {
    const before = kms.log.length;
    const r = await fn();
    const calls = kms.log.slice(before);
    const byOperation = {};
    for (const c of calls) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    return { ...r, kmsCalls: calls.length, byOperation, failed: calls.filter((c) => c.status !== 200).length };
  };
}

export async function measureKms(opts, log) {
  let emulators;
  let awsKms;
  try {
    emulators = await import('@fieldseal/emulators');
    awsKms = await import('@fieldseal/aws-kms');
  } catch (err) {
    return { skipped: `the AWS KMS emulator or @fieldseal/aws-kms is not available: ${err.message}` };
  }
  const kms = await emulators.startAwsKmsEmulator();
  try {
    const key = await kms.createKey({ alias: 'alias/fieldseal-bench' });
    const awsKeyring = () => new awsKms.AwsKmsKeyring({ keyIds: [key.arn], region: kms.region, endpoint: kms.url, credentials: kms.credentials, maxAttempts: 1 });
    const records = Array.from({ length: 64 }, (_, i) => customerRecord(i));
    const seal = (kr, i) => fsEncrypt(records[i % records.length], { keyring: kr, paths: CUSTOMER_PATHS, context: CONTEXT });
    const count = opts.kmsRecords;
    const timeMs = opts.kmsTimeMs;

    // (a) in the same loop shape, for a ratio.
    const a = baseline({ shape: 'customer', record: records[0] });
    await drive(() => a.encrypt(), { count: 200, timeMs: 50, concurrency: 1 });
    const aEncrypt = await drive(() => a.encrypt(), { count, timeMs, concurrency: 1 });
    const aDecrypt = await drive(() => a.decrypt(), { count, timeMs, concurrency: 1 });

    // Cached, sequential: KMS calls per 1,000 records with CachingKeyring defaults.
    log('W4: CachingKeyring, sequential');
    const cachedEnc = new CachingKeyring({ keyring: awsKeyring() });
    const sealedCached = [];
    const encCached = await counted(kms, () =>
      drive(
        async (i) => {
          const s = await seal(cachedEnc, i);
          if (sealedCached.length < count) sealedCached.push(s);
        },
        { count, timeMs, concurrency: 1 },
      ),
    )();
    // Decrypt with a cold decrypt cache (a separate reader process, say).
    const cachedDec = new CachingKeyring({ keyring: awsKeyring() });
    const decCached = await counted(kms, () => drive((i) => fsDecrypt(sealedCached[i % sealedCached.length], { keyring: cachedDec, context: CONTEXT }), { count, timeMs, concurrency: 1 }))();

    // 64 concurrent encrypts on a cold cache.
    const cold = new CachingKeyring({ keyring: awsKeyring() });
    const coldConcurrent = await counted(kms, async () => {
      await Promise.all(Array.from({ length: 64 }, (_, i) => seal(cold, i)));
      return { ops: 64 };
    })();

    // No cache: every record is a GenerateDataKey / Decrypt round trip; concurrency hides latency.
    const uncached = [];
    const sealedDirect = [];
    const direct = awsKeyring();
    for (let i = 0; i < 64; i++) sealedDirect.push(await seal(direct, i));
    for (const concurrency of [1, opts.kmsConcurrency]) {
      log(`W4: no cache, concurrency ${concurrency}`);
      const enc = await counted(kms, () => drive((i) => seal(direct, i), { count: 0, timeMs, concurrency }))();
      const dec = await counted(kms, () => drive((i) => fsDecrypt(sealedDirect[i % 64], { keyring: direct, context: CONTEXT }), { count: 0, timeMs, concurrency }))();
      uncached.push({
        concurrency,
        encrypt: { ...enc, kmsCallsPer1000: (enc.kmsCalls * 1000) / enc.ops, ratio: enc.opsPerSec / aEncrypt.opsPerSec },
        decrypt: { ...dec, kmsCallsPer1000: (dec.kmsCalls * 1000) / dec.ops, ratio: dec.opsPerSec / aDecrypt.opsPerSec },
      });
    }
    return {
      note: 'AWS KMS emulator in-process over loopback HTTP with SigV4; real @aws-sdk/client-kms. Records/s is wall-clock over a sequential (or N-worker) loop; ratios are to (a) timed in the same loop shape just before.',
      baseline: { encrypt: aEncrypt, decrypt: aDecrypt },
      cached: {
        encrypt: { ...encCached, ratio: encCached.opsPerSec / aEncrypt.opsPerSec },
        decrypt: { ...decCached, ratio: decCached.opsPerSec / aDecrypt.opsPerSec },
        encryptKmsCallsPer1000: (encCached.kmsCalls * 1000) / encCached.ops,
        decryptKmsCallsPer1000: (decCached.kmsCalls * 1000) / decCached.ops,
        stats: { encrypt: cachedEnc.stats().wrap, decrypt: cachedDec.stats().unwrap },
      },
      coldConcurrent,
      uncached,
    };
  } finally {
    await kms.close();
  }
}
