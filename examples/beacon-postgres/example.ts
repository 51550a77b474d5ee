/*
 * Equality search on an encrypted column with fieldseal beacons, against a real PostgreSQL.
 *
 * A `customers` table keeps each row as a sealed document (the email encrypted with a fresh data key
 * per row) plus an indexed `email_bidx` column holding the email's beacon. A lookup computes the
 * beacon of the searched email, selects the rows with that beacon (the candidates: the matches and
 * the false positives that truncation adds on purpose), decrypts them and keeps the real matches.
 *
 * Run it: `node examples/beacon-postgres/run.mjs` (honours DATABASE_URL).
 */
import type { Client } from 'pg';
import { addBeacons, BeaconIndex, BeaconKey, beaconLengthBounds, decrypt, encrypt, LocalKeyring, type JsonObject, type Keyring } from '@fieldseal/core';

export interface ExampleOptions {
  /** A connected PostgreSQL client; the caller closes it. */
  readonly client: Client;
  /** Rows to insert. Default 10,000. */
  readonly rows?: number;
  /** Lookups to run for the measurement. Default 200. */
  readonly lookups?: number;
  /** Beacon length in bits. Default: the middle of the safe range for the data's distinct emails. */
  readonly bits?: number;
  /** Progress lines (never plaintext or keys). */
  readonly log?: (line: string) => void;
}

export interface LookupResult {
  /** The searched email. */
  readonly email: string;
  /** Row ids whose email equals it under the email normalizer (ground truth from the generator). */
  readonly expected: readonly number[];
  /** Row ids the beacon query returned. */
  readonly candidates: readonly number[];
  /** Row ids left after decrypting the candidates and comparing emails. */
  readonly found: readonly number[];
}

export interface ExampleResult {
  readonly rows: number;
  readonly distinctEmails: number;
  readonly bits: number;
  readonly bounds: { min: number; max: number } | undefined;
  readonly lookups: readonly LookupResult[];
  /** Mean false-positive rows per lookup (candidates that are not matches). */
  readonly meanFalsePositives: number;
  /** What the formula predicts for that mean: (rows - matches) / 2^bits, averaged over the lookups. */
  readonly expectedFalsePositives: number;
  /** Over every distinct email (not just the lookups): mean rows sharing its beacon without sharing its value. */
  readonly meanFalsePositivesAllValues: number;
  /** Distinct beacons in the table, against 2^bits possible and the formula's expectation. */
  readonly distinctBeacons: number;
  readonly expectedDistinctBeacons: number;
  /** Unwrap calls made while loading the beacon key (one, then none per query). */
  readonly keyringUnwrapsForBeaconKey: number;
}

/** Deterministic-enough synthetic customers: distinct emails, plus repeats written differently. */
function generateEmails(rows: number): string[] {
  const distinct = Math.round(rows * 0.9);
  const emails: string[] = [];
  for (let i = 0; i < distinct; i++) emails.push(`customer${i}.${(i * 7919) % 1000}@example${i % 37}.com`);
  // The same person again, typed with other case and stray spaces: the email normalizer must match them.
  for (let i = distinct; i < rows; i++) {
    const base = emails[(i * 104_729) % distinct]!;
    emails.push(i % 2 === 0 ? `  ${base.toUpperCase()}` : `${base.replace(/^c/, 'C')}\t`);
  }
  return emails;
}

/** Counts calls to the keyring's unwrap, to show that queries make none. */
function counting(keyring: Keyring): Keyring & { unwraps: number } {
  const wrapper = {
    unwraps: 0,
    wrap: (req: Parameters<Keyring['wrap']>[0]) => keyring.wrap(req),
    unwrap: (req: Parameters<Keyring['unwrap']>[0]) => {
      wrapper.unwraps++;
      return keyring.unwrap(req);
    },
  };
  return wrapper;
}

