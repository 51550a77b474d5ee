import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BeaconIndex, BeaconKey, type BeaconNormalizer, type Keyring } from '@fieldseal/core';
// The WebCrypto backend, imported directly: vitest on Node resolves #backend to node:crypto.
import { backend as web } from '../../packages/core/src/lib/backend/web.js';

interface ValidCase {
  description: string;
  result: 'valid';
  rootKey: string;
  keyId: string;
  field: string;
  bits: number;
  normalize: BeaconNormalizer;
  steps: string[];
  input: string;
  normalized: string;
  fieldKey: string;
  hmac: string;
  beacon: string;
}
interface InvalidCase {
  description: string;
  result: 'invalid';
  rootKey: string;
  keyId: string;
  field: string;
  bits: number;
  normalize: BeaconNormalizer;
  input: string;
  code: string;
}
const file = JSON.parse(readFileSync(new URL('./beacons.json', import.meta.url), 'utf8')) as {
  keyChecks: { rootKey: string; id: string; context: Record<string, string>; check: string }[];
  cases: (ValidCase | InvalidCase)[];
};
const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const label = (i: number, c: { description: string }) => `beacons.json case ${i}: ${c.description}`;

function indexFor(c: ValidCase | InvalidCase): BeaconIndex {
  return new BeaconIndex({ keys: BeaconKey.import(bytes(c.rootKey), { id: c.keyId }), fields: { [c.field]: { bits: c.bits, normalize: c.normalize, allowUnsafeLength: true } } });
}

describe('beacon vectors (test/vectors/beacons.json)', () => {
  test('the file has valid and invalid cases', () => {
    expect(file.cases.filter((c) => c.result === 'valid').length).toBeGreaterThanOrEqual(15);
    expect(file.cases.filter((c) => c.result === 'invalid').length).toBeGreaterThanOrEqual(4);
  });

  file.cases.forEach((c, i) => {
    if (c.result === 'valid') {
      test(label(i, c), async () => {
        const index = indexFor(c);
        expect(index.normalize(c.field, c.input), `${label(i, c)}: normalized`).toBe(c.normalized);
        expect(await index.beacon(c.field, c.input), `${label(i, c)}: beacon`).toBe(c.beacon);
        // The same primitives over WebCrypto, as browsers run them.
        const info = new Uint8Array([...new TextEncoder().encode('fieldseal/v1/beacon-field\0'), ...new TextEncoder().encode(c.field)]);
        const fieldKey = await web.hkdfSha256(bytes(c.rootKey), new Uint8Array(0), info, 32);
        expect(hex(fieldKey), `${label(i, c)}: web field key`).toBe(c.fieldKey);
        expect(hex(await web.hmacSha256(fieldKey, new TextEncoder().encode(c.normalized))), `${label(i, c)}: web hmac`).toBe(c.hmac);
      });
    } else {
      test(label(i, c), async () => {
        await expect(indexFor(c).beacon(c.field, c.input), label(i, c)).rejects.toMatchObject({ code: c.code });
      });
    }
  });

  test('key check values', async () => {
    // A pass-through "keyring" just to read the document's check value; it wraps nothing.
    const passThrough: Keyring = {
      wrap: async ({ dataKey }) => ({ dataKey: dataKey!.slice(), wrapped: [{ provider: 'test', keyId: 'plain', ciphertext: new Uint8Array([1]) }] }),
      unwrap: async () => new Uint8Array(32),
    };
    for (const [i, k] of file.keyChecks.entries()) {
      const doc = await BeaconKey.import(bytes(k.rootKey), { id: k.id }).toDocument({ keyring: passThrough, context: k.context });
      expect(hex(web.base64urlDecode(doc.check)!), `beacons.json keyChecks ${i}`).toBe(k.check);
    }
  });
});
