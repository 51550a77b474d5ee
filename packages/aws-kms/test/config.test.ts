// keyringFromConfig (the CLI's `aws-kms:<config.json>`) and the SDK error classification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrypt, encrypt, ProviderError } from '@fieldseal/core';
import { startAwsKmsEmulator } from '@fieldseal/emulators';
import type { AwsEmulatedKey, AwsKmsEmulator } from '@fieldseal/emulators';
import { AwsKmsKeyring, AwsKmsRsaKeyring, classifyAwsError, keyringFromConfig, parseKmsArn, toProviderError } from '@fieldseal/aws-kms';

let kms: AwsKmsEmulator;
let key: AwsEmulatedKey;
let rsa: AwsEmulatedKey;
const built: { destroy(): void }[] = [];

async function fromConfig(config: unknown) {
  const k = await keyringFromConfig(config);
  built.push(k as unknown as { destroy(): void });
  return k;
}

beforeAll(async () => {
  kms = await startAwsKmsEmulator();
  key = await kms.createKey({ alias: 'alias/cli' });
  rsa = await kms.createKey({ keySpec: 'RSA_2048' });
});

afterAll(async () => {
  for (const k of built) k.destroy();
  await kms.close();
});

describe('keyringFromConfig', () => {
  it('builds a symmetric keyring that works end to end from a JSON file', async () => {
    const json = JSON.stringify({ keyIds: [key.arn], region: kms.region, endpoint: kms.url, credentials: kms.credentials, maxAttempts: 2, requestTimeoutMs: 5000 });
    const keyring = await fromConfig(JSON.parse(json));
    expect(keyring).toBeInstanceOf(AwsKmsKeyring);
    const sealed = await encrypt({ ssn: '078-05-1120' }, { keyring, paths: ['$.ssn'], context: { app: 'cli' } });
    expect(await decrypt(sealed, { keyring, context: { app: 'cli' } })).toEqual({ ssn: '078-05-1120' });
  });

  it('takes credentials and region from the environment (default chain) when the file has none', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, kms.env());
    try {
      const keyring = await fromConfig({ keyId: 'alias/cli' });
      const { wrapped } = await keyring.wrap({ context: {} });
      expect(wrapped[0]!.keyId).toBe(key.arn);
    } finally {
      for (const k of Object.keys(kms.env())) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('builds an RSA keyring, with the public key PEM so wrapping needs no call', async () => {
    const keyring = await fromConfig({ type: 'rsa', keyId: rsa.arn, publicKeyPem: rsa.publicKeyPem, region: kms.region, endpoint: kms.url, credentials: kms.credentials });
    expect(keyring).toBeInstanceOf(AwsKmsRsaKeyring);
    kms.counters.reset();
    const { dataKey, wrapped } = await keyring.wrap({ context: {} });
    expect(kms.counters.total()).toBe(0);
    expect(await keyring.unwrap({ wrapped, context: {} })).toEqual(dataKey);
  });

  it('builds a discovery keyring', async () => {
    const keyring = (await fromConfig({ keyIds: [], discovery: { accountIds: [kms.accountId] }, region: kms.region, endpoint: kms.url, credentials: kms.credentials })) as AwsKmsKeyring;
    expect(keyring.discovery).toEqual({ accountIds: [kms.accountId], partition: 'aws' });
  });

  it('rejects malformed configs and unknown properties with typed errors', async () => {
    const bad: unknown[] = [
      null,
      [],
      'keyIds',
      {},
      { keyIds: 'arn' },
      { keyIds: [key.arn], keyId: key.arn },
      { keyIds: [key.arn], regoin: 'us-east-1' },
      { keyIds: [key.arn], type: 'hmac' },
      { keyIds: [key.arn], maxAttempts: '3' },
      { keyIds: [key.arn], credentials: { accessKeyId: 'A' } },
      { keyIds: [key.arn], credentials: { accessKeyId: 'A', secretAccessKey: 'B', extra: 1 } },
      { keyIds: [key.arn], discovery: { accounts: ['111122223333'] } },
      { keyIds: [key.arn], publicKeyPem: 'x' },
      { type: 'rsa' },
      { type: 'rsa', keyIds: [rsa.arn, key.arn] },
      { type: 'rsa', keyId: rsa.arn, discovery: { accountIds: ['111122223333'] } },
      JSON.parse(`{"keyIds":["${key.arn}"],"__proto__":{"polluted":true}}`),
    ];
    for (const config of bad) await expect(keyringFromConfig(config), JSON.stringify(config)).rejects.toMatchObject({ code: 'ERR_FIELDSEAL_INVALID_ARGUMENT' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('error classification', () => {
  const sdkError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} message`), { name, ...extra });

  it.each([
    ['ThrottlingException', 'throttled', true],
    ['KMSInternalException', 'unavailable', true],
    ['DependencyTimeoutException', 'unavailable', true],
    ['KeyUnavailableException', 'unavailable', true],
    ['TimeoutError', 'unavailable', true],
    ['AccessDeniedException', 'auth', false],
    ['UnrecognizedClientException', 'auth', false],
    ['InvalidSignatureException', 'auth', false],
    ['CredentialsProviderError', 'auth', false],
    ['NotFoundException', 'not-found', false],
    ['DisabledException', 'disabled', false],
    ['KMSInvalidStateException', 'disabled', false],
    ['InvalidCiphertextException', 'invalid-ciphertext', false],
    ['IncorrectKeyException', 'invalid-ciphertext', false],
    ['InvalidKeyUsageException', 'invalid-request', false],
    ['ValidationException', 'invalid-request', false],
  ] as const)('%s is %s, retryable %s', (name, kind, retryable) => {
    expect(classifyAwsError(sdkError(name))).toEqual({ kind, retryable, name });
  });

  it('classifies socket errors, unknown server faults and status codes', () => {
    expect(classifyAwsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(classifyAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(classifyAwsError(Object.assign(new Error('no such host'), { code: 'ENOTFOUND' }))).toMatchObject({ kind: 'unavailable', retryable: false });
    expect(classifyAwsError(sdkError('SomethingNew', { $fault: 'server' }))).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(classifyAwsError(sdkError('SomethingNew', { $metadata: { httpStatusCode: 502 } }))).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(classifyAwsError(sdkError('SomethingNew', { $fault: 'client', $metadata: { httpStatusCode: 400 } }))).toMatchObject({ kind: 'other', retryable: false });
    expect(classifyAwsError('a string')).toMatchObject({ kind: 'other', retryable: false });
    expect(classifyAwsError(null)).toMatchObject({ kind: 'other', retryable: false });
  });

  it('toProviderError keeps the cause, names provider/key/operation, and bounds the message', () => {
    const cause = sdkError('AccessDeniedException');
    cause.message = 'x'.repeat(5000);
    const err = toProviderError(cause, 'aws-kms', 'Decrypt', key.arn);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'ERR_FIELDSEAL_PROVIDER', provider: 'aws-kms', keyId: key.arn, kind: 'auth', retryable: false, cause });
    expect(err.message).toContain('KMS Decrypt failed: AccessDeniedException');
    expect(err.message.length).toBeLessThan(600);
    expect(toProviderError(err, 'aws-kms', 'Encrypt', undefined)).toBe(err);
  });

  it('parseKmsArn reads key and alias ARNs, and nothing else', () => {
    expect(parseKmsArn('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '111122223333',
      resourceType: 'key',
      resourceId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(parseKmsArn('arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/app')?.resourceType).toBe('alias');
    for (const s of ['alias/app', 'arn:aws:s3:::bucket', 'arn:aws:kms:eu-west-1:1111:key/x', '']) expect(parseKmsArn(s)).toBeUndefined();
  });
});
