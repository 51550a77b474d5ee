import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('CommonJS require("@fieldseal/core") works on this Node (>= 20.19, require(esm)) and round-trips', () => {
  const script = `
    const core = require('@fieldseal/core');
    const errors = require('@fieldseal/core/errors');
    (async () => {
      const keyring = await core.LocalKeyring.generate();
      const sealed = await core.encrypt({ ssn: '1' }, { keyring, paths: ['$.ssn'] });
      const opened = await core.decrypt(sealed, { keyring });
      process.stdout.write(JSON.stringify({ ok: opened.ssn === '1', code: errors.DecryptionFailedError.code, sealed: typeof sealed._fieldseal }));
    })();
  `;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({ ok: true, code: 'ERR_FIELDSEAL_DECRYPTION_FAILED', sealed: 'string' });
});

test('the package declares engines >= 20.19', async () => {
  const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { engines: { node: string } };
  expect(pkg.engines.node).toBe('>=20.19');
});
