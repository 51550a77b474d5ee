import { describe, expect, test } from 'vitest';
import { LocalKeyring } from '@fieldseal/core';

// Buffer.alloc never uses the shared pool, so the test itself does not put key bytes there.
function keyBytes(base64url: string): Buffer {
  const out = Buffer.alloc(32);
  expect(out.write(base64url, 'base64url')).toBe(32);
  return out;
}

describe('LocalKeyring key material is not left in Node\'s shared Buffer pool (issue 23.6)', () => {
  test('after fromKeyFile, no small Buffer\'s .buffer exposes any key version', async () => {
    const file = (await LocalKeyring.generate()).withNewPrimary().exportKeyFile();
    const text = JSON.stringify(file);
    const keys = file.keys.map((k) => keyBytes(k.key));
    const before = Buffer.allocUnsafe(1);
    const keyring = LocalKeyring.fromKeyFile(text);
    const after = Buffer.allocUnsafe(1);
    // Small Buffers share 8 KiB slabs: anyone holding one can read its neighbours through .buffer.
    const slabs = new Set([before.buffer, after.buffer, Buffer.from('x').buffer]);
    for (const slab of slabs) {
      const view = Buffer.from(slab);
      for (const key of keys) expect(view.indexOf(key)).toBe(-1);
    }
    // And the keyring still works with its own copy.
    const { dataKey, wrapped } = await keyring.wrap({ context: {} });
    expect(await keyring.unwrap({ wrapped, context: {} })).toEqual(dataKey);
  });

  test('the parsed-object form of fromKeyFile leaves nothing in the pool either', async () => {
    const file = (await LocalKeyring.generate()).exportKeyFile();
    const key = keyBytes(file.keys[0]!.key);
    LocalKeyring.fromKeyFile(file);
    expect(Buffer.from(Buffer.allocUnsafe(1).buffer).indexOf(key)).toBe(-1);
  });
});
