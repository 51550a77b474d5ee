/**
 * In-memory KMS keys, aliases and the emulator's cryptography.
 *
 * Symmetric ciphertext blobs are the emulator's own format (real KMS blobs are opaque too), but
 * they behave like KMS's: they carry the key id (Decrypt works without `KeyId`), and AES-256-GCM
 * binds the EncryptionContext, so a different context fails with `InvalidCiphertextException`.
 * @module
 */
import { constants, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { kmsErrors, KmsFault } from './errors.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Key specs the emulator can create. */
export type AwsEmulatedKeySpec = 'SYMMETRIC_DEFAULT' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

/** RSA encryption algorithms KMS offers for ENCRYPT_DECRYPT keys. */
export type RsaEncryptionAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';

/** One emulated KMS key. */
export interface EmulatedKey {
  /** The key id (a UUID). */
  readonly keyId: string;
  /** `arn:aws:kms:<region>:<account>:key/<keyId>`. */
  readonly arn: string;
  readonly region: string;
  readonly accountId: string;
  readonly keySpec: AwsEmulatedKeySpec;
  readonly description: string;
  readonly creationDate: Date;
  enabled: boolean;
  /** Access key ids allowed to use the key; `undefined` = every known principal. */
  readonly allowedAccessKeyIds: readonly string[] | undefined;
  /** Symmetric keys: the key material, oldest first; the last one encrypts (RotateKeyOnDemand adds one). */
  readonly materials?: Buffer[];
  readonly privateKey?: KeyObject;
  readonly publicKeyDer?: Buffer;
}

const BLOB_MAGIC = 0xf6;
/** On-demand rotations KMS allows per key. */
export const MAX_ON_DEMAND_ROTATIONS = 10;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 36; // a UUID in its text form

const RSA_BITS: Record<Exclude<AwsEmulatedKeySpec, 'SYMMETRIC_DEFAULT'>, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/** The AES-GCM AAD for an EncryptionContext: sorted by UTF-8 bytes, every string length-prefixed. */
export function contextAad(keyId: string, context: Readonly<Record<string, string>> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [Buffer.from(`fieldseal-kms-emulator-v1\0${keyId}\0`, 'utf8')];
  for (const [k, v] of entries) {
    const len = Buffer.alloc(8);
    len.writeUInt32BE(k.length, 0);
    len.writeUInt32BE(v.length, 4);
    parts.push(len, k, v);
  }
  return Buffer.concat(parts);
}

/** Keys and aliases, partitioned by region like the real service. */
export class KmsKeyStore {
  readonly accountId: string;
  readonly #keys = new Map<string, EmulatedKey>(); // by keyId
  readonly #aliases = new Map<string, string>(); // `${region}/${aliasName}` -> keyId

  constructor(accountId: string) {
    this.accountId = accountId;
  }

  /** Create a key. RSA key generation takes 0.1–2 s, depending on the size. */
  async createKey(options: { region: string; keySpec?: AwsEmulatedKeySpec; description?: string; allowedAccessKeyIds?: readonly string[] }): Promise<EmulatedKey> {
    const keySpec = options.keySpec ?? 'SYMMETRIC_DEFAULT';
    const keyId = randomUUID();
    const base = {
      keyId,
      arn: `arn:aws:kms:${options.region}:${this.accountId}:key/${keyId}`,
      region: options.region,
      accountId: this.accountId,
      keySpec,
      description: options.description ?? '',
      creationDate: new Date(),
      enabled: true,
      allowedAccessKeyIds: options.allowedAccessKeyIds ? Object.freeze([...options.allowedAccessKeyIds]) : undefined,
    };
    let key: EmulatedKey;
    if (keySpec === 'SYMMETRIC_DEFAULT') {
      key = { ...base, materials: [randomBytes(32)] };
    } else if (keySpec in RSA_BITS) {
      const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_BITS[keySpec] });
      key = { ...base, privateKey, publicKeyDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }) };
    } else {
      throw kmsErrors.unsupported(`KeySpec ${String(keySpec)} is not supported by the emulator.`);
    }
    this.#keys.set(keyId, key);
    return key;
  }

  /** Import an existing RSA private key (PEM), e.g. to reuse one generated once per test suite. */
  importRsaKey(options: { region: string; privateKeyPem: string; description?: string }): EmulatedKey {
    const privateKey = createPrivateKey(options.privateKeyPem);
    const bits = privateKey.asymmetricKeyDetails?.modulusLength;
    const keySpec = (`RSA_${bits}` as AwsEmulatedKeySpec);
    if (privateKey.asymmetricKeyType !== 'rsa' || !(keySpec in RSA_BITS)) throw kmsErrors.unsupported('only RSA 2048/3072/4096 keys can be imported');
    const keyId = randomUUID();
    const key: EmulatedKey = {
      keyId,
      arn: `arn:aws:kms:${options.region}:${this.accountId}:key/${keyId}`,
      region: options.region,
      accountId: this.accountId,
      keySpec,
      description: options.description ?? '',
      creationDate: new Date(),
      enabled: true,
      allowedAccessKeyIds: undefined,
      privateKey,
      publicKeyDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    };
    this.#keys.set(keyId, key);
    return key;
  }

  /** Point `aliasName` (`alias/...`) at a key. `replace` = UpdateAlias semantics. */
  setAlias(region: string, aliasName: string, targetKeyId: string, replace: boolean): void {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName)) throw kmsErrors.validation(`Alias must start with the prefix "alias/" and contain only alphanumerics, '/', '_' or '-'.`);
    if (aliasName.startsWith('alias/aws/')) throw new KmsFault('NotAuthorizedException', 'Aliases that begin with alias/aws/ are reserved.');
    const target = this.resolve(region, targetKeyId);
    if (target.keyId !== targetKeyId && target.arn !== targetKeyId) throw kmsErrors.validation('TargetKeyId must be a key id or key ARN, not an alias.');
    const name = `${region}/${aliasName}`;
    const exists = this.#aliases.has(name);
    if (replace && !exists) throw kmsErrors.notFound(`Alias arn:aws:kms:${region}:${this.accountId}:${aliasName}`);
    if (!replace && exists) throw kmsErrors.alreadyExists(`An alias with the name arn:aws:kms:${region}:${this.accountId}:${aliasName} already exists`);
    this.#aliases.set(name, target.keyId);
  }

  /**
   * Resolve a KeyId as KMS accepts it: key id, key ARN, `alias/name` or alias ARN, always in the
   * region of the endpoint that was called.
   */
  resolve(region: string, identifier: string): EmulatedKey {
    let id = identifier;
    if (id.startsWith('arn:')) {
      const m = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/.exec(id);
      if (!m || m[1] !== region || m[2] !== this.accountId) throw kmsErrors.invalidArn(identifier);
      id = m[3]!;
      if (id.startsWith('key/')) id = id.slice(4);
    }
    if (id.startsWith('alias/')) {
      const keyId = this.#aliases.get(`${region}/${id}`);
      const key = keyId === undefined ? undefined : this.#keys.get(keyId);
      if (!key) throw kmsErrors.notFound(`Alias arn:aws:kms:${region}:${this.accountId}:${id}`);
      return key;
    }
    const key = this.#keys.get(id);
    if (!key || key.region !== region) throw kmsErrors.notFound(`Key 'arn:aws:kms:${region}:${this.accountId}:key/${id}'`);
    return key;
  }

  /** Every alias pointing at `key`. */
  aliasesOf(key: EmulatedKey): string[] {
    const out: string[] = [];
    for (const [name, keyId] of this.#aliases) if (keyId === key.keyId && name.startsWith(`${key.region}/`)) out.push(name.slice(key.region.length + 1));
    return out;
  }

  /** The key a symmetric blob names, or `undefined` when the blob is not one of ours. */
  keyOfBlob(blob: Buffer): EmulatedKey | undefined {
    if (blob.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || blob[0] !== BLOB_MAGIC) return undefined;
    return this.#keys.get(blob.subarray(1, 1 + KEY_ID_BYTES).toString('latin1'));
  }
}

