// In-memory key store of the Azure Key Vault emulator: named keys with versions, RSA and AES key
// material, and the wrap/unwrap/encrypt/decrypt primitives Key Vault offers for them.
import { createCipheriv, createDecipheriv, createPublicKey, constants, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Key types the emulator can hold (Key Vault's `kty`). `oct-HSM` is a Managed HSM AES key. */
export type AzureEmulatedKeyType = 'RSA' | 'RSA-HSM' | 'oct' | 'oct-HSM';

/** Options for creating a key (or a new version of one) in the emulator. */
export interface AzureCreateKeyOptions {
  /** Key type. Default `RSA`. */
  readonly kty?: AzureEmulatedKeyType;
  /**
   * A pre-generated RSA private key (RSA keygen takes 100–200 ms, so test suites generate a few once
   * and pass them in). When absent, a key of `size` bits is generated.
   */
  readonly privateKey?: KeyObject;
  /** RSA modulus bits (default 2048) or AES key bits (default 256). */
  readonly size?: number;
  /** Key Vault `key_ops`. Default: every operation the key type supports. */
  readonly keyOps?: readonly string[];
  /** Whether the new version is enabled. Default true. */
  readonly enabled?: boolean;
  /** Expiry (`exp`), Unix seconds: after it Key Vault refuses wrapKey/encrypt but still unwraps and decrypts. */
  readonly expiresOn?: number;
}

/** A public view of one key version: never contains private or secret key material. */
export interface AzureEmulatedKeyVersion {
  /** Key name. */
  readonly name: string;
  /** Version id: 32 lowercase hex characters, as Key Vault issues them. */
  readonly version: string;
  /** Key type. */
  readonly kty: AzureEmulatedKeyType;
  /** Allowed operations. */
  readonly keyOps: readonly string[];
  /** Whether the version is enabled. */
  readonly enabled: boolean;
  /** Expiry, Unix seconds. */
  readonly expiresOn?: number;
  /** For RSA keys: the public key as a JWK (`n`, `e` base64url). */
  readonly publicJwk?: { readonly kty: 'RSA'; readonly n: string; readonly e: string };
}

/** A key-level failure, mapped to a Key Vault error response by the HTTP layer. */
export class KeyVaultEmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

/** @internal One stored key version, with its key material. */
export interface StoredVersion {
  readonly name: string;
  readonly version: string;
  readonly kty: AzureEmulatedKeyType;
  readonly keyOps: readonly string[];
  enabled: boolean;
  expiresOn?: number;
  readonly created: number;
  updated: number;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
  readonly publicJwk?: { readonly kty: 'RSA'; readonly n: string; readonly e: string };
  readonly secret?: Buffer;
}

const RSA_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'] as const;
const OCT_OPS = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] as const;
/** Key Vault key names: 1–127 characters of `0-9a-zA-Z-`. */
const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;

function isRsa(kty: AzureEmulatedKeyType): boolean {
  return kty === 'RSA' || kty === 'RSA-HSM';
}

function generateRsa(bits: number): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits }, (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)));
  });
}

/** The key store. Names are case-insensitive in Key Vault; the first spelling is kept. */
export class AzureKeyStore {
  readonly #keys = new Map<string, StoredVersion[]>();
  readonly #managedHsm: boolean;

  /** @param managedHsm Symmetric (`oct`) keys exist only in a Managed HSM; a vault refuses them. */
  constructor(managedHsm = false) {
    this.#managedHsm = managedHsm;
  }

