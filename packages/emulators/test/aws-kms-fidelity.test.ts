// Where the AWS KMS emulator must answer as KMS does (issue 21): the credential scope's region,
// RotateKeyOnDemand. The real @aws-sdk/client-kms over loopback.
import { DecryptCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand, KMSClient, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsKmsEmulator, type AwsEmulatedKey, type AwsKmsEmulator } from '@fieldseal/emulators';

let kms: AwsKmsEmulator;
let key: AwsEmulatedKey;
const clients: KMSClient[] = [];

function client(region?: string): KMSClient {
  const c = new KMSClient({ ...kms.clientConfig(region), maxAttempts: 1 });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

beforeAll(async () => {
  kms = await startAwsKmsEmulator({ region: 'eu-west-1' });
  key = await kms.createKey();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await kms.close();
});

describe('AWS KMS emulator: answers as KMS does', () => {
  it('refuses a signature scoped to a region the endpoint does not serve', async () => {
    const err = await rejection(client('eu-central-1').send(new EncryptCommand({ KeyId: 'alias/any', Plaintext: new Uint8Array(4) })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/Credential should be scoped to a valid region/);
    // The regions it serves: its own, and those of keys created in it.
    await kms.createKey({ region: 'ap-southeast-2' });
    const out = await client('eu-west-1').send(new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array(4) }));
    expect(out.KeyId).toBe(key.arn);
    expect((await rejection(client('ap-southeast-2').send(new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array(4) })))).name).toBe('NotFoundException');
  });

  it('serves the regions named in its options', async () => {
    const multi = await startAwsKmsEmulator({ region: 'us-east-1', regions: ['us-west-2'] });
    try {
      const c = new KMSClient({ ...multi.clientConfig('us-west-2'), maxAttempts: 1 });
      clients.push(c);
      expect((await rejection(c.send(new EncryptCommand({ KeyId: 'alias/none', Plaintext: new Uint8Array(4) })))).name).toBe('NotFoundException');
    } finally {
      await multi.close();
    }
  });

  it('RotateKeyOnDemand adds key material; ciphertexts under every version still decrypt', async () => {
    const c = client();
    const rotating = await kms.createKey();
    const before = await c.send(new EncryptCommand({ KeyId: rotating.arn, Plaintext: Buffer.from('old'), EncryptionContext: { t: '1' } }));
    const rotated = await c.send(new RotateKeyOnDemandCommand({ KeyId: rotating.arn }));
    expect(rotated.KeyId).toBe(rotating.arn);
    const after = await c.send(new EncryptCommand({ KeyId: rotating.arn, Plaintext: Buffer.from('new'), EncryptionContext: { t: '1' } }));
    expect(after.KeyId).toBe(rotating.arn);
    for (const [blob, text] of [[before.CiphertextBlob!, 'old'], [after.CiphertextBlob!, 'new']] as const) {
      const out = await c.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { t: '1' } }));
      expect(Buffer.from(out.Plaintext!).toString()).toBe(text);
      expect((await rejection(c.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { t: '2' } })))).name).toBe('InvalidCiphertextException');
    }
  });

  it('RotateKeyOnDemand refuses RSA keys, disabled keys and more than 10 rotations', async () => {
    const c = client();
    const rsa = await kms.createKey({ keySpec: 'RSA_2048' });
    expect((await rejection(c.send(new RotateKeyOnDemandCommand({ KeyId: rsa.arn })))).name).toBe('UnsupportedOperationException');
    const k = await kms.createKey();
    await c.send(new DisableKeyCommand({ KeyId: k.arn }));
    expect((await rejection(c.send(new RotateKeyOnDemandCommand({ KeyId: k.arn })))).name).toBe('DisabledException');
    await c.send(new EnableKeyCommand({ KeyId: k.arn }));
    for (let i = 0; i < 10; i++) await c.send(new RotateKeyOnDemandCommand({ KeyId: k.arn }));
    expect((await rejection(c.send(new RotateKeyOnDemandCommand({ KeyId: k.arn })))).name).toBe('LimitExceededException');
    expect((await rejection(c.send(new RotateKeyOnDemandCommand({ KeyId: 'alias/nothing' })))).name).toBe('NotFoundException');
  });
});