/** Magic, key id, u16 material index. */
const HEADER_BYTES = 1 + KEY_ID_BYTES + 2;

/**
 * RotateKeyOnDemand: new key material for a symmetric key; ciphertexts under earlier material keep
 * decrypting (the blob records which material sealed it), as in KMS.
 */
export function rotateMaterial(key: EmulatedKey): void {
  if (key.materials === undefined) throw kmsErrors.unsupported(`${key.arn} key usage is ENCRYPT_DECRYPT with an asymmetric key spec, which is not valid for RotateKeyOnDemand.`);
  if (!key.enabled) throw kmsErrors.disabled(key.arn);
  if (key.materials.length > MAX_ON_DEMAND_ROTATIONS) throw new KmsFault('LimitExceededException', `The on-demand rotations limit has been reached for ${key.arn}.`);
  key.materials.push(randomBytes(32));
}

/** AES-256-GCM under a symmetric key's current material, the context bound as AAD; the blob names the key and the material. */
export function sealSymmetric(key: EmulatedKey, plaintext: Buffer, context: Readonly<Record<string, string>> | undefined): Buffer {
  const iv = randomBytes(IV_BYTES);
  const index = key.materials!.length - 1;
  const cipher = createCipheriv('aes-256-gcm', key.materials![index]!, iv);
  cipher.setAAD(contextAad(key.keyId, context));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = BLOB_MAGIC;
  header.write(key.keyId, 1, 'latin1');
  header.writeUInt16BE(index, 1 + KEY_ID_BYTES);
  return Buffer.concat([header, iv, cipher.getAuthTag(), ct]);
}