  /** Create a key, or a new version of an existing key (what Key Vault's `create` does). */
  async create(name: string, options: AzureCreateKeyOptions = {}): Promise<AzureEmulatedKeyVersion> {
    if (!KEY_NAME.test(name)) throw new KeyVaultEmulatorError(400, 'BadParameter', `The key name '${name.slice(0, 40)}' is not valid: use 1-127 characters of 0-9, a-z, A-Z and '-'.`);
    const kty = options.kty ?? 'RSA';
    if (!isRsa(kty) && !this.#managedHsm) {
      throw new KeyVaultEmulatorError(400, 'BadParameter', `Key type '${kty}' is not supported by this vault: symmetric keys need a Managed HSM (https://{hsm}.managedhsm.azure.net).`);
    }
    const now = Math.floor(Date.now() / 1000);
    const base = {
      name: this.#versions(name)[0]?.name ?? name,
      version: randomBytes(16).toString('hex'),
      kty,
      enabled: options.enabled ?? true,
      ...(options.expiresOn === undefined ? {} : { expiresOn: options.expiresOn }),
      created: now,
      updated: now,
    };
    let stored: StoredVersion;
    if (isRsa(kty)) {
      const size = options.size ?? 2048;
      if (options.privateKey === undefined && ![2048, 3072, 4096].includes(size)) throw new KeyVaultEmulatorError(400, 'BadParameter', 'RSA key_size must be 2048, 3072 or 4096.');
      const privateKey = options.privateKey ?? (await generateRsa(size));
      if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') throw new KeyVaultEmulatorError(400, 'BadParameter', 'privateKey must be an RSA private key.');
      const jwk = privateKey.export({ format: 'jwk' });
      stored = { ...base, keyOps: options.keyOps ?? RSA_OPS, privateKey, publicKey: createPublic(privateKey), publicJwk: { kty: 'RSA', n: jwk.n!, e: jwk.e! } };
    } else {
      const size = options.size ?? 256;
      if (![128, 192, 256].includes(size)) throw new KeyVaultEmulatorError(400, 'BadParameter', 'oct key_size must be 128, 192 or 256.');
      stored = { ...base, keyOps: options.keyOps ?? OCT_OPS, secret: randomBytes(size / 8) };
    }
    const versions = this.#keys.get(name.toLowerCase()) ?? [];
    versions.push(stored);
    this.#keys.set(name.toLowerCase(), versions);
    return view(stored);
  }

  /** A new version of an existing key with the same type and size (Key Vault's `rotate`). */
  async rotate(name: string, options: Pick<AzureCreateKeyOptions, 'privateKey' | 'enabled'> = {}): Promise<AzureEmulatedKeyVersion> {
    const latest = this.get(name, '', { allowDisabled: true });
    return this.create(name, {
      kty: latest.kty,
      keyOps: latest.keyOps,
      size: latest.secret ? latest.secret.length * 8 : (latest.publicKey?.asymmetricKeyDetails?.modulusLength ?? 2048),
      ...(options.privateKey ? { privateKey: options.privateKey } : {}),
      ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
    });
  }

  /** Every version of `name`, oldest first. */
  versions(name: string): readonly AzureEmulatedKeyVersion[] {
    return this.#versions(name).map(view);
  }

  /** Enable or disable one version (`''` = the latest). */
  setEnabled(name: string, version: string, enabled: boolean): AzureEmulatedKeyVersion {
    const v = this.get(name, version, { allowDisabled: true });
    v.enabled = enabled;
    v.updated = Math.floor(Date.now() / 1000);
    return view(v);
  }

  /** Set or clear (`undefined`) the expiry of one version (`''` = latest). */
  setExpiry(name: string, version: string, expiresOn: number | undefined): AzureEmulatedKeyVersion {
    const v = this.get(name, version, { allowDisabled: true });
    v.expiresOn = expiresOn;
    v.updated = Math.floor(Date.now() / 1000);
    return view(v);
  }

  /** Look up a version; `''` is the latest (most recently created) one. */
  get(name: string, version: string, opts: { allowDisabled?: boolean; operation?: string } = {}): StoredVersion {
    const versions = this.#versions(name);
    const found = version === '' ? versions.at(-1) : versions.find((v) => v.version === version.toLowerCase());
    if (found === undefined) {
      throw new KeyVaultEmulatorError(404, 'KeyNotFound', `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.`);
    }
    if (!found.enabled && !opts.allowDisabled) {
      throw new KeyVaultEmulatorError(403, 'Forbidden', `Operation ${opts.operation ?? 'get'} is not allowed on a disabled key.`, 'KeyDisabled');
    }
    // An expired key still unwraps, decrypts and verifies, so old data stays readable.
    if (found.expiresOn !== undefined && Date.now() / 1000 >= found.expiresOn && (opts.operation === 'wrapKey' || opts.operation === 'encrypt' || opts.operation === 'sign')) {
      throw new KeyVaultEmulatorError(403, 'Forbidden', `Operation ${opts.operation} is not allowed on an expired key.`, 'KeyExpired');
    }
    return found;
  }

  /** Every version of a key, oldest first, or a `KeyNotFound` error. */
  versionsOf(name: string): readonly StoredVersion[] {
    const versions = this.#versions(name);
    if (versions.length === 0) this.get(name, '');
    return versions;
  }

  #versions(name: string): StoredVersion[] {
    return this.#keys.get(name.toLowerCase()) ?? [];
  }
}

