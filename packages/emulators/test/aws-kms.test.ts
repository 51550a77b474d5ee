// The AWS KMS emulator, driven by the real @aws-sdk/client-kms over loopback.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAwsKmsEmulator, testTlsFixture } from '@fieldseal/emulators';
import type { AwsEmulatedKey, AwsKmsEmulator } from '@fieldseal/emulators';
import { startFromArgv } from '../src/aws/cli.js';

let kms: AwsKmsEmulator;
let client: KMSClient;
let key: AwsEmulatedKey;
let other: AwsEmulatedKey;
let rsa: AwsEmulatedKey;
const clients: KMSClient[] = [];

// RSA key generation is slow; one imported key serves the whole file.
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function newClient(overrides: Partial<ConstructorParameters<typeof KMSClient>[0]> = {}): KMSClient {
  const c = new KMSClient({ ...kms.clientConfig(), maxAttempts: 1, ...overrides });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<Error & { $fault?: string; $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  client = newClient();
  key = await kms.createKey({ alias: 'alias/app' });
  other = await kms.createKey();
  rsa = kms.importRsaKey(rsaPem, { alias: 'alias/browser' });
});

afterEach(() => {
  kms.faults.clear();
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await kms.close();
});

describe('symmetric keys', () => {
  it('Encrypt then Decrypt round-trips, reports the key ARN, and needs no KeyId to decrypt', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: bytes(32), EncryptionContext: { tenant: 't1' } }));
    expect(enc.KeyId).toBe(key.arn);
    expect(enc.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { tenant: 't1' } }));
    expect(dec.KeyId).toBe(key.arn);
    expect(dec.Plaintext).toEqual(bytes(32));
    const withKey = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: key.arn, EncryptionContext: { tenant: 't1' } }));
    expect(withKey.Plaintext).toEqual(bytes(32));
  });

  it('binds the EncryptionContext: a different, extra or missing pair is InvalidCiphertextException', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: bytes(16), EncryptionContext: { tenant: 't1', row: '42' } }));
    const contexts: (Record<string, string> | undefined)[] = [{ tenant: 't2', row: '42' }, { tenant: 't1' }, { tenant: 't1', row: '42', x: '' }, undefined];
    for (const ctx of contexts) {
      const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, ...(ctx ? { EncryptionContext: ctx } : {}) })));
      expect(err.name).toBe('InvalidCiphertextException');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.$fault).toBe('client');
    }
    // Pair order does not matter, as in KMS.
    const ok = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { row: '42', tenant: 't1' } }));
    expect(ok.Plaintext).toEqual(bytes(16));
  });

  it('a flipped bit in the blob is InvalidCiphertextException', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(8) }));
    const blob = Uint8Array.from(enc.CiphertextBlob!);
    blob[blob.length - 1]! ^= 1;
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: blob })))).name).toBe('InvalidCiphertextException');
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: bytes(80) })))).name).toBe('InvalidCiphertextException');
  });

  it('Decrypt naming another key is IncorrectKeyException; an unknown key is NotFoundException', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(8) }));
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other.arn })))).name).toBe('IncorrectKeyException');
    const missing = await rejection(client.send(new EncryptCommand({ KeyId: 'alias/nope', Plaintext: bytes(8) })));
    expect(missing.name).toBe('NotFoundException');
    const wrongRegionArn = key.arn.replace(':us-east-1:', ':eu-west-1:');
    expect((await rejection(client.send(new EncryptCommand({ KeyId: wrongRegionArn, Plaintext: bytes(8) })))).name).toBe('NotFoundException');
  });

  it('GenerateDataKey returns a key and its blob; WithoutPlaintext returns only the blob', async () => {
    const dk = await client.send(new GenerateDataKeyCommand({ KeyId: 'alias/app', KeySpec: 'AES_256', EncryptionContext: { a: 'b' } }));
    expect(dk.Plaintext).toHaveLength(32);
    expect(dk.KeyId).toBe(key.arn);
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    expect(dec.Plaintext).toEqual(dk.Plaintext);
    const n = await client.send(new GenerateDataKeyCommand({ KeyId: key.arn, NumberOfBytes: 64 }));
    expect(n.Plaintext).toHaveLength(64);
    const wp = await client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.arn, KeySpec: 'AES_128' }));
    expect((wp as { Plaintext?: unknown }).Plaintext).toBeUndefined();
    expect((await client.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob }))).Plaintext).toHaveLength(16);
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: key.arn })))).name).toBe('ValidationException');
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: rsa.arn, KeySpec: 'AES_256' })))).name).toBe('InvalidKeyUsageException');
  });

  it('ReEncrypt moves a blob to another key and context; a wrong SourceKeyId is IncorrectKeyException', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(32, 9), EncryptionContext: { v: '1' } }));
    const re = await client.send(
      new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { v: '1' }, DestinationKeyId: other.arn, DestinationEncryptionContext: { v: '2' } }),
    );
    expect(re.SourceKeyId).toBe(key.arn);
    expect(re.KeyId).toBe(other.arn);
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, KeyId: other.arn, EncryptionContext: { v: '2' } }));
    expect(dec.Plaintext).toEqual(bytes(32, 9));
    const wrongSource = await rejection(client.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceKeyId: other.arn, SourceEncryptionContext: { v: '1' }, DestinationKeyId: other.arn })));
    expect(wrongSource.name).toBe('IncorrectKeyException');
    const wrongCtx = await rejection(client.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: other.arn })));
    expect(wrongCtx.name).toBe('InvalidCiphertextException');
  });

  it('CreateKey, CreateAlias and DescribeKey work through the API', async () => {
    const created = await client.send(new CreateKeyCommand({ Description: 'made by test' }));
    const arn = created.KeyMetadata!.Arn!;
    expect(arn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36}$/);
    await client.send(new CreateAliasCommand({ AliasName: 'alias/made', TargetKeyId: created.KeyMetadata!.KeyId }));
    const described = await client.send(new DescribeKeyCommand({ KeyId: 'alias/made' }));
    expect(described.KeyMetadata?.Arn).toBe(arn);
    expect(described.KeyMetadata?.KeySpec).toBe('SYMMETRIC_DEFAULT');
    expect(described.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    expect((await rejection(client.send(new CreateAliasCommand({ AliasName: 'alias/made', TargetKeyId: other.keyId })))).name).toBe('AlreadyExistsException');
  });

  it('a disabled key answers DisabledException, and works again once enabled', async () => {
    const k = await kms.createKey();
    kms.setKeyEnabled(k.arn, false);
    expect((await rejection(client.send(new EncryptCommand({ KeyId: k.arn, Plaintext: bytes(4) })))).name).toBe('DisabledException');
    kms.setKeyEnabled(k.arn, true);
    expect((await client.send(new EncryptCommand({ KeyId: k.arn, Plaintext: bytes(4) }))).KeyId).toBe(k.arn);
  });

  it('keys live in one region: a client for another region cannot see them', async () => {
    const eu = await kms.createKey({ region: 'eu-west-1', alias: 'alias/eu' });
    const euClient = newClient({ region: 'eu-west-1' });
    expect((await euClient.send(new EncryptCommand({ KeyId: 'alias/eu', Plaintext: bytes(4) }))).KeyId).toBe(eu.arn);
    expect((await rejection(client.send(new EncryptCommand({ KeyId: eu.arn, Plaintext: bytes(4) })))).name).toBe('NotFoundException');
    expect((await rejection(euClient.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: bytes(4) })))).name).toBe('NotFoundException');
  });

  it('a key restricted to one principal answers AccessDeniedException to another', async () => {
    const stranger = kms.addCredentials();
    const k = await kms.createKey({ allowedAccessKeyIds: [kms.credentials.accessKeyId] });
    const strangerClient = newClient({ credentials: stranger });
    const err = await rejection(strangerClient.send(new EncryptCommand({ KeyId: k.arn, Plaintext: bytes(4) })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toContain('kms:Encrypt');
    expect((await client.send(new EncryptCommand({ KeyId: k.arn, Plaintext: bytes(4) }))).KeyId).toBe(k.arn);
  });
});

