#!/usr/bin/env node
// sealRows/openRows of 1,000 rows with a CachingKeyring over AwsKmsKeyring (the real
// @aws-sdk/client-kms against the loopback KMS emulator, in this process): how many KMS calls each
// makes, and how long it takes, with a cold cache and a warm one. The row id is bound as context and
// keyrings get the full context, so each row has its own data key: a cold batch of 1,000 rows is
// 1,000 KMS calls (the question behind the proposed DESIGN amendment on per-row data keys).
// The emulator shares this process's CPU, so the times are not a cloud round trip's.
//   node benchmarks/kms-rows.mjs   (after `npm run build`)
import { CachingKeyring, defineRowLayout, openRows, sealRows } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';
const kms = await startAwsKmsEmulator();
try {
  const key = await kms.createKey({ alias: 'alias/rows' });
  const aws = () => new AwsKmsKeyring({ keyIds: [key.arn], region: kms.region, endpoint: kms.url, credentials: kms.credentials, maxAttempts: 1 });
  const users = defineRowLayout({ columns: ['email', 'ssn'], header: 'fieldseal', id: 'id', context: { table: 'users' } });
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, email: `user${i}@example.com`, ssn: `123-45-${1000 + i}`, fieldseal: null }));
  const timed = async (name, fn) => { const before = kms.log.length; const t0 = performance.now(); const r = await fn(); const ms = performance.now() - t0; const ops = {}; for (const c of kms.log.slice(before)) ops[c.operation] = (ops[c.operation] ?? 0) + 1; console.log(`${name.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  KMS calls ${JSON.stringify(ops)}`); return r; };
  const writer = new CachingKeyring({ keyring: aws() });
  const sealed = await timed('sealRows 1,000 (CachingKeyring, cold)', () => sealRows(rows, users, { keyring: writer }));
  await timed('sealRows 1,000 (same CachingKeyring, warm)', () => sealRows(rows, users, { keyring: writer }));
  const reader = new CachingKeyring({ keyring: aws() });
  await timed('openRows 1,000 (CachingKeyring, cold)', () => openRows(sealed, users, { keyring: reader }));
  await timed('openRows 1,000 (same CachingKeyring, warm)', () => openRows(sealed, users, { keyring: reader }));
} finally {
  await kms.close?.();
}