function createPublic(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

function view(v: StoredVersion): AzureEmulatedKeyVersion {
  return {
    name: v.name,
    version: v.version,
    kty: v.kty,
    keyOps: [...v.keyOps],
    enabled: v.enabled,
    ...(v.expiresOn === undefined ? {} : { expiresOn: v.expiresOn }),
    ...(v.publicJwk ? { publicJwk: { ...v.publicJwk } } : {}),
  };
}

/** The JSON Web Key Key Vault returns for a version (public members only). */
export function keyBundle(v: StoredVersion, kid: string): Record<string, unknown> {
  return {
    key: { kid, kty: v.kty, key_ops: [...v.keyOps], ...(v.publicJwk ? { n: v.publicJwk.n, e: v.publicJwk.e } : {}) },
    attributes: attributesOf(v),
  };
}

/** A version as `GET /keys/{name}/versions` lists it (a KeyItem: no key material, no key_ops). */
export function keyItem(v: StoredVersion, kid: string): Record<string, unknown> {
  return { kid, attributes: attributesOf(v) };
}

function attributesOf(v: StoredVersion): Record<string, unknown> {
  return { enabled: v.enabled, ...(v.expiresOn === undefined ? {} : { exp: v.expiresOn }), created: v.created, updated: v.updated, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90, exportable: false };
}

/** Key Vault's operation names (URL segment) and the `key_ops` entry each needs. */
export type CryptoOperation = 'wrapkey' | 'unwrapkey' | 'encrypt' | 'decrypt';
const OP_NEEDS: Record<CryptoOperation, string> = { wrapkey: 'wrapKey', unwrapkey: 'unwrapKey', encrypt: 'encrypt', decrypt: 'decrypt' };

const RSA_ALGS: Record<string, string> = { 'RSA-OAEP': 'sha1', 'RSA-OAEP-256': 'sha256' };
const AES_KW: Record<string, number> = { A128KW: 16, A192KW: 24, A256KW: 32 };

/** Run one cryptographic operation with a key version. Throws {@link KeyVaultEmulatorError}. */
export function runOperation(v: StoredVersion, op: CryptoOperation, alg: string, value: Buffer): Buffer {
  if (!v.keyOps.includes(OP_NEEDS[op])) throw new KeyVaultEmulatorError(403, 'Forbidden', `Operation ${OP_NEEDS[op]} is not permitted on this key.`, 'OperationNotAllowed');
  const forward = op === 'wrapkey' || op === 'encrypt';
  if (v.privateKey && v.publicKey) {
    const oaepHash = RSA_ALGS[alg];
    if (oaepHash === undefined) throw new KeyVaultEmulatorError(400, 'BadParameter', `Algorithm '${alg}' is not supported for key type ${v.kty}.`);
    try {
      return forward
        ? publicEncrypt({ key: v.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, value)
        : privateDecrypt({ key: v.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, value);
    } catch {
      throw new KeyVaultEmulatorError(400, 'BadParameter', forward ? 'The value is too long for this key and algorithm.' : 'Decryption failed: the ciphertext is not valid for this key version and algorithm.');
    }
  }
  const keyBytes = AES_KW[alg];
  if (v.secret === undefined || keyBytes === undefined || op === 'encrypt' || op === 'decrypt') {
    throw new KeyVaultEmulatorError(400, 'BadParameter', `Algorithm '${alg}' is not supported for operation ${op} on key type ${v.kty}.`);
  }
  if (v.secret.length !== keyBytes) throw new KeyVaultEmulatorError(400, 'BadParameter', `Algorithm '${alg}' needs a ${keyBytes * 8}-bit key.`);
  // RFC 3394 AES key wrap; OpenSSL's id-aesN-wrap uses the RFC's default IV when given A6A6A6A6A6A6A6A6.
  const iv = Buffer.alloc(8, 0xa6);
  const cipherName = `id-aes${keyBytes * 8}-wrap`;
  if (value.length < 16 || value.length % 8 !== 0 || (!forward && value.length < 24)) {
    throw new KeyVaultEmulatorError(400, 'BadParameter', 'AES key wrap needs a value of at least 16 bytes, a multiple of 8.');
  }
  try {
    const c = forward ? createCipheriv(cipherName, v.secret, iv) : createDecipheriv(cipherName, v.secret, iv);
    return Buffer.concat([c.update(value), c.final()]);
  } catch {
    throw new KeyVaultEmulatorError(400, 'BadParameter', 'Unwrap failed: the ciphertext is not valid for this key version.');
  }
}
