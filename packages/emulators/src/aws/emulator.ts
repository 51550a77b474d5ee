/**
 * A loopback AWS KMS emulator speaking the KMS JSON 1.1 protocol, for the real `@aws-sdk/client-kms`.
 * @module
 */
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { delay, FaultInjector, readBody, RequestCounters, startLoopbackHttpServer } from '../harness.js';
import type { EmulatorHandle, EmulatorOptions, Fault } from '../harness.js';
import { kmsErrors, KmsFault } from './errors.js';
import { KmsKeyStore, openSymmetric, rotateMaterial, rsaDecrypt, rsaEncrypt, rsaMaxPlaintext, sealSymmetric } from './keystore.js';
import type { EmulatedKey, AwsEmulatedKeySpec, RsaEncryptionAlgorithm } from './keystore.js';
import { verifySigV4 } from './sigv4.js';
import type { AwsCredentialPair } from './sigv4.js';

export type { AwsCredentialPair } from './sigv4.js';
export type { AwsEmulatedKeySpec } from './keystore.js';

/** Options of {@link startAwsKmsEmulator}. */
export interface AwsKmsEmulatorOptions extends EmulatorOptions {
  /** Region used for keys created without one and in {@link AwsKmsEmulator.clientConfig}. Default `us-east-1`. */
  readonly region?: string;
  /** The emulated account id (12 digits). Default `111122223333`. */
  readonly accountId?: string;
  /** The credentials the emulator accepts. Default: a random pair, see {@link AwsKmsEmulator.credentials}. */
  readonly credentials?: AwsCredentialPair;
  /**
   * More regions the endpoint answers for. A request signed for any other region is refused with
   * `InvalidSignatureException`, as a regional KMS endpoint refuses it. Always served: `region`
   * and the region of every key created through {@link AwsKmsEmulator.createKey}.
   */
  readonly regions?: readonly string[];
}

/** Options of {@link AwsKmsEmulator.createKey}. */
export interface AwsCreateKeyOptions {
  /** Default `SYMMETRIC_DEFAULT`. RSA keys are ENCRYPT_DECRYPT keys (RSAES_OAEP_SHA_1 / _256). */
  readonly keySpec?: AwsEmulatedKeySpec;
  /** Also create this alias (`alias/...`) for the key. */
  readonly alias?: string;
  /** Region of the key. Default: the emulator's region. */
  readonly region?: string;
  readonly description?: string;
  /**
   * Only these access key ids may use the key (a stand-in for a key policy); others get
   * `AccessDeniedException`. Default: every credential the emulator knows.
   */
  readonly allowedAccessKeyIds?: readonly string[];
}

/** A key created in the emulator. */
export interface AwsEmulatedKey {
  /** The key id (UUID). */
  readonly keyId: string;
  /** The key ARN, as KMS reports it in responses. */
  readonly arn: string;
  readonly region: string;
  readonly keySpec: AwsEmulatedKeySpec;
  /** The alias created with the key, if any (`alias/...`). */
  readonly alias?: string;
  /** The alias ARN, if an alias was created. */
  readonly aliasArn?: string;
  /** For RSA keys: the public key as SPKI PEM (what `aws kms get-public-key` gives, PEM-armoured). */
  readonly publicKeyPem?: string;
}

/** One request as the emulator saw it. Never holds plaintext, data keys or ciphertext. */
export interface AwsKmsRequestRecord {
  /** The `X-Amz-Target` operation, e.g. `Decrypt`. */
  readonly operation: string;
  /** HTTP status answered (0 when the connection was dropped). */
  readonly status: number;
  /** The KMS error code when the request failed. */
  readonly errorType?: string;
  /** The access key id that signed the request, once the signature verified. */
  readonly accessKeyId?: string;
  /** The `KeyId` (or `DestinationKeyId`) the request named, if any. */
  readonly keyId?: string;
  /** The `EncryptionContext` (or `SourceEncryptionContext`) the request carried, if any. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
  /** `DestinationEncryptionContext` of a ReEncrypt, if any. */
  readonly destinationEncryptionContext?: Readonly<Record<string, string>>;
}

