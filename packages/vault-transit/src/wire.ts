/**
 * Vault transit's wire format as the keyring reads and writes it: key names and paths, key ids
 * (`[<namespace>/]<mount>/<name>:v<N>`), `vault:vN:` ciphertexts and base64 data keys. No I/O.
 * @module
 */
import { InvalidArgumentError, ProviderError, type KeyUnavailableReason, type WrappedKey } from '@fieldseal/core';
import { VAULT_TRANSIT_PROVIDER } from './errors.js';

export const KEY_NAME = /^\w(?:[\w.-]*\w)?$/;
const PATH = /^[\w.-]+(?:\/[\w.-]+)*$/;
const CIPHERTEXT = /^vault:v([1-9]\d{0,8}):[A-Za-z0-9+/]+={0,2}$/;
export const AEAD_TYPES = new Set(['aes256-gcm96', 'aes128-gcm96', 'chacha20-poly1305']);
export const DATA_KEY_BYTES = 32;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Split a `vault-transit` key id into the key's path and the transit key version, e.g. for a
 * rotation predicate ("wrapped under a version below 7").
 *
 * @param keyId A key id as written by {@link VaultTransitKeyring}: `[<namespace>/]<mount>/<name>:v<N>`.
 * @returns `{ keyPath, version }`, or `undefined` when `keyId` does not have that shape.
 * @example
 * ```ts
 * import { inspect } from '@fieldseal/core';
 * import { parseVaultTransitKeyId } from '@fieldseal/vault-transit';
 *
 * const stale = inspect(sealed).groups.some((g) =>
 *   g.wrappedKeys.some((k) => k.provider === 'vault-transit' && (parseVaultTransitKeyId(k.keyId)?.version ?? 0) < 7));
 * ```
 */
export function parseVaultTransitKeyId(keyId: string): { keyPath: string; version: number } | undefined {
  const match = typeof keyId === 'string' ? /^(.+\/[\w.-]+):v([1-9]\d{0,8})$/.exec(keyId) : null;
  return match === null ? undefined : { keyPath: match[1]!, version: Number(match[2]) };
}

export function checkPath(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  const trimmed = value.replace(/^\/+|\/+$/g, '');
  if (!PATH.test(trimmed) || trimmed.split('/').some((s) => s === '.' || s === '..')) {
    throw new InvalidArgumentError(`${what} must be a Vault path (segments of letters, digits, "_", "-", ".")`);
  }
  return trimmed;
}

export function field(body: unknown, name: string): unknown {
  const data = body !== null && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  return data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[name] : undefined;
}

/** Split a group's wrapped keys into those under `keyPath` (with their Vault ciphertext) and those under it but malformed. */
export function splitCandidates(wrapped: unknown, keyPath: string): { usable: { key: WrappedKey; ciphertext: string }[]; rejected: KeyUnavailableReason[] } {
  if (!Array.isArray(wrapped)) throw new InvalidArgumentError('wrapped must be an array of wrapped keys');
  const usable: { key: WrappedKey; ciphertext: string }[] = [];
  const rejected: KeyUnavailableReason[] = [];
  const prefix = `${keyPath}:v`;
  for (const key of wrapped as WrappedKey[]) {
    if (key?.provider !== VAULT_TRANSIT_PROVIDER || typeof key.keyId !== 'string' || !key.keyId.startsWith(prefix)) continue;
    const version = key.keyId.slice(prefix.length);
    let text: string | undefined;
    try {
      text = key.ciphertext instanceof Uint8Array ? fromUtf8.decode(key.ciphertext) : undefined;
    } catch {
      text = undefined;
    }
    const match = text === undefined ? null : CIPHERTEXT.exec(text);
    if (!/^[1-9]\d{0,8}$/.test(version) || match === null || match[1] !== version) {
      rejected.push({ provider: VAULT_TRANSIT_PROVIDER, keyId: key.keyId, message: 'malformed wrapped key: not a Vault ciphertext of the version in its key id' });
      continue;
    }
    usable.push({ key, ciphertext: text! });
  }
  return { usable, rejected };
}

/** The wrapped key for a `vault:vN:` ciphertext Vault returned, its key id naming version N. */
export function wrappedKey(ciphertext: unknown, what: string, keyPath: string): WrappedKey {
  const match = typeof ciphertext === 'string' ? CIPHERTEXT.exec(ciphertext) : null;
  if (match === null) {
    throw new ProviderError({ provider: VAULT_TRANSIT_PROVIDER, keyId: keyPath, kind: 'other', retryable: false, message: `${what}: Vault returned no vault:vN: ciphertext` });
  }
  return { provider: VAULT_TRANSIT_PROVIDER, keyId: `${keyPath}:v${Number(match[1])}`, ciphertext: utf8.encode(ciphertext as string) };
}

/** The 32-byte data key in a base64 `plaintext` Vault returned; the decoded buffer is zeroed. */
export function decodeKey(plaintext: unknown, what: string, keyId: string): Uint8Array {
  const bytes = typeof plaintext === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(plaintext) ? Buffer.from(plaintext, 'base64') : undefined;
  try {
    if (bytes?.length !== DATA_KEY_BYTES) {
      throw new ProviderError({ provider: VAULT_TRANSIT_PROVIDER, keyId, kind: 'invalid-ciphertext', retryable: false, message: `${what}: Vault did not return a 32-byte data key` });
    }
    return new Uint8Array(bytes);
  } finally {
    bytes?.fill(0);
  }
}
