import { describe, expect, test } from 'vitest';
import { decrypt, inspect, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { encryptWith } from '../../core/src/encrypt.js';
import { SUITE_V1 } from '../../core/src/lib/format/constants.js';
import { backend } from '../../core/src/lib/backend/node.js';
import { coreRotation } from '../src/index.js';

// Suite 2 (docs/FORMAT.md §5.1) reaches stored documents by re-encryption; a re-encryption job that
// skips "current" documents must not count a suite 1 document under the target's key as current.
describe('a reencrypt job moves suite 1 documents to the current suite', () => {
  const record: JsonObject = { id: 1, ssn: '078-05-1120' };

  test('skipCurrent skips suite 2 documents under the target, never suite 1 ones', async () => {
    const keyring = await LocalKeyring.generate({ name: 'main' });
    const legacy = await encryptWith(backend, record, { keyring, paths: ['$.ssn'] }, SUITE_V1);
    const current = await encryptWith(backend, record, { keyring, paths: ['$.ssn'] });
    const reencrypting = await coreRotation({ mode: 'reencrypt', keyring, to: keyring, skipCurrent: true });
    expect(reencrypting.needsRotation!(legacy, { id: '1', document: legacy } as never)).toBe(true);
    expect(reencrypting.needsRotation!(current, { id: '1', document: current } as never)).toBe(false);
    const { document: upgraded, changed } = await reencrypting.transform(legacy, { id: '1', document: legacy } as never);
    expect(changed).toBe(true);
    expect(inspect(upgraded).suite.id).toBe(2);
    await reencrypting.verify!(upgraded, legacy, { id: '1', document: legacy } as never);
    expect(await decrypt(upgraded, { keyring, minSuite: 2 })).toEqual(record);

    // Rewrap cannot change a suite, so for it a suite 1 document under the target is current.
    const rewrapping = await coreRotation({ mode: 'rewrap', keyring, to: keyring });
    expect(rewrapping.needsRotation!(legacy, { id: '1', document: legacy } as never)).toBe(false);
  });
});