/** A running AWS KMS emulator. */
export interface AwsKmsEmulator extends EmulatorHandle {
  /** The default region. */
  readonly region: string;
  readonly accountId: string;
  /** Credentials the emulator accepts (static, test-only). */
  readonly credentials: AwsCredentialPair;
  /** Requests so far, oldest first (the most recent 10,000; see {@link AwsKmsRequestRecord}). */
  readonly log: readonly AwsKmsRequestRecord[];
  /** `{ region, endpoint, credentials }` to spread into `new KMSClient({...})`. */
  clientConfig(region?: string): { region: string; endpoint: string; credentials: AwsCredentialPair };
  /** Environment for SDKs and tools: `AWS_ENDPOINT_URL_KMS`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`. */
  env(): Record<string, string>;
  /** Create a key (and optionally an alias) without going through the API. */
  createKey(options?: AwsCreateKeyOptions): Promise<AwsEmulatedKey>;
  /** Add an RSA key from an existing private key PEM (RSA key generation is slow; reuse one per suite). */
  importRsaKey(privateKeyPem: string, options?: { alias?: string; region?: string }): AwsEmulatedKey;
  /** Create (`replace` false) or repoint (`replace` true) an alias. */
  setAlias(aliasName: string, targetKeyId: string, options?: { region?: string; replace?: boolean }): void;
  /** Enable or disable a key (a disabled key answers `DisabledException`). */
  setKeyEnabled(keyIdOrArn: string, enabled: boolean, region?: string): void;
  /** Register and return another credential pair: another principal, for access-denied tests. */
  addCredentials(): AwsCredentialPair;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
interface CallContext {
  readonly region: string;
  readonly accessKeyId: string;
}

const SYMMETRIC = 'SYMMETRIC_DEFAULT';
const RSA_ALGORITHMS: readonly RsaEncryptionAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_LOG_RECORDS = 10_000;

function randomCredentials(): AwsCredentialPair {
  // Shaped like real ones (AKIA + 16, 40-char secret) but random per run: nothing to leak, nothing to guess.
  return { accessKeyId: `AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`, secretAccessKey: randomBytes(30).toString('base64') };
}

function optionalString(input: Input, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw kmsErrors.serialization(`${name} must be a string`);
  return v;
}

function requiredString(input: Input, name: string): string {
  const v = optionalString(input, name);
  if (v === undefined || v === '') throw kmsErrors.validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function requiredBlob(input: Input, name: string, maxBytes: number): Buffer {
  const s = requiredString(input, name);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw kmsErrors.serialization(`${name} is not valid base64`);
  const b = Buffer.from(s, 'base64');
  if (b.length < 1 || b.length > maxBytes) throw kmsErrors.validation(`1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length between 1 and ${maxBytes}`);
  return b;
}

function optionalContext(input: Input, name: string): Record<string, string> | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw kmsErrors.serialization(`${name} must be a map of strings`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (typeof value !== 'string') throw kmsErrors.serialization(`${name} values must be strings`);
    out[k] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function b64(b: Buffer): string {
  return b.toString('base64');
}

/**
 * Start a loopback AWS KMS emulator.
 *
 * It implements `CreateKey` (SYMMETRIC_DEFAULT, RSA_2048/3072/4096), `DescribeKey`, `CreateAlias`,
 * `UpdateAlias`, `EnableKey`, `DisableKey`, `Encrypt`, `Decrypt`, `GenerateDataKey`,
 * `GenerateDataKeyWithoutPlaintext`, `ReEncrypt`, `GetPublicKey` and `RotateKeyOnDemand` (new key
 * material; earlier ciphertexts keep decrypting; at most 10 per key) over the KMS JSON 1.1 protocol,
 * verifies the SigV4 signature of every request (payload hash included), binds the
 * EncryptionContext into AES-256-GCM, and answers KMS's error shapes. Keys are held in memory.
 * A request signed for a region the endpoint does not serve (its `region`, `regions`, and the regions
 * of keys created through the handle) is refused with `InvalidSignatureException`, as a regional
 * endpoint refuses it; keys live in one region, as in KMS.
 *
 * Failpoints (`faults.inject({ kind, count, operation })`): `throttle` answers `ThrottlingException`
 * (HTTP 400), `server-error` answers `KMSInternalException` (HTTP 500; `status: 503` answers
 * `ServiceUnavailableException`), `delay` waits `delayMs` first, `drop` destroys the connection, `blackhole` never answers,
 * `corrupt-response` flips one bit of the returned `Plaintext` (or `CiphertextBlob`).
 *
 * @param options Port, host (loopback only), TLS, region, account id, credentials.
 * @returns The running emulator; call `close()` when done.
 * @example
 * ```ts
 * const kms = await startAwsKmsEmulator();
 * const key = await kms.createKey({ alias: 'alias/app' });
 * const client = new KMSClient(kms.clientConfig());
 * // ... client.send(new EncryptCommand({ KeyId: key.arn, Plaintext })) ...
 * client.destroy();
 * await kms.close();
 * ```
 */
export async function startAwsKmsEmulator(options: AwsKmsEmulatorOptions = {}): Promise<AwsKmsEmulator> {
  const defaultRegion = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '111122223333';
  if (!/^\d{12}$/.test(accountId)) throw new RangeError('accountId must be 12 digits');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(defaultRegion)) throw new RangeError(`not a region name: ${defaultRegion}`);
  for (const r of options.regions ?? []) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) throw new RangeError(`not a region name: ${r}`);
  // Regions whose requests the endpoint answers (a real endpoint serves exactly one).
  const served = new Set<string>([defaultRegion, ...(options.regions ?? [])]);
  const credentials = options.credentials ?? randomCredentials();
  const secrets = new Map<string, string>([[credentials.accessKeyId, credentials.secretAccessKey]]);
  const store = new KmsKeyStore(accountId);
  const counters = new RequestCounters();
  const faults = new FaultInjector();
  const log: AwsKmsRequestRecord[] = [];

  const principalArn = (accessKeyId: string): string => `arn:aws:iam::${accountId}:user/${accessKeyId}`;

  function usable(ctx: CallContext, key: EmulatedKey, action: string): EmulatedKey {
    if (key.allowedAccessKeyIds && !key.allowedAccessKeyIds.includes(ctx.accessKeyId)) throw kmsErrors.accessDenied(principalArn(ctx.accessKeyId), action, key.arn);
    if (!key.enabled) throw kmsErrors.disabled(key.arn);
    return key;
  }

  function rsaAlgorithm(value: string | undefined): RsaEncryptionAlgorithm {
    if (value === undefined) throw kmsErrors.invalidKeyUsage('An EncryptionAlgorithm is required for asymmetric KMS keys.');
    if (!(RSA_ALGORITHMS as readonly string[]).includes(value)) throw kmsErrors.invalidKeyUsage(`The EncryptionAlgorithm ${value} is not supported for this KMS key.`);
    return value as RsaEncryptionAlgorithm;
  }

  function encryptUnder(ctx: CallContext, keyIdentifier: string, plaintext: Buffer, context: Record<string, string> | undefined, algorithm: string | undefined, action: string) {
    const key = usable(ctx, store.resolve(ctx.region, keyIdentifier), action);
    if (key.keySpec === SYMMETRIC) {
      if (algorithm !== undefined && algorithm !== SYMMETRIC) throw kmsErrors.invalidKeyUsage(`The EncryptionAlgorithm ${algorithm} is not supported for this KMS key.`);
      if (plaintext.length > 4096) throw kmsErrors.validation('Plaintext must be at most 4096 bytes.');
      return { key, blob: sealSymmetric(key, plaintext, context), algorithm: SYMMETRIC };
    }
    const alg = rsaAlgorithm(algorithm);
    if (context !== undefined) throw kmsErrors.validation('EncryptionContext is not supported with asymmetric KMS keys.');
    if (plaintext.length > rsaMaxPlaintext(key, alg)) throw kmsErrors.validation(`Plaintext is too long for ${key.keySpec} with ${alg}.`);
    return { key, blob: rsaEncrypt(key, plaintext, alg), algorithm: alg };
  }

  function decryptBlob(ctx: CallContext, blob: Buffer, keyIdentifier: string | undefined, context: Record<string, string> | undefined, algorithm: string | undefined, action: string) {
    let key: EmulatedKey;
    if (keyIdentifier !== undefined) {
      key = store.resolve(ctx.region, keyIdentifier);
      if (key.keySpec !== SYMMETRIC) {
        usable(ctx, key, action);
        const alg = rsaAlgorithm(algorithm);
        if (context !== undefined) throw kmsErrors.validation('EncryptionContext is not supported with asymmetric KMS keys.');
        return { key, plaintext: rsaDecrypt(key, blob, alg), algorithm: alg };
      }
      const named = store.keyOfBlob(blob);
      if (named === undefined) throw kmsErrors.invalidCiphertext();
      if (named.keyId !== key.keyId) throw kmsErrors.incorrectKey();
    } else {
      const named = store.keyOfBlob(blob);
      // Blobs carry their key id; RSA ciphertexts do not, which is why KMS insists on KeyId for them.
      if (named === undefined || named.region !== ctx.region) throw kmsErrors.invalidCiphertext();
      key = named;
    }
    if (algorithm !== undefined && algorithm !== SYMMETRIC) throw kmsErrors.invalidKeyUsage(`The EncryptionAlgorithm ${algorithm} is not supported for this KMS key.`);
    usable(ctx, key, action);
    return { key, plaintext: openSymmetric(key, blob, context), algorithm: SYMMETRIC };
  }

  function keyMetadata(key: EmulatedKey): Output {
    return {
      AWSAccountId: key.accountId,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: key.creationDate.getTime() / 1000,
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      EncryptionAlgorithms: key.keySpec === SYMMETRIC ? [SYMMETRIC] : [...RSA_ALGORITHMS],
      MultiRegion: false,
    };
  }

  function generateDataKey(ctx: CallContext, input: Input, withPlaintext: boolean): Output {
    const keySpec = optionalString(input, 'KeySpec');
    const numberOfBytes = input['NumberOfBytes'];
    let size: number;
    if (keySpec !== undefined && numberOfBytes !== undefined) throw kmsErrors.validation('Please specify either number of bytes or key spec, not both.');
    if (keySpec === 'AES_256') size = 32;
    else if (keySpec === 'AES_128') size = 16;
    else if (keySpec !== undefined) throw kmsErrors.validation(`Value '${keySpec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
    else if (typeof numberOfBytes === 'number' && Number.isInteger(numberOfBytes) && numberOfBytes >= 1 && numberOfBytes <= 1024) size = numberOfBytes;
    else throw kmsErrors.validation('Please specify either number of bytes or key spec.');
    const key = store.resolve(ctx.region, requiredString(input, 'KeyId'));
    if (key.keySpec !== SYMMETRIC) throw kmsErrors.invalidKeyUsage(`${key.arn} key usage is ENCRYPT_DECRYPT with an asymmetric key spec, which is not valid for GenerateDataKey.`);
    const dataKey = randomBytes(size);
    const { blob } = encryptUnder(ctx, key.keyId, dataKey, optionalContext(input, 'EncryptionContext'), undefined, withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext');
    const out: Output = { CiphertextBlob: b64(blob), KeyId: key.arn };
    if (withPlaintext) out['Plaintext'] = b64(dataKey);
    dataKey.fill(0);
    return out;
  }

  const operations: Record<string, (ctx: CallContext, input: Input) => Output | Promise<Output>> = {
    async CreateKey(ctx, input) {
      const usage = optionalString(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
      if (usage !== 'ENCRYPT_DECRYPT') throw kmsErrors.unsupported(`KeyUsage ${usage} is not supported by the emulator.`);
      const spec = optionalString(input, 'KeySpec') ?? optionalString(input, 'CustomerMasterKeySpec') ?? SYMMETRIC;
      if (![SYMMETRIC, 'RSA_2048', 'RSA_3072', 'RSA_4096'].includes(spec)) throw kmsErrors.unsupported(`KeySpec ${spec} is not supported by the emulator.`);
      const description = optionalString(input, 'Description');
      const key = await store.createKey({ region: ctx.region, keySpec: spec as AwsEmulatedKeySpec, ...(description !== undefined ? { description } : {}) });
      return { KeyMetadata: keyMetadata(key) };
    },
    DescribeKey(ctx, input) {
      const key = store.resolve(ctx.region, requiredString(input, 'KeyId'));
      if (key.allowedAccessKeyIds && !key.allowedAccessKeyIds.includes(ctx.accessKeyId)) throw kmsErrors.accessDenied(principalArn(ctx.accessKeyId), 'DescribeKey', key.arn);
      return { KeyMetadata: keyMetadata(key) };
    },
    CreateAlias(ctx, input) {
      store.setAlias(ctx.region, requiredString(input, 'AliasName'), requiredString(input, 'TargetKeyId'), false);
      return {};
    },
    UpdateAlias(ctx, input) {
      store.setAlias(ctx.region, requiredString(input, 'AliasName'), requiredString(input, 'TargetKeyId'), true);
      return {};
    },
    EnableKey(ctx, input) {
      store.resolve(ctx.region, requiredString(input, 'KeyId')).enabled = true;
      return {};
    },
    DisableKey(ctx, input) {
      store.resolve(ctx.region, requiredString(input, 'KeyId')).enabled = false;
      return {};
    },
    RotateKeyOnDemand(ctx, input) {
      const key = store.resolve(ctx.region, requiredString(input, 'KeyId'));
      if (key.allowedAccessKeyIds && !key.allowedAccessKeyIds.includes(ctx.accessKeyId)) throw kmsErrors.accessDenied(principalArn(ctx.accessKeyId), 'RotateKeyOnDemand', key.arn);
      rotateMaterial(key);
      return { KeyId: key.arn };
    },
    Encrypt(ctx, input) {
      const plaintext = requiredBlob(input, 'Plaintext', 4096);
      const r = encryptUnder(ctx, requiredString(input, 'KeyId'), plaintext, optionalContext(input, 'EncryptionContext'), optionalString(input, 'EncryptionAlgorithm'), 'Encrypt');
      return { CiphertextBlob: b64(r.blob), KeyId: r.key.arn, EncryptionAlgorithm: r.algorithm };
    },
    Decrypt(ctx, input) {
      const blob = requiredBlob(input, 'CiphertextBlob', 6144);
      const r = decryptBlob(ctx, blob, optionalString(input, 'KeyId'), optionalContext(input, 'EncryptionContext'), optionalString(input, 'EncryptionAlgorithm'), 'Decrypt');
      const out = { Plaintext: b64(r.plaintext), KeyId: r.key.arn, EncryptionAlgorithm: r.algorithm };
      r.plaintext.fill(0);
      return out;
    },
    GenerateDataKey: (ctx, input) => generateDataKey(ctx, input, true),
    GenerateDataKeyWithoutPlaintext: (ctx, input) => generateDataKey(ctx, input, false),
    ReEncrypt(ctx, input) {
      const blob = requiredBlob(input, 'CiphertextBlob', 6144);
      const source = decryptBlob(ctx, blob, optionalString(input, 'SourceKeyId'), optionalContext(input, 'SourceEncryptionContext'), optionalString(input, 'SourceEncryptionAlgorithm'), 'ReEncryptFrom');
      try {
        const target = encryptUnder(ctx, requiredString(input, 'DestinationKeyId'), source.plaintext, optionalContext(input, 'DestinationEncryptionContext'), optionalString(input, 'DestinationEncryptionAlgorithm'), 'ReEncryptTo');
        return { CiphertextBlob: b64(target.blob), SourceKeyId: source.key.arn, KeyId: target.key.arn, SourceEncryptionAlgorithm: source.algorithm, DestinationEncryptionAlgorithm: target.algorithm };
      } finally {
        source.plaintext.fill(0);
      }
    },
    GetPublicKey(ctx, input) {
      const key = usable(ctx, store.resolve(ctx.region, requiredString(input, 'KeyId')), 'GetPublicKey');
      if (key.keySpec === SYMMETRIC) throw kmsErrors.unsupported(`${key.arn} key usage is ENCRYPT_DECRYPT with a symmetric key spec, which is not valid for GetPublicKey.`);
      return {
        KeyId: key.arn,
        PublicKey: b64(key.publicKeyDer!),
        CustomerMasterKeySpec: key.keySpec,
        KeySpec: key.keySpec,
        KeyUsage: 'ENCRYPT_DECRYPT',
        EncryptionAlgorithms: [...RSA_ALGORITHMS],
      };
    },
  };

  function send(res: ServerResponse, status: number, body: Output): void {
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': payload.length, 'x-amzn-requestid': randomUUID() });
    res.end(payload);
  }

  function sendFault(res: ServerResponse, fault: KmsFault): void {
    send(res, fault.status, { __type: fault.type, message: fault.message });
  }

  function corrupt(out: Output): void {
    const field = typeof out['Plaintext'] === 'string' ? 'Plaintext' : typeof out['CiphertextBlob'] === 'string' ? 'CiphertextBlob' : undefined;
    if (field === undefined) return;
    const bytes = Buffer.from(out[field] as string, 'base64');
    bytes[bytes.length - 1]! ^= 0x01;
    out[field] = b64(bytes);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const match = typeof target === 'string' ? /^TrentService\.([A-Za-z]+)$/.exec(target) : null;
    const operation = match?.[1] ?? 'Unknown';
    counters.increment(operation);
    const record: { -readonly [K in keyof AwsKmsRequestRecord]: AwsKmsRequestRecord[K] } = { operation, status: 0 };
    log.push(record);
    // A hand-run emulator may serve for days: keep the most recent records only.
    if (log.length > MAX_LOG_RECORDS) log.splice(0, log.length - MAX_LOG_RECORDS);

    const fault: Fault | undefined = faults.take(operation);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'blackhole') {
      req.resume(); // read the request, answer nothing; close() ends the connection
      return;
    }
    if (fault?.kind === 'delay') await delay(fault.delayMs ?? 100);

    let body: Buffer;
    try {
      body = await readBody(req, 1 << 20);
    } catch {
      record.status = 413;
      res.writeHead(413).end();
      return;
    }

    try {
      if (fault?.kind === 'throttle') throw new KmsFault('ThrottlingException', 'Rate exceeded', 400);
      if (fault?.kind === 'server-error') {
        const status = fault.status ?? 500;
        throw status === 503 ? new KmsFault('ServiceUnavailableException', 'Service Unavailable', 503) : new KmsFault('KMSInternalException', 'An internal error occurred.', status);
      }
      if (req.method !== 'POST') throw kmsErrors.unknownOperation();
      const signer = verifySigV4({ method: req.method, url: req.url ?? '/', headers: req.headers, body }, (id) => secrets.get(id));
      record.accessKeyId = signer.accessKeyId;
      const handler = match ? operations[operation] : undefined;
      if (!handler) throw kmsErrors.unknownOperation();
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.startsWith(JSON_CONTENT_TYPE)) throw kmsErrors.serialization(`content-type must be ${JSON_CONTENT_TYPE}`);
      let input: unknown;
      try {
        input = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
      } catch {
        throw kmsErrors.serialization('Start of structure or map found where not expected.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw kmsErrors.serialization('Request body must be a JSON object.');
      const inp = input as Input;
      const keyId = inp['KeyId'] ?? inp['DestinationKeyId'];
      if (typeof keyId === 'string') record.keyId = keyId;
      const ctx = inp['EncryptionContext'] ?? inp['SourceEncryptionContext'];
      if (ctx !== undefined && ctx !== null && typeof ctx === 'object') record.encryptionContext = Object.freeze({ ...(ctx as Record<string, string>) });
      const destCtx = inp['DestinationEncryptionContext'];
      if (destCtx !== undefined && destCtx !== null && typeof destCtx === 'object') record.destinationEncryptionContext = Object.freeze({ ...(destCtx as Record<string, string>) });

      const out = await handler({ region: signerRegion(signer.region), accessKeyId: signer.accessKeyId }, inp);
      if (fault?.kind === 'corrupt-response') corrupt(out);
      record.status = 200;
      send(res, 200, out);
    } catch (err) {
      const fault = err instanceof KmsFault ? err : new KmsFault('KMSInternalException', 'An internal error occurred.', 500);
      record.status = fault.status;
      record.errorType = fault.type;
      sendFault(res, fault);
    }
  }

  function signerRegion(region: string): string {
    if (!served.has(region)) throw new KmsFault('InvalidSignatureException', `Credential should be scoped to a valid region.`);
    return region;
  }

  const server = await startLoopbackHttpServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  }, options);

  function keyInfo(key: EmulatedKey, alias?: string): AwsEmulatedKey {
    return {
      keyId: key.keyId,
      arn: key.arn,
      region: key.region,
      keySpec: key.keySpec,
      ...(alias !== undefined ? { alias, aliasArn: `arn:aws:kms:${key.region}:${accountId}:${alias}` } : {}),
      ...(key.publicKeyDer ? { publicKeyPem: createPublicKey({ key: key.publicKeyDer, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString() } : {}),
    };
  }

  function wrapFault<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof KmsFault) throw new Error(`${err.type}: ${err.message}`);
      throw err;
    }
  }

  return {
    url: server.url,
    port: server.port,
    counters,
    faults,
    region: defaultRegion,
    accountId,
    credentials,
    log,
    close: () => server.close(),
    clientConfig: (region = defaultRegion) => ({ region, endpoint: server.url, credentials: { ...credentials } }),
    env: () => ({
      AWS_ENDPOINT_URL_KMS: server.url,
      AWS_REGION: defaultRegion,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    }),
    async createKey(opts = {}) {
      const region = opts.region ?? defaultRegion;
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new RangeError(`not a region name: ${region}`);
      served.add(region);
      const key = await store.createKey({
        region,
        ...(opts.keySpec !== undefined ? { keySpec: opts.keySpec } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.allowedAccessKeyIds !== undefined ? { allowedAccessKeyIds: opts.allowedAccessKeyIds } : {}),
      });
      if (opts.alias !== undefined) wrapFault(() => store.setAlias(region, opts.alias!, key.keyId, false));
      return keyInfo(key, opts.alias);
    },
    importRsaKey(privateKeyPem, opts = {}) {
      const region = opts.region ?? defaultRegion;
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new RangeError(`not a region name: ${region}`);
      served.add(region);
      const key = wrapFault(() => store.importRsaKey({ region, privateKeyPem }));
      if (opts.alias !== undefined) wrapFault(() => store.setAlias(region, opts.alias!, key.keyId, false));
      return keyInfo(key, opts.alias);
    },
    setAlias(aliasName, targetKeyId, opts = {}) {
      wrapFault(() => store.setAlias(opts.region ?? defaultRegion, aliasName, targetKeyId, opts.replace ?? false));
    },
    setKeyEnabled(keyIdOrArn, enabled, region = defaultRegion) {
      wrapFault(() => {
        store.resolve(region, keyIdOrArn).enabled = enabled;
      });
    },
    addCredentials() {
      const pair = randomCredentials();
      secrets.set(pair.accessKeyId, pair.secretAccessKey);
      return pair;
    },
  };
}
