import { decrypt, encrypt, LocalKeyring, type JsonObject } from '@fieldseal/core';

/** The plaintext record number `i`. */
export function plainRecord(i: number): JsonObject {
  return { id: i, name: `customer ${i}`, ssn: `${String(100 + (i % 800)).padStart(3, '0')}-${String(i % 100).padStart(2, '0')}-${String(i % 10000).padStart(4, '0')}`, cards: [`4111${String(i).padStart(12, '0')}`], note: i % 7 === 0 ? null : { tier: i % 3 } };
}

/** Old keyring (v1), and the same keyring with a new primary v2 (v1 still unwraps). */
export async function keyrings(): Promise<{ v1: LocalKeyring; v2: LocalKeyring }> {
  const v1 = await LocalKeyring.generate({ name: 'main' });
  return { v1, v2: v1.withNewPrimary() };
}

/** Seal record `i` under `keyring`, bound to its row id (required, not stored) and a stored tenant. */
export function sealRecord(i: number, keyring: LocalKeyring): Promise<JsonObject> {
  return encrypt(plainRecord(i), { keyring, paths: ['$.ssn', '$.cards[*]', '$.note'], context: { tenant: 't1' }, requiredContext: { rowId: String(i) } });
}

/** Open a sealed record `i`. */
export function openRecord(doc: JsonObject, i: number | string, keyring: LocalKeyring): Promise<JsonObject> {
  return decrypt(doc, { keyring, context: { tenant: 't1', rowId: String(i) } });
}

/** Seal `count` records (ids 1..count), a few at a time. */
export async function sealMany(count: number, keyring: LocalKeyring, first = 1): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  for (let i = first; i < first + count; i++) out.push(await sealRecord(i, keyring));
  return out;
}
