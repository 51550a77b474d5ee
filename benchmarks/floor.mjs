#!/usr/bin/env node
// What W1 would cost if fieldseal did nothing but its mandatory cryptography. Encrypt: one
// HKDF-SHA256 per document, eight AES-256-GCM seals with pooled IVs, one HMAC-SHA256 over a
// header-sized input. Decrypt: one HKDF, one HMAC, eight base64url decodes and AES-256-GCM opens.
// Compares each floor with (a) in CPU time (best of 30 alternating batches).
//   node benchmarks/floor.mjs
// Not a fieldseal implementation: it skips binding, validation, the header and the cache on purpose.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import { customerPii, customerRecord } from './lib/data.mjs';
import { baseline } from './lib/subjects.mjs';

const record = customerRecord();
const a = baseline({ shape: 'customer', record });
const dek = randomBytes(32);
const info = Buffer.from('fieldseal/v1/keys\0\x01\x07default');
const aad = randomBytes(140);
const pool = Buffer.alloc(4096);
let offset = pool.length;
const takeIv = () => {
  if (offset + 12 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const iv = Buffer.from(pool.subarray(offset, offset + 12));
  offset += 12;
  return iv;
};
const values = customerPii(record).map((v) => Buffer.from(v));

async function floor(messageId = randomBytes(32)) {
  const okm = Buffer.from(hkdfSync('sha256', dek, messageId, info, 96));
  const key = okm.subarray(0, 32);
  const out = [];
  for (const v of values) {
    const iv = takeIv();
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    out.push(Buffer.concat([iv, c.update(v), c.final(), c.getAuthTag()]).toString('base64url'));
  }
  createHmac('sha256', okm.subarray(32, 64)).update(aad).update(aad).digest();
  return out;
}

// Decrypt opens values sealed under one message id; randomBytes(32) stands in for reading it.
const sampleId = randomBytes(32);
const sealedValues = await floor(sampleId);

async function floorDecrypt() {
  const messageId = Buffer.from(sampleId);
  const okm = Buffer.from(hkdfSync('sha256', dek, messageId, info, 96));
  createHmac('sha256', okm.subarray(32, 64)).update(aad).update(aad).digest();
  const key = okm.subarray(0, 32);
  const out = [];
  for (const s of sealedValues) {
    const blob = Buffer.from(s, 'base64url');
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(blob.subarray(blob.length - 16));
    out.push(d.update(blob.subarray(12, blob.length - 16), undefined, 'utf8') + d.final('utf8'));
  }
  return out;
}

async function cpuPerOp(fn, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

for (const [op, mine] of [
  ['encrypt', () => floor()],
  ['decrypt', floorDecrypt],
]) {
  const aTimes = [];
  const fTimes = [];
  for (let b = 0; b < 31; b++) {
    aTimes.push(await cpuPerOp(a[op], 300));
    fTimes.push(await cpuPerOp(mine, 300));
  }
  const bestA = Math.min(...aTimes.slice(1));
  const bestF = Math.min(...fTimes.slice(1));
  console.log(`${op}: best batch CPU per op: (a) ${bestA.toFixed(1)} µs, mandatory-crypto floor ${bestF.toFixed(1)} µs; floor ratio to (a) ${(bestA / bestF).toFixed(3)}`);
}