/** Open a blob made by {@link sealSymmetric}; any mismatch is `InvalidCiphertextException`. */
export function openSymmetric(key: EmulatedKey, blob: Buffer, context: Readonly<Record<string, string>> | undefined): Buffer {
  const material = key.materials?.[blob.readUInt16BE(1 + KEY_ID_BYTES)];
  if (material === undefined) throw kmsErrors.invalidCiphertext();
  const offset = HEADER_BYTES;
  const iv = blob.subarray(offset, offset + IV_BYTES);
  const tag = blob.subarray(offset + IV_BYTES, offset + IV_BYTES + TAG_BYTES);
  const ct = blob.subarray(offset + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, iv);
    decipher.setAAD(contextAad(key.keyId, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw kmsErrors.invalidCiphertext();
  }
}

function oaepHash(algorithm: RsaEncryptionAlgorithm): string {
  return algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
}

/** Largest plaintext RSA-OAEP accepts for this key and hash (RFC 8017 §7.1.1: k - 2hLen - 2). */
export function rsaMaxPlaintext(key: EmulatedKey, algorithm: RsaEncryptionAlgorithm): number {
  const k = RSA_BITS[key.keySpec as keyof typeof RSA_BITS] / 8;
  return k - 2 * (algorithm === 'RSAES_OAEP_SHA_1' ? 20 : 32) - 2;
}

/** RSA-OAEP encryption with the key's public half (what KMS Encrypt does for RSA keys). */
export function rsaEncrypt(key: EmulatedKey, plaintext: Buffer, algorithm: RsaEncryptionAlgorithm): Buffer {
  return publicEncrypt({ key: key.privateKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, plaintext);
}

/** RSA-OAEP decryption; a wrong key, algorithm or tampered ciphertext is `InvalidCiphertextException`. */
export function rsaDecrypt(key: EmulatedKey, ciphertext: Buffer, algorithm: RsaEncryptionAlgorithm): Buffer {
  try {
    return privateDecrypt({ key: key.privateKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, ciphertext);
  } catch {
    throw kmsErrors.invalidCiphertext();
  }
}
