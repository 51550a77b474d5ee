import { describe, expect, test } from 'vitest';
import { encrypt, LocalKeyring } from '@fieldseal/core';
import { backend, pooledRandomDraws } from '../src/lib/backend/node.js';

// A process or VM snapshot copies the pooled CSPRNG bytes: every clone restored from it hands out the
// same pool. Data keys and message ids must never come from there (issue 23.8); IVs may (ARCHITECTURE.md).
describe('node backend: secrets are drawn unpooled', () => {
  test('randomBytes (data keys, message ids, salts, key ids) never draws from the IV pool', () => {
    const before = pooledRandomDraws();
    const draws = Array.from({ length: 200 }, () => backend.randomBytes(32));
    expect(pooledRandomDraws()).toBe(before);
    expect(new Set(draws.map((d) => Buffer.from(d).toString('hex'))).size).toBe(200);
    for (const d of draws) expect(d.buffer.byteLength).toBe(32);
  });

  test('encrypt with a local keyring takes one pooled draw per field IV and none for the message id, data key or wrap', async () => {
    const keyring = await LocalKeyring.generate();
    const before = pooledRandomDraws();
    await encrypt({ a: 'x', b: 'y', c: 'z' }, { keyring, paths: ['$.a', '$.b', '$.c'] });
    expect(pooledRandomDraws() - before).toBe(3);
  });

  test('sealMany IVs still come from the pool (speed), each one handed out once', async () => {
    const before = pooledRandomDraws();
    const key = backend.randomBytes(32);
    const blobs = await backend.sealMany(key, Array.from({ length: 500 }, () => ({ aad: new Uint8Array(0), plaintext: new Uint8Array(1) })));
    expect(pooledRandomDraws() - before).toBe(500);
    expect(new Set(blobs.map((b) => Buffer.from(b.subarray(0, 12)).toString('hex'))).size).toBe(500);
  });
});