describe('RSA keys', () => {
  it('GetPublicKey serves the real public key; a local RSA-OAEP-256 wrap decrypts in KMS', async () => {
    const pub = await client.send(new GetPublicKeyCommand({ KeyId: 'alias/browser' }));
    expect(pub.KeyId).toBe(rsa.arn);
    expect(pub.KeySpec).toBe('RSA_2048');
    expect(pub.EncryptionAlgorithms).toContain('RSAES_OAEP_SHA_256');
    const ct = publicEncrypt({ key: createPublicKey({ key: Buffer.from(pub.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, bytes(32, 3));
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: ct, KeyId: rsa.arn, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    expect(dec.Plaintext).toEqual(bytes(32, 3));
    expect(dec.EncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256');
    // Wrong algorithm, missing algorithm, missing KeyId: all refused.
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: ct, KeyId: rsa.arn, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })))).name).toBe('InvalidCiphertextException');
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: ct, KeyId: rsa.arn })))).name).toBe('InvalidKeyUsageException');
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: ct })))).name).toBe('InvalidCiphertextException');
  });

  it('Encrypt with an RSA key works server-side and refuses an EncryptionContext', async () => {
    const enc = await client.send(new EncryptCommand({ KeyId: rsa.arn, Plaintext: bytes(32), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: 'alias/browser', EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    expect(dec.Plaintext).toEqual(bytes(32));
    const err = await rejection(client.send(new EncryptCommand({ KeyId: rsa.arn, Plaintext: bytes(32), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', EncryptionContext: { a: 'b' } })));
    expect(err.name).toBe('ValidationException');
    expect((await rejection(client.send(new GetPublicKeyCommand({ KeyId: key.arn })))).name).toBe('UnsupportedOperationException');
  });

  it('CreateKey makes RSA_3072 keys', async () => {
    const created = await client.send(new CreateKeyCommand({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' }));
    expect(created.KeyMetadata?.KeySpec).toBe('RSA_3072');
    const pub = await client.send(new GetPublicKeyCommand({ KeyId: created.KeyMetadata!.Arn }));
    expect(pub.PublicKey!.length).toBeGreaterThan(384);
  });
});

describe('SigV4', () => {
  it('a wrong secret is InvalidSignatureException; an unknown access key is UnrecognizedClientException', async () => {
    const wrongSecret = newClient({ credentials: { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const err = await rejection(wrongSecret.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })));
    expect(err.name).toBe('InvalidSignatureException');
    const unknown = newClient({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } });
    expect((await rejection(unknown.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })))).name).toBe('UnrecognizedClientException');
    expect(kms.log.at(-1)?.accessKeyId).toBeUndefined();
  });

  it('a body changed after signing is rejected, whether or not x-amz-content-sha256 is updated', async () => {
    for (const updateHashHeader of [false, true]) {
      const tampering = newClient();
      // Runs after the signer, like a proxy that rewrites the body in transit.
      const tamper = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        const request = (args as { request: { body: string | Uint8Array; headers: Record<string, string> } }).request;
        const body = (typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body)).replace('"KeyId"', '"KeyId" ');
        request.body = body;
        if (updateHashHeader) request.headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
        request.headers['content-length'] = String(Buffer.byteLength(body));
        return next(args);
      };
      tampering.middlewareStack.addRelativeTo(tamper as never, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamper' });
      const before = kms.counters.get('Encrypt');
      const err = await rejection(tampering.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })));
      expect(err.name).toBe('InvalidSignatureException');
      expect(kms.counters.get('Encrypt')).toBe(before + 1);
    }
  });

  it('properly signed but unknown operations and malformed bodies get KMS error shapes', async () => {
    // Rewrites run before signing (build step), so the signature is valid and the payload is what is judged.
    const rewriting = (change: (request: { body: string; headers: Record<string, string> }) => void) => {
      const c = newClient();
      const mw = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        const request = (args as { request: { body: string; headers: Record<string, string> } }).request;
        change(request);
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      };
      c.middlewareStack.add(mw as never, { step: 'build', name: 'rewrite' });
      return c;
    };
    const unknownOp = rewriting((r) => {
      r.headers['x-amz-target'] = 'TrentService.DeleteEverything';
    });
    expect((await rejection(unknownOp.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })))).name).toBe('UnknownOperationException');
    expect(kms.log.at(-1)).toMatchObject({ operation: 'DeleteEverything', accessKeyId: kms.credentials.accessKeyId, errorType: 'UnknownOperationException' });
    const badJson = rewriting((r) => {
      r.body = '{"KeyId": ';
    });
    expect((await rejection(badJson.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })))).name).toBe('SerializationException');
    const badContext = rewriting((r) => {
      r.body = JSON.stringify({ KeyId: key.arn, Plaintext: 'AAAA', EncryptionContext: { n: 1 } });
    });
    expect((await rejection(badContext.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })))).name).toBe('SerializationException');
    const tooBig = rewriting((r) => {
      r.body = JSON.stringify({ KeyId: key.arn, Plaintext: Buffer.alloc(4097).toString('base64') });
    });
    expect((await rejection(tooBig.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })))).name).toBe('ValidationException');
  });

  it('an unsigned request is MissingAuthenticationTokenException', async () => {
    const res = await fetch(kms.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Encrypt' },
      body: JSON.stringify({ KeyId: key.arn, Plaintext: 'AAAA' }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('a signature from a skewed clock is refused', async () => {
    const skewed = newClient({ systemClockOffset: -60 * 60 * 1000 });
    const err = await rejection(skewed.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toContain('Signature expired');
  });
});

describe('failpoints and counters', () => {
  it('throttling is retried by the SDK and then succeeds; every attempt is counted', async () => {
    const retrying = newClient({ maxAttempts: 3 });
    kms.counters.reset();
    kms.faults.inject({ kind: 'throttle', count: 2, operation: 'Encrypt' });
    const out = await retrying.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) }));
    expect(out.$metadata.attempts).toBe(3);
    expect(kms.counters.get('Encrypt')).toBe(3);
    expect(kms.log.slice(-3).map((r) => r.errorType ?? r.status)).toEqual(['ThrottlingException', 'ThrottlingException', 200]);
  });

  it('server errors surface with their status, 500 and 503', async () => {
    kms.faults.inject({ kind: 'server-error' });
    const e500 = await rejection(client.send(new DecryptCommand({ CiphertextBlob: bytes(80) })));
    expect(e500.name).toBe('KMSInternalException');
    expect(e500.$metadata?.httpStatusCode).toBe(500);
    kms.faults.inject({ kind: 'server-error', status: 503 });
    const e503 = await rejection(client.send(new DecryptCommand({ CiphertextBlob: bytes(80) })));
    expect(e503.$metadata?.httpStatusCode).toBe(503);
  });

  it('a dropped connection is a transport error; the fault applies only to the named operation', async () => {
    kms.faults.inject({ kind: 'drop', operation: 'Decrypt' });
    expect((await client.send(new EncryptCommand({ KeyId: key.arn, Plaintext: bytes(4) }))).KeyId).toBe(key.arn);
    const err = await rejection(client.send(new DecryptCommand({ CiphertextBlob: bytes(80) })));
    expect(err.name).not.toBe('InvalidCiphertextException');
    expect(kms.faults.armed).toBe(0);
  });

  it('corrupt-response flips a bit of the returned data key', async () => {
    kms.faults.inject({ kind: 'corrupt-response', operation: 'GenerateDataKey' });
    const dk = await client.send(new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256' }));
    const real = await client.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
    expect(Buffer.from(real.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(false);
  });

  it('the log records operation, key id and context, never plaintext or blobs', async () => {
    await client.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: bytes(4, 0x41), EncryptionContext: { tenant: 'logged' } }));
    const last = kms.log.at(-1)!;
    expect(last).toEqual({ operation: 'Encrypt', status: 200, accessKeyId: kms.credentials.accessKeyId, keyId: 'alias/app', encryptionContext: { tenant: 'logged' } });
  });
});

