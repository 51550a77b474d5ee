import { describe, expect, test } from 'vitest';
import { LocalKeyring, encrypt, type Keyring, type WrapRequest } from '@fieldseal/core';

// Core hands keyrings a lazily made AbortSignal; a LocalKeyring (registered as signal-free: its
// work is microseconds in this thread) gets none, every other keyring still does.
describe('the signal a keyring call carries', () => {
  test('an exact LocalKeyring gets no signal; a keyring wrapping one gets a working signal', async () => {
    const local = await LocalKeyring.generate({ name: 'k' });
    const requests: WrapRequest[] = [];
    const original = LocalKeyring.prototype.wrap;
    LocalKeyring.prototype.wrap = function (this: LocalKeyring, r: WrapRequest) {
      requests.push(r);
      return original.call(this, r);
    };
    try {
      await encrypt({ a: '1' }, { keyring: local, paths: ['$.a'] });
      expect(Object.getOwnPropertyDescriptor(requests[0]!, 'signal')).toBeUndefined();
      const seen: (AbortSignal | undefined)[] = [];
      const outer: Keyring = { wrap: (r) => (seen.push(r.signal), local.wrap(r)), unwrap: (r) => local.unwrap(r) };
      await encrypt({ a: '1' }, { keyring: outer, paths: ['$.a'] });
      expect(seen[0]).toBeInstanceOf(AbortSignal);
      expect(seen[0]!.aborted).toBe(false);
    } finally {
      LocalKeyring.prototype.wrap = original;
    }
  });
});
