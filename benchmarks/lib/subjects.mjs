// The implementations under test. Each subject turns a workload into a pair of async operations,
// `encrypt()` and `decrypt()`, over the same input; nothing is timed here.
//
// Every subject gets its keys in setup (outside the timed loop) and keeps them in memory, as an
// application would. Decrypt runs repeatedly over one ciphertext made in setup.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CachingKeyring, LocalKeyring, decrypt as fsDecrypt, encrypt as fsEncrypt } from '@fieldseal/core';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
  getLocalCryptographicMaterialsCache,
} from '@aws-crypto/client-node';
import cloak from '@47ng/cloak';
import { CONTEXT, customerPii, withCustomerPii } from './data.mjs';

const { encrypt: esdkEncrypt, decrypt: esdkDecrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** ESDK suites compared: the default (committing + ECDSA P-384 signature) and the non-signing committing one. */
export const ESDK_SUITES = Object.freeze({
  default: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
  commit: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
});

// ---------------------------------------------------------------------------------------------
// (a) baseline: hand-written node:crypto AES-256-GCM, field by field, randomBytes(12) IVs,
//     the context as AAD. What a careful developer writes without a library.

function contextAad(context) {
  // A hand-written app binds its context somehow; a sorted "k=v" list is the obvious way.
  return Buffer.from(
    Object.keys(context)
      .sort()
      .map((k) => `${k}=${context[k]}`)
      .join('&'),
    'utf8',
  );
}

function gcmSeal(key, aad, text) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(text, 'utf8');
  const tail = cipher.final();
  return Buffer.concat([iv, body, tail, cipher.getAuthTag()]).toString('base64url');
}

function gcmOpen(key, aad, sealed) {
  const blob = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return decipher.update(blob.subarray(12, blob.length - 16), undefined, 'utf8') + decipher.final('utf8');
}

