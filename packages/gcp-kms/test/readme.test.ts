// The README's setup block, run as written (imports aside) against the Cloud KMS emulator. The one
// difference from a deployment is the client: Google's client has no endpoint environment variable,
// so the keyring class handed to the block adds the emulator's clientOptions. The client itself is
// the real KeyManagementServiceClient over gRPC.
import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decrypt, encrypt, inspect } from '@fieldseal/core';
import type { JsonObject } from '@fieldseal/core';
import { startGcpKmsEmulator, type GcpKmsEmulator } from '@fieldseal/emulators';
import { GcpKmsKeyring, type GcpKmsKeyringOptions } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const setup = /<!-- readme-setup[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];

let kms: GcpKmsEmulator;
const saved = process.env['FIELDSEAL_GCP_KMS_KEY'];

beforeAll(async () => {
  kms = await startGcpKmsEmulator();
  const ring = kms.createKeyRing('projects/my-project/locations/europe-west1', 'app');
  process.env['FIELDSEAL_GCP_KMS_KEY'] = await kms.createCryptoKey(ring, 'customer-kek');
});

afterAll(async () => {
  if (saved === undefined) delete process.env['FIELDSEAL_GCP_KMS_KEY'];
  else process.env['FIELDSEAL_GCP_KMS_KEY'] = saved;
  await kms.close();
});

it('the README setup block is short, has no literal secret or key material, and imports only public entry points', () => {
  expect(setup).toBeDefined();
  const code = setup!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  expect(code.length).toBeLessThanOrEqual(10);
  expect(setup).not.toMatch(/private_key|BEGIN|credentials\s*:|keyFilename|sslCreds/);
  expect(setup!.match(/^import .*$/gm)).toEqual([`import { encrypt, decrypt } from '@fieldseal/core';`, `import { GcpKmsKeyring } from '@fieldseal/gcp-kms';`]);
});

it('the README setup block seals and opens a document through the real client and the emulator', async () => {
  const body = setup!.replace(/^import .*$/gm, '');
  const { code } = await transform(`async function readmeSetup() {\n${body}\nreturn { customer, sealed, opened };\n}`, { loader: 'ts' });
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
  const run = new AsyncFunction('encrypt', 'decrypt', 'GcpKmsKeyring', 'process', `${code}\nreturn readmeSetup();`);
  class EmulatorGcpKmsKeyring extends GcpKmsKeyring {
    constructor(options: GcpKmsKeyringOptions) {
      super({ ...options, clientOptions: kms.clientOptions() });
    }
  }
  kms.counters.reset();
  const { customer, sealed, opened } = (await run(encrypt, decrypt, EmulatorGcpKmsKeyring, process)) as { customer: JsonObject; sealed: JsonObject; opened: JsonObject };
  expect(opened).toEqual(customer);
  expect(JSON.stringify(sealed)).not.toContain('078-05-1120');
  expect(inspect(sealed).groups[0]!.wrappedKeys).toEqual([{ provider: 'gcp-kms', keyId: `${process.env['FIELDSEAL_GCP_KMS_KEY']}/cryptoKeyVersions/1` }]);
  expect(kms.counters.snapshot()).toEqual({ Encrypt: 1, Decrypt: 1 });
});
