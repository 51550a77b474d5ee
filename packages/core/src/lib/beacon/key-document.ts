import { MalformedError, UnsupportedVersionError } from '../../errors.js';
import type { EncryptionContext, WrappedKey } from '../../types.js';
import { backend, CHECK_LENGTH } from './derive.js';
import { KEY_ID_PATTERN } from './state.js';

/** One wrapped copy of the beacon root key, as stored in a {@link BeaconKeyDocument}. */
export interface BeaconKeyDocumentWrappedKey {
  /** Provider id of the keyring that wrapped it (`local`, `aws-kms`, …). */
  readonly provider: string;
  /** The key-encryption key that wrapped it, including its version. */
  readonly keyId: string;
  /** The wrapped root key, base64url without padding. */
  readonly ciphertext: string;
}

/**
 * The key document an application stores (a file, a table row) for one beacon root key. It holds
 * no secret in the clear: the root key is wrapped by a keyring, bound to the stored context, the
 * purpose `beacon-root-key` and the key id. Plain JSON: `JSON.stringify` it to store it.
 */
export interface BeaconKeyDocument {
  /** Always `fieldseal.beacon-key`. */
  readonly type: 'fieldseal.beacon-key';
  /** Document format version, `1`. */
  readonly version: 1;
  /** The beacon key id, which prefixes every beacon made with this key. */
  readonly id: string;
  /** Creation time (ISO 8601), informational. */
  readonly created: string;
  /** Encryption context the root key is wrapped under (besides the reserved pairs). */
  readonly context: EncryptionContext;
  /** Key check value (base64url, 16 bytes): a MAC under the root key over `id` and `context`, to detect a wrong key or an edited document. */
  readonly check: string;
  /** The root key wrapped under each KEK of the keyring. */
  readonly wrapped: readonly BeaconKeyDocumentWrappedKey[];
}

export const DOCUMENT_TYPE = 'fieldseal.beacon-key';
export const DOCUMENT_VERSION = 1;
const MAX_DOCUMENT_CHARS = 1024 * 1024;
const MAX_WRAPPED = 16;

/*
 * Pairs added to the keyring context, binding the wrapped root key to its purpose and its id (a
 * document whose id was edited no longer unwraps). Keyrings refuse the core-reserved "fieldseal:"
 * prefix, so these use "fieldseal." and the caller's context may not.
 */
export const BEACON_CONTEXT_PREFIX = 'fieldseal.';
export function keyringContext(stored: Readonly<Record<string, string>>, id: string): Record<string, string> {
  // Null prototype: a stored "__proto__" key stays a plain pair.
  const out: Record<string, string> = Object.create(null);
  for (const k of Object.keys(stored)) out[k] = stored[k]!;
  out['fieldseal.purpose'] = 'beacon-root-key';
  out['fieldseal.beacon-key-id'] = id;
  return out;
}

/*
 * Providers whose wrapped keys are made with a public key (RSA-OAEP): anyone holding the public key
 * can wrap a root key of their choosing and compute its check value, so such an entry says nothing
 * about who wrote the document. Azure Key Vault RSA keys wrap the same way but share their provider
 * id with its symmetric (A256KW) keys, so they cannot be told apart here: pin the check for them.
 */
export const PUBLIC_KEY_WRAP_PROVIDERS: ReadonlySet<string> = new Set(['rsa', 'aws-kms-rsa', 'gcp-kms-rsa']);

export function serializeWrapped(wrapped: readonly WrappedKey[]): BeaconKeyDocumentWrappedKey[] {
  return wrapped.map((w) => Object.freeze({ provider: w.provider, keyId: w.keyId, ciphertext: backend.base64urlEncode(w.ciphertext) }));
}

function own(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  return d && 'value' in d ? d.value : undefined;
}

