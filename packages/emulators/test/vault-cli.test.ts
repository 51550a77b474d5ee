import nodeVault from 'node-vault';
import { describe, expect, it } from 'vitest';
import { main } from '../src/vault/cli.js';

async function started(argv: string[]): Promise<{ output: string; stop: () => Promise<void> }> {
  const controller = new AbortController();
  let output = '';
  let printed!: () => void;
  const ready = new Promise<void>((resolve) => (printed = resolve));
  const running = main(argv, {
    signal: controller.signal,
    out: {
      write(text: string) {
        output += text;
        printed();
      },
    },
  });
  await Promise.race([ready, running]);
  return {
    output,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

describe('fieldseal-emulators vault', () => {
  it('prints VAULT_ADDR and VAULT_TOKEN that node-vault can use, with --key keys ready', async () => {
    const { output, stop } = await started(['--port', '0', '--key', 'customer-kek', '--mount', 'kms', '--token', 'dev-only-token']);
    try {
      const addr = /^export VAULT_ADDR=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(output)?.[1];
      const token = /^export VAULT_TOKEN=(\S+)$/m.exec(output)?.[1];
      expect(addr).toBeDefined();
      expect(token).toBe('dev-only-token');
      expect(output).toMatch(/mounts: kms/);
      const client = nodeVault({ endpoint: addr!, token: token! });
      const res = await client.write('kms/encrypt/customer-kek', { plaintext: 'aGk=', context: 'Yw==' });
      expect(res.data.ciphertext).toMatch(/^vault:v1:/);
      // --key keys are derived: Vault refuses them without a context
      await expect(client.write('kms/encrypt/customer-kek', { plaintext: 'aGk=' })).rejects.toThrow(/missing 'context'/);
    } finally {
      await stop();
    }
  });

  it('prints VAULT_CACERT with --tls', async () => {
    const { output, stop } = await started(['--port', '0', '--tls']);
    await stop();
    expect(output).toMatch(/^export VAULT_ADDR=https:\/\/127\.0\.0\.1:\d+$/m);
    expect(output).toMatch(/^export VAULT_CACERT=.*test-only-tls\.cert\.pem$/m);
  });

  it('rejects unknown options and bad ports', async () => {
    await expect(main(['--bogus'])).rejects.toThrow(/unknown option --bogus/);
    await expect(main(['--port', 'x'])).rejects.toThrow(/--port/);
    await expect(main(['--token'])).rejects.toThrow(/needs a value/);
  });
});
