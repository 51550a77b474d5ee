import { MalformedError, type BranchKeyRecord, type WrappedKey } from '@fieldseal/core';

/** The JSON form of a wrapped key in a store: the ciphertext as base64url. */
export interface StoredWrappedKey {
  readonly provider: string;
  readonly keyId: string;
  readonly ciphertext: string;
}

export function wrappedToJson(wrapped: readonly WrappedKey[]): StoredWrappedKey[] {
  return wrapped.map((w) => ({ provider: w.provider, keyId: w.keyId, ciphertext: Buffer.from(w.ciphertext).toString('base64url') }));
}

export function wrappedFromJson(value: unknown, where: string): WrappedKey[] {
  if (!Array.isArray(value) || value.length === 0) throw new MalformedError(`${where}: no wrapped keys`);
  return value.map((w: Partial<StoredWrappedKey> | null) => {
    if (w === null || typeof w !== 'object' || typeof w.provider !== 'string' || typeof w.keyId !== 'string' || typeof w.ciphertext !== 'string' || !/^[A-Za-z0-9_-]+$/.test(w.ciphertext)) throw new MalformedError(`${where}: a malformed wrapped key`);
    return { provider: w.provider, keyId: w.keyId, ciphertext: new Uint8Array(Buffer.from(w.ciphertext, 'base64url')) };
  });
}

export function checkRecord(r: unknown, where: string): BranchKeyRecord {
  const x = r as Partial<BranchKeyRecord> & { wrapped?: unknown };
  if (x === null || typeof x !== 'object' || typeof x.branchKeyId !== 'string' || !Number.isSafeInteger(x.version) || (x.state !== 'active' && x.state !== 'retired') || typeof x.createdAt !== 'string') {
    throw new MalformedError(`${where}: a malformed branch key record`);
  }
  return { branchKeyId: x.branchKeyId, version: x.version!, state: x.state, createdAt: x.createdAt, wrapped: wrappedFromJson(x.wrapped, where) };
}

export function sameWrapped(a: readonly WrappedKey[], b: readonly WrappedKey[]): boolean {
  return JSON.stringify(wrappedToJson(a)) === JSON.stringify(wrappedToJson(b));
}
