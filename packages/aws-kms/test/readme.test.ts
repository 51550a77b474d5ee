// The README's setup block, run unchanged (imports aside) against the KMS emulator.
import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decrypt, encrypt, inspect } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import type { AwsKmsEmulator } from '@fieldseal/emulators';
import { AwsKmsKeyring } from '@fieldseal/aws-kms';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const setup = /<!-- readme-setup[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];

let kms: AwsKmsEmulator;
const saved = { ...process.env };

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  const key = await kms.createKey({ alias: 'alias/fieldseal' });
  // What a deployment provides: the key ARN, a region, and credentials from the default chain.
  Object.assign(process.env, kms.env(), { FIELDSEAL_KMS_KEY_ARN: key.arn });
  delete process.env['AWS_REGION']; // the README says the region comes from the key ARN
});

afterAll(async () => {
  for (const k of [...Object.keys(kms.env()), 'FIELDSEAL_KMS_KEY_ARN']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await kms.close();
});

it('the README setup block is at most ~10 lines of code, has no literal secret, and imports only public entry points', () => {
  expect(setup).toBeDefined();
  const code = setup!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  expect(code.length).toBeLessThanOrEqual(10);
  expect(setup).not.toMatch(/AKIA|secretAccessKey|accessKeyId|credentials\s*:/);
  expect(setup!.match(/^import .*$/gm)).toEqual([`import { encrypt, decrypt } from '@fieldseal/core';`, `import { AwsKmsKeyring } from '@fieldseal/aws-kms';`]);
});

it('the README setup block seals and opens a document through the real SDK and the emulator', async () => {
  const body = setup!.replace(/^import .*$/gm, '');
  const { code } = await transform(`async function readmeSetup() {\n${body}\nreturn { keyring, customer, sealed, opened };\n}`, { loader: 'ts' });
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
  const run = new AsyncFunction('encrypt', 'decrypt', 'AwsKmsKeyring', 'process', `${code}\nreturn readmeSetup();`);
  kms.counters.reset();
  const { keyring, customer, sealed, opened } = (await run(encrypt, decrypt, AwsKmsKeyring, process)) as { keyring: AwsKmsKeyring; customer: JsonObject; sealed: JsonObject; opened: JsonObject };
  try {
    expect(opened).toEqual(customer);
    expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
    expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'aws-kms', keyId: process.env['FIELDSEAL_KMS_KEY_ARN'] }]);
    expect(kms.counters.snapshot()).toEqual({ GenerateDataKey: 1, Decrypt: 1 });
    expect(kms.log.at(-1)).toMatchObject({ accessKeyId: kms.credentials.accessKeyId, encryptionContext: { tenant: 'acme', table: 'customers' } });
  } finally {
    keyring.destroy();
  }
});