export async function runBeaconExample(options: ExampleOptions): Promise<ExampleResult> {
  const log = options.log ?? (() => {});
  const rows = options.rows ?? 10_000;
  const lookupCount = options.lookups ?? 200;
  const suffix = `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const customers = `beacon_example_customers_${suffix}`;
  const keysTable = `beacon_example_keys_${suffix}`;
  const client = options.client;
  try {
    // 1. Keys. One KEK keyring (a local key file here; a KMS keyring in production). The beacon root
    //    key is generated once, wrapped by the keyring, and kept as a row of a small table.
    const keyring = await LocalKeyring.generate({ name: 'example' });
    await client.query(`CREATE TABLE ${keysTable} (id text PRIMARY KEY, document jsonb NOT NULL)`);
    const { document } = await BeaconKey.generate({ keyring, id: 'b1', context: { app: 'beacon-example' } });
    await client.query(`INSERT INTO ${keysTable} (id, document) VALUES ($1, $2)`, [document.id, JSON.stringify(document)]);

    // 2. At start-up: load the key document (one unwrap), then every beacon is a local HMAC.
    const loadRing = counting(keyring);
    const stored = await client.query<{ document: JsonObject }>(`SELECT document FROM ${keysTable} WHERE id = $1`, ['b1']);
    const beaconKey = await BeaconKey.load(stored.rows[0]!.document as never, { keyring: loadRing, context: { app: 'beacon-example' } });

    const emails = generateEmails(rows);
    const distinctEmails = new Set(emails.map((e) => e.trim().toLowerCase())).size;
    const bounds = beaconLengthBounds(distinctEmails);
    const bits = options.bits ?? (bounds ? Math.round((bounds.min + bounds.max) / 2) : 8);
    const index = new BeaconIndex({
      keys: beaconKey,
      fields: { email: { path: '$.email', normalize: 'email', bits, distinctValues: distinctEmails } },
    });
    log(`${rows} rows, ${distinctEmails} distinct emails, safe beacon lengths ${bounds?.min}..${bounds?.max} bits, using ${bits}`);

    // 3. Schema: the sealed document, and the beacon in its own indexed column.
    await client.query(`CREATE TABLE ${customers} (id integer PRIMARY KEY, doc jsonb NOT NULL, email_bidx text NOT NULL)`);
    await client.query(`CREATE INDEX ${customers}_email_bidx ON ${customers} (email_bidx)`);

    // 4. Write: beacon beside the value, encrypt the value (bound to the table and the row id), insert.
    const batch = 1000;
    for (let start = 0; start < rows; start += batch) {
      const ids: number[] = [];
      const docs: string[] = [];
      const bidx: string[] = [];
      for (let id = start; id < Math.min(rows, start + batch); id++) {
        const record = await addBeacons({ id, name: `Customer ${id}`, email: emails[id]! }, index);
        const sealed = await encrypt(record, { keyring, paths: ['$.email'], context: { table: 'customers' }, requiredContext: { rowId: String(id) } });
        ids.push(id);
        docs.push(JSON.stringify(sealed));
        bidx.push(sealed.email_bidx as string);
      }
      await client.query(`INSERT INTO ${customers} (id, doc, email_bidx) SELECT * FROM unnest($1::int[], $2::jsonb[], $3::text[])`, [ids, docs, bidx]);
    }
    log(`inserted ${rows} sealed rows`);

    // 5. Read: look emails up by beacon, decrypt the candidates, keep the real matches.
    const normalized = emails.map((e) => index.normalize('email', e));
    const lookups: LookupResult[] = [];
    for (let q = 0; q < lookupCount; q++) {
      const searched = emails[(q * 7_867) % rows]!;
      const wanted = index.normalize('email', searched);
      const expected = normalized.flatMap((n, id) => (n === wanted ? [id] : []));
      const result = await client.query<{ id: number; doc: JsonObject }>(`SELECT id, doc FROM ${customers} WHERE email_bidx = $1 ORDER BY id`, [await index.beacon('email', searched)]);
      const found: number[] = [];
      for (const row of result.rows) {
        const opened = await decrypt(row.doc, { keyring, context: { table: 'customers', rowId: String(row.id) } });
        if (index.equals('email', opened.email as string, searched)) found.push(row.id);
      }
      lookups.push({ email: searched, expected, candidates: result.rows.map((r) => r.id), found });
    }

    // 6. Measure collisions: per lookup, and over every distinct value of the table.
    const meanFalsePositives = lookups.reduce((s, l) => s + l.candidates.length - l.found.length, 0) / lookups.length;
    const expectedFalsePositives = lookups.reduce((s, l) => s + (rows - l.expected.length) / 2 ** bits, 0) / lookups.length;
    const buckets = await client.query<{ email_bidx: string; n: string }>(`SELECT email_bidx, count(*) AS n FROM ${customers} GROUP BY email_bidx`);
    const rowsPerBeacon = new Map(buckets.rows.map((r) => [r.email_bidx, Number(r.n)]));
    const byValue = new Map<string, number>();
    for (const n of normalized) byValue.set(n, (byValue.get(n) ?? 0) + 1);
    let fpAll = 0;
    for (const [value, count] of byValue) fpAll += rowsPerBeacon.get(await index.beacon('email', value))! - count;
    const space = 2 ** bits;
    const result: ExampleResult = {
      rows,
      distinctEmails,
      bits,
      bounds,
      lookups,
      meanFalsePositives,
      expectedFalsePositives,
      meanFalsePositivesAllValues: fpAll / byValue.size,
      distinctBeacons: rowsPerBeacon.size,
      // Occupied buckets when D values fall uniformly into 2^bits buckets.
      expectedDistinctBeacons: space * (1 - (1 - 1 / space) ** distinctEmails),
      keyringUnwrapsForBeaconKey: loadRing.unwraps,
    };
    log(
      `false positives per lookup: measured ${meanFalsePositives.toFixed(2)} over ${lookups.length} lookups, formula (rows - matches) / 2^${bits} = ${expectedFalsePositives.toFixed(2)}; ` +
        `over all ${byValue.size} distinct emails ${result.meanFalsePositivesAllValues.toFixed(2)}; distinct beacons ${result.distinctBeacons} (expected ${result.expectedDistinctBeacons.toFixed(0)} of ${space})`,
    );
    beaconKey.destroy();
    return result;
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${customers}`).catch(() => {});
    await client.query(`DROP TABLE IF EXISTS ${keysTable}`).catch(() => {});
  }
}
