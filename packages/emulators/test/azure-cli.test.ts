// The `fieldseal-emulators azure` command: starts, prints a usable endpoint and key id, stops.
import { CryptographyClient } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { runAzureEmulatorCli } from '../src/azure/cli.js';
import { AZURE_EMULATOR_DEFAULT_TOKEN } from '@fieldseal/emulators';

describe('fieldseal-emulators azure', () => {
  it('prints the endpoint, a key id and the env, serves the real SDK, and closes when told', async () => {
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    let printed = '';
    const running = runAzureEmulatorCli(['--key', 'app-kek', '--token', 'dev-token'], { write: (t) => (printed += t), until });
    await expect.poll(() => printed, { timeout: 10_000 }).toContain('export AZURE_KEYVAULT_KEY_ID=');
    const keyId = /^key app-kek: (\S+)$/m.exec(printed)?.[1];
    expect(keyId).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/keys\/app-kek\/[0-9a-f]{32}$/);
    expect(printed).toContain('FIELDSEAL_AZURE_EMULATOR_TOKEN=dev-token');
    expect(printed).not.toContain(AZURE_EMULATOR_DEFAULT_TOKEN);
    const config = JSON.parse(printed.trim().split('\n').at(-1)!);
    expect(config).toEqual({ keyId: keyId!.replace(/\/[0-9a-f]{32}$/, ''), disableChallengeResourceVerification: true, allowInsecureConnection: true, emulatorToken: 'dev-token' });
    const credential = { getToken: async () => ({ token: 'dev-token', expiresOnTimestamp: Date.now() + 60_000 }) };
    const client = new CryptographyClient(keyId!, credential, { allowInsecureConnection: true, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
    const dek = new Uint8Array(32).fill(5);
    const wrapped = await client.wrapKey('RSA-OAEP-256', dek);
    expect(Uint8Array.from((await client.unwrapKey('RSA-OAEP-256', wrapped.result)).result)).toEqual(dek);
    stop();
    await running;
    // The server is gone: a pooled connection is reset, a new one refused.
    const err = (await client.wrapKey('RSA-OAEP-256', dek).catch((e: unknown) => e)) as { code?: string };
    expect(['ECONNRESET', 'ECONNREFUSED']).toContain(err.code);
  });

  it('rejects bad arguments before starting anything', async () => {
    const io = { write: () => {}, until: Promise.resolve() };
    for (const argv of [['--port', 'x'], ['--port', '70000'], ['--kty', 'EC'], ['--key'], ['--bogus']]) {
      await expect(runAzureEmulatorCli(argv, io), argv.join(' ')).rejects.toThrow(/usage: fieldseal-emulators azure/);
    }
  });
});