function isPlainObject(v: unknown): v is object {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Strictly parse a key document (object or JSON text). Messages never quote wrapped-key bytes. */
export function parseKeyDocument(input: unknown): { doc: BeaconKeyDocument; wrapped: WrappedKey[]; check: Uint8Array } {
  let value: unknown = input;
  if (typeof input === 'string') {
    if (input.length > MAX_DOCUMENT_CHARS) throw new MalformedError('beacon key document is too large');
    try {
      value = JSON.parse(input);
    } catch {
      throw new MalformedError('beacon key document is not valid JSON');
    }
  }
  const bad = (why: string): never => {
    throw new MalformedError(`beacon key document: ${why}`);
  };
  if (!isPlainObject(value)) bad('not a JSON object');
  const v = value as object;
  if (own(v, 'type') !== DOCUMENT_TYPE) bad(`"type" must be "${DOCUMENT_TYPE}"`);
  if (own(v, 'version') !== DOCUMENT_VERSION) {
    if (typeof own(v, 'version') === 'number') throw new UnsupportedVersionError(`beacon key document version ${String(own(v, 'version'))} is not supported`);
    bad('"version" is missing');
  }
  const id = own(v, 'id');
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) bad('"id" must be 1 to 32 characters of A-Z a-z 0-9 _ -');
  const created = own(v, 'created');
  if (typeof created !== 'string' || created.length > 64) bad('"created" must be a timestamp string');
  const ctx = own(v, 'context');
  if (!isPlainObject(ctx)) bad('"context" must be an object of strings');
  const context: Record<string, string> = Object.create(null);
  const ctxKeys = Object.keys(ctx as object);
  if (ctxKeys.length > 64) bad('"context" has too many pairs');
  for (const k of ctxKeys) {
    const cv = own(ctx as object, k);
    if (typeof cv !== 'string') bad('"context" values must be strings');
    if (k.startsWith('fieldseal:') || k.startsWith(BEACON_CONTEXT_PREFIX)) bad('"context" uses a reserved key');
    context[k] = cv as string;
  }
  const checkText = own(v, 'check');
  const check = typeof checkText === 'string' ? backend.base64urlDecode(checkText) : undefined;
  if (check === undefined || check.length !== CHECK_LENGTH) bad(`"check" must be ${CHECK_LENGTH} bytes of base64url`);
  const list = own(v, 'wrapped');
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_WRAPPED) bad(`"wrapped" must list 1 to ${MAX_WRAPPED} wrapped keys`);
  const wrapped: WrappedKey[] = [];
  const wrappedOut: BeaconKeyDocumentWrappedKey[] = [];
  for (const w of list as unknown[]) {
    if (!isPlainObject(w)) bad('a wrapped key is not an object');
    const provider = own(w as object, 'provider');
    const keyId = own(w as object, 'keyId');
    const ct = own(w as object, 'ciphertext');
    if (typeof provider !== 'string' || provider.length === 0 || provider.length > 255) bad('a wrapped key has an invalid "provider"');
    if (typeof keyId !== 'string' || keyId.length > 65_535) bad('a wrapped key has an invalid "keyId"');
    const bytes = typeof ct === 'string' && ct.length <= 87_384 ? backend.base64urlDecode(ct) : undefined;
    if (bytes === undefined || bytes.length === 0) bad('a wrapped key has an invalid "ciphertext" (base64url expected)');
    wrapped.push(Object.freeze({ provider: provider as string, keyId: keyId as string, ciphertext: bytes! }));
    wrappedOut.push(Object.freeze({ provider: provider as string, keyId: keyId as string, ciphertext: ct as string }));
  }
  const doc: BeaconKeyDocument = Object.freeze({
    type: DOCUMENT_TYPE,
    version: DOCUMENT_VERSION,
    id: id as string,
    created: created as string,
    context: Object.freeze(context),
    check: checkText as string,
    wrapped: Object.freeze(wrappedOut),
  });
  return { doc, wrapped, check: check! };
}
