// Workload inputs. Deterministic (no randomness) so every run and every subject sees the same bytes;
// none of these values is a real person's data.

/** Encryption context of the customer workloads (constant across records, so a DEK cache can hit). */
export const CONTEXT = Object.freeze({ tenant: 't-042', table: 'customers' });

/** W1/W3: a customer record with 8 PII values (two card numbers in an array). */
export function customerRecord(i = 0) {
  const n = String(100000 + i);
  return {
    id: `cus_${n}`,
    name: 'Ada Lovelace-Byron',
    email: `ada.${n}@example.com`,
    phone: '+44 20 7946 0958',
    ssn: '078-05-1120',
    address: { line1: "12 St James's Square", city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    dob: '1815-12-10',
    cards: [
      { number: '4111111111111111', brand: 'visa', exp: '12/29' },
      { number: '5500005555555559', brand: 'mastercard', exp: '07/28' },
    ],
    plan: 'pro',
    createdAt: '2026-11-23T21:00:00.000Z',
  };
}

/** fieldseal selectors of the 8 PII values of {@link customerRecord}. */
export const CUSTOMER_PATHS = Object.freeze(['$.name', '$.email', '$.phone', '$.ssn', '$.address.line1', '$.dob', '$.cards[*].number']);

/** The 8 PII values of a customer record, in a fixed order, for subjects that seal value lists. */
export function customerPii(r) {
  return [r.name, r.email, r.phone, r.ssn, r.address.line1, r.dob, r.cards[0].number, r.cards[1].number];
}

/** A copy of `r` with its 8 PII values replaced by `values` (same order as {@link customerPii}). */
export function withCustomerPii(r, v) {
  return {
    ...r,
    name: v[0],
    email: v[1],
    phone: v[2],
    ssn: v[3],
    address: { ...r.address, line1: v[4] },
    dob: v[5],
    cards: [
      { ...r.cards[0], number: v[6] },
      { ...r.cards[1], number: v[7] },
    ],
  };
}

/** A printable ASCII string of exactly `size` bytes (UTF-8), varied so nothing compresses trivially. */
export function asciiString(size) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-_';
  let seed = 0x9e3779b9 ^ size;
  const chars = new Array(size);
  for (let i = 0; i < size; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    chars[i] = alphabet[seed % alphabet.length];
  }
  return chars.join('');
}

/** W2 and the size sweep: a record with one string field `data` of `size` bytes. */
export function blobRecord(size) {
  return { id: `blob_${size}`, data: asciiString(size) };
}

export const BLOB_PATHS = Object.freeze(['$.data']);

/** Field sizes of the throughput sweep (the chart): 16 B to 1 MiB. */
export const SWEEP_SIZES = Object.freeze([16, 256, 4096, 65536, 1048576]);
