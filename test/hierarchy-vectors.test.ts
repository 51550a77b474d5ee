import { createDecipheriv, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { branchKeyContext, decrypt, HierarchicalKeyring, LocalKeyring, MemoryBranchKeyStore, type JsonObject } from '@fieldseal/core';
import { decodeHeader } from '../packages/core/src/lib/format/header.js';
import { DEFAULT_LIMITS } from '../packages/core/src/lib/limits.js';
import { encodeContext } from '@fieldseal/core';
import { nodeBackend } from '../packages/core/test/helpers/backends.js';

interface HierarchyCase { id: number; branchKeyId: string; version: number; branchKey: string; dataKey: string; plaintext: JsonObject; decryptContext: Record<string, string>; sealed: JsonObject }
const vectors = JSON.parse(readFileSync(new URL('./vectors/hierarchy-v1.json', import.meta.url), 'utf8')) as { cases: HierarchyCase[] };

/** The unwrap of FORMAT.md §10, written with node:crypto only. */
function unwrapPerSpec(c: HierarchyCase, ciphertext: Uint8Array): Buffer {
  const id = Buffer.from(c.branchKeyId, 'utf8');
  const idAndVersion = (label: string) => Buffer.concat([Buffer.from(label, 'latin1'), Buffer.from([id.length >> 8, id.length & 255]), id, Buffer.from([c.version >>> 24, (c.version >>> 16) & 255, (c.version >>> 8) & 255, c.version & 255])]);
  const salt = ciphertext.subarray(0, 16);
  const iv = ciphertext.subarray(16, 28);
  const body = ciphertext.subarray(28, 60);
  const tag = ciphertext.subarray(60, 76);
  const kWrap = Buffer.from(hkdfSync('sha256', Buffer.from(c.branchKey, 'hex'), salt, idAndVersion('fieldseal/v1/hierarchy\0'), 32));
  const decipher = createDecipheriv('aes-256-gcm', kWrap, iv);
  decipher.setAAD(Buffer.concat([idAndVersion('fieldseal/v1/hierarchy-wrap\0'), encodeContext(c.decryptContext)]));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

describe('hierarchy vectors (FORMAT.md §10)', () => {
  for (const c of vectors.cases) {
    test(`case ${c.id}: the spec's unwrap gives the recorded data key, and the library opens the document`, async () => {
      const header = decodeHeader(nodeBackend, c.sealed._fieldseal, DEFAULT_LIMITS);
      const w = header.groups[0]!.wrapped[0]!;
      expect(w.provider).toBe('fieldseal-hierarchy');
      expect(w.keyId).toBe(`${c.branchKeyId}/v${c.version}`);
      expect(w.ciphertext.length).toBe(76);
      expect(unwrapPerSpec(c, w.ciphertext).toString('hex')).toBe(c.dataKey);
      // A flipped bit anywhere in the wrapped key fails the spec's unwrap.
      const flipped = w.ciphertext.slice();
      flipped[40]! ^= 1;
      expect(() => unwrapPerSpec(c, flipped)).toThrow();

      const kek = await LocalKeyring.generate({ name: 'test-kek' });
      const store = new MemoryBranchKeyStore();
      const { wrapped } = await kek.wrap({ dataKey: new Uint8Array(Buffer.from(c.branchKey, 'hex')), context: branchKeyContext(c.branchKeyId, c.version) });
      await store.putVersion({ branchKeyId: c.branchKeyId, version: c.version, state: 'active', createdAt: '2026-01-01T00:00:00.000Z', wrapped }, undefined);
      const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' } });
      expect(await decrypt(c.sealed, { keyring, context: c.decryptContext })).toEqual(c.plaintext);
    });
  }
});