function gcmSealBytes(key, aad, bytes) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([iv, cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
}

function gcmOpenBytes(key, aad, blob) {
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
}

/** Baseline over a record shape: `fields` lists/replaces the values to encrypt. */
function baselineCodec(shape) {
  return {
    seal(key, aad, record) {
      const values = shape.values(record);
      const out = new Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = gcmSeal(key, aad, values[i]);
      return shape.replace(record, out);
    },
    open(key, aad, sealed) {
      const values = shape.values(sealed);
      const out = new Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = gcmOpen(key, aad, values[i]);
      return shape.replace(sealed, out);
    },
  };
}

/** How a workload's record exposes the values to encrypt (string values only in these workloads). */
export const SHAPES = Object.freeze({
  customer: { values: customerPii, replace: withCustomerPii },
  blob: { values: (r) => [r.data], replace: (r, v) => ({ ...r, data: v[0] }) },
});

/**
 * (a) with a long-lived key (the DEK "from a cache"): W1, W2, sweep.
 */
export function baseline({ shape, record }) {
  const key = randomBytes(32);
  const codec = baselineCodec(SHAPES[shape]);
  // The AAD is rebuilt per call: a real application's context changes from call to call.
  const encrypt = async () => codec.seal(key, contextAad(CONTEXT), record);
  const sealed = codec.seal(key, contextAad(CONTEXT), record);
  const decrypt = async () => codec.open(key, contextAad(CONTEXT), sealed);
  return { encrypt, decrypt, sample: sealed };
}

/**
 * (a) for W3: the same hand-written code doing the same envelope work as fieldseal — a fresh
 * random DEK per record, wrapped with AES-256-GCM under a local KEK with the context as AAD.
 */
export function baselineEnvelope({ shape, record }) {
  const kek = randomBytes(32);
  const codec = baselineCodec(SHAPES[shape]);
  const seal = () => {
    const aad = contextAad(CONTEXT);
    const dek = randomBytes(32);
    const out = codec.seal(dek, aad, record);
    out._dek = gcmSealBytes(kek, aad, dek).toString('base64url');
    dek.fill(0);
    return out;
  };
  const sealed = seal();
  const encrypt = async () => seal();
  const decrypt = async () => {
    const aad = contextAad(CONTEXT);
    const { _dek, ...rest } = sealed;
    const dek = gcmOpenBytes(kek, aad, Buffer.from(_dek, 'base64url'));
    const out = codec.open(dek, aad, rest);
    dek.fill(0);
    return out;
  };
  return { encrypt, decrypt, sample: sealed };
}

// ---------------------------------------------------------------------------------------------
// fieldseal

/** A fresh LocalKeyring (one KEK), generated in memory. */
export function localKeyring() {
  return LocalKeyring.generate({ name: 'bench' });
}

/**
 * fieldseal over any keyring. `cached: true` puts a CachingKeyring (defaults) in front of a
 * LocalKeyring: the "DEK from a cache" of W1/W2; `cached: false` makes every record draw a fresh
 * DEK wrapped by the local KEK (W3).
 */
export async function fieldseal({ record, paths, cached, keyring }) {
  const inner = keyring ?? (await localKeyring());
  const kr = cached ? new CachingKeyring({ keyring: inner }) : inner;
  const encrypt = () => fsEncrypt(record, { keyring: kr, paths, context: CONTEXT });
  const sealed = await encrypt();
  const decrypt = () => fsDecrypt(sealed, { keyring: kr, context: CONTEXT });
  return { encrypt, decrypt, sample: sealed, keyring: kr };
}

// ---------------------------------------------------------------------------------------------
// AWS Encryption SDK (@aws-crypto/client-node) with a raw AES keyring.

function rawAesKeyring() {
  return new RawAesKeyringNode({
    keyName: 'bench-kek',
    keyNamespace: 'fieldseal-bench',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/**
 * The ESDK's materials source: the raw AES keyring itself (a fresh data key per message), or, when
 * `cached`, a caching materials manager in front of it (the ESDK's own "DEK from a cache").
 */
function esdkMaterials(cached) {
  const keyring = rawAesKeyring();
  if (!cached) return keyring;
  return new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(1000),
    maxAge: 5 * 60 * 1000,
    maxMessagesEncrypted: 10000,
  });
}

function checkEsdkContext(header) {
  // The ESDK returns the stored context; the caller must check it (the ESDK adds its own keys).
  for (const k of Object.keys(CONTEXT)) if (header.encryptionContext[k] !== CONTEXT[k]) throw new Error('context mismatch');
}

/**
 * ESDK, one message per field (`per: 'field'`) or one message for a record's values as JSON
 * (`per: 'record'`).
 */
export async function esdk({ shape, record, suite, per, cached }) {
  const materials = esdkMaterials(cached);
  const suiteId = ESDK_SUITES[suite];
  const { values, replace } = SHAPES[shape];
  const opts = { encryptionContext: CONTEXT, suiteId };
  let encrypt;
  let decrypt;
  if (per === 'field') {
    encrypt = async () => {
      const out = await Promise.all(values(record).map(async (v) => (await esdkEncrypt(materials, v, opts)).result.toString('base64')));
      return replace(record, out);
    };
    const sealed = await encrypt();
    decrypt = async () => {
      const out = await Promise.all(
        values(sealed).map(async (v) => {
          const { plaintext, messageHeader } = await esdkDecrypt(materials, Buffer.from(v, 'base64'));
          checkEsdkContext(messageHeader);
          return plaintext.toString('utf8');
        }),
      );
      return replace(sealed, out);
    };
    return { encrypt, decrypt, sample: sealed };
  }
  // per record: the values travel as one JSON array in one message; the record keeps nulls in their place.
  const blanks = values(record).map(() => null);
  encrypt = async () => {
    const { result } = await esdkEncrypt(materials, JSON.stringify(values(record)), opts);
    return { ...replace(record, blanks), _esdk: result.toString('base64') };
  };
  const sealed = await encrypt();
  decrypt = async () => {
    const { _esdk, ...rest } = sealed;
    const { plaintext, messageHeader } = await esdkDecrypt(materials, Buffer.from(_esdk, 'base64'));
    checkEsdkContext(messageHeader);
    return replace(rest, JSON.parse(plaintext.toString('utf8')));
  };
  return { encrypt, decrypt, sample: sealed };
}

// ---------------------------------------------------------------------------------------------
// @47ng/cloak: AES-256-GCM per string, one long-lived key, no AAD (cloak has none).

export async function cloakSubject({ shape, record }) {
  const key = await cloak.parseKey(cloak.generateKey());
  const { values, replace } = SHAPES[shape];
  const encrypt = async () => replace(record, await Promise.all(values(record).map((v) => cloak.encryptString(v, key))));
  const sealed = await encrypt();
  const decrypt = async () => replace(sealed, await Promise.all(values(sealed).map((v) => cloak.decryptString(v, key))));
  return { encrypt, decrypt, sample: sealed };
}