describe('cli', () => {
  it('starts an emulator, creates the requested keys and prints the endpoint and env that the SDK honours', async () => {
    const { emulator, keys, banner } = await startFromArgv(['--key', 'alias/one', '--region', 'eu-central-1']);
    const saved = { ...process.env };
    try {
      expect(keys.map((k) => k.alias)).toEqual(['alias/one']);
      expect(banner).toContain(`export AWS_ENDPOINT_URL_KMS=${emulator.url}`);
      expect(banner).toContain('export AWS_REGION=eu-central-1');
      expect(banner).toContain(keys[0]!.arn);
      Object.assign(process.env, emulator.env());
      const fromEnv = new KMSClient({ maxAttempts: 1 });
      clients.push(fromEnv);
      const enc = await fromEnv.send(new EncryptCommand({ KeyId: 'alias/one', Plaintext: bytes(4) }));
      expect(enc.KeyId).toBe(keys[0]!.arn);
    } finally {
      for (const k of Object.keys(emulator.env())) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      await emulator.close();
    }
  });

  it('--tls serves HTTPS with the test-only certificate, and the banner names the CA file to trust', async () => {
    const { emulator, banner } = await startFromArgv(['--tls']);
    try {
      expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const caPath = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(banner)?.[1];
      expect(caPath && readFileSync(caPath, 'utf8')).toBe(testTlsFixture().cert);
      const tlsClient = new KMSClient({ ...emulator.clientConfig(), maxAttempts: 1, requestHandler: { httpsAgent: new https.Agent({ ca: testTlsFixture().cert }) } });
      clients.push(tlsClient);
      const enc = await tlsClient.send(new EncryptCommand({ KeyId: 'alias/fieldseal-dev', Plaintext: bytes(4) }));
      expect(enc.KeyId).toMatch(/^arn:aws:kms:us-east-1:/);
    } finally {
      await emulator.close();
    }
  });

  it('rejects bad arguments', async () => {
    await expect(startFromArgv(['--port', 'x'])).rejects.toThrow('--port');
    await expect(startFromArgv(['--access-key-id', 'A'])).rejects.toThrow('go together');
    await expect(startFromArgv(['--host', '0.0.0.0'])).rejects.toThrow('loopback');
  });
});
