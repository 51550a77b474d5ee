import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, encrypt, inspect, isFieldsealError, LocalKeyring, type JsonObject } from '@fieldseal/core';
import { processIo, type CommandIo } from '../../io.js';

/** Options of `fieldseal demo`. */
export interface DemoOptions {
  /** Keep the throwaway key directory instead of deleting it. */
  readonly keep?: boolean;
}

const SAMPLE: JsonObject = {
  id: 'cus_1042',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  ssn: '078-05-1120',
  plan: 'pro',
  cards: [
    { brand: 'visa', number: '4111111111111111' },
    { brand: 'mastercard', number: '5500000000000004' },
  ],
};
const PATHS = ['$.email', '$.ssn', '$.cards[*].number'];
const ROWS: [string, (d: JsonObject) => unknown][] = [
  ['$.id', (d) => d.id],
  ['$.name', (d) => d.name],
  ['$.email', (d) => d.email],
  ['$.ssn', (d) => d.ssn],
  ['$.plan', (d) => d.plan],
  ['$.cards[0].number', (d) => (d.cards as JsonObject[])[0]!.number],
  ['$.cards[1].number', (d) => (d.cards as JsonObject[])[1]!.number],
];

function cell(value: unknown, width: number): string {
  const s = JSON.stringify(value) ?? '';
  return s.length > width ? s.slice(0, width - 1) + '…' : s.padEnd(width);
}

async function rejection(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'NOT rejected (this is a bug)';
  } catch (err) {
    return isFieldsealError(err) ? `rejected: ${err.code}` : 'rejected with an untyped error (this is a bug)';
  }
}

/**
 * `fieldseal demo`: with no setup, creates a throwaway local keyring in a temp dir, seals a sample
 * customer record, prints the sealed and decrypted forms side by side, and shows that tampered,
 * moved and wrongly-contexted copies are rejected.
 */
export async function demo(options: DemoOptions = {}, io: CommandIo = processIo): Promise<void> {
  const out = (s = '') => io.stdout.write(s + '\n');
  const dir = await mkdtemp(join(tmpdir(), 'fieldseal-demo-'));
  try {
    const keyring = await LocalKeyring.generate({ name: 'demo' });
    const keyFile = join(dir, 'keys.json');
    await writeFile(keyFile, JSON.stringify(keyring.exportKeyFile()), { mode: 0o600 });
    const context = { tenant: 'acme' };
    const requiredContext = { rowId: String(SAMPLE.id) };
    out(`fieldseal demo: a throwaway local keyring at ${keyFile} (deleted afterwards)`);
    out(`selected fields: ${PATHS.join(', ')}; context: tenant=acme (stored), rowId=${requiredContext.rowId} (bound, not stored)`);
    const sealed = await encrypt(SAMPLE, { keyring, paths: PATHS, context, requiredContext });
    const opened = await decrypt(sealed, { keyring, context: { ...context, ...requiredContext } });

    out('\nSealed document (what you store):');
    out(JSON.stringify(sealed, null, 2));
    out('\nSide by side:');
    out(`${'path'.padEnd(20)} ${'original'.padEnd(24)} ${'sealed'.padEnd(34)} decrypted`);
    for (const [path, get] of ROWS) out(`${path.padEnd(20)} ${cell(get(SAMPLE), 24)} ${cell(get(sealed), 34)} ${cell(get(opened), 24)}`);
    const same = JSON.stringify(opened) === JSON.stringify(SAMPLE);
    out(`\ndecrypted equals the original: ${same ? 'yes' : 'NO (this is a bug)'}`);
    const info = inspect(sealed);
    out(`header: ${String(sealed._fieldseal).length} characters; key group "${info.groups[0]!.name}" wrapped by ${info.groups[0]!.wrappedKeys.map((k) => `${k.provider}:${k.keyId}`).join(', ')}`);

    out('\nAttacks on a copy:');
    const ssn = String(sealed.ssn);
    const flipped = ssn.slice(0, 10) + (ssn[10] === 'A' ? 'B' : 'A') + ssn.slice(11);
    const full = { ...context, ...requiredContext };
    out(`  one character of $.ssn changed        -> ${await rejection(() => decrypt({ ...sealed, ssn: flipped }, { keyring, context: full }))}`);
    out(`  $.ssn ciphertext moved to $.email     -> ${await rejection(() => decrypt({ ...sealed, email: sealed.ssn! }, { keyring, context: full }))}`);
    out(`  $.ssn replaced by plaintext           -> ${await rejection(() => decrypt({ ...sealed, ssn: '000-00-0000' }, { keyring, context: full }))}`);
    out(`  opened as another row (rowId=1043)    -> ${await rejection(() => decrypt(sealed, { keyring, context: { ...context, rowId: '1043' } }))}`);
    out(`  opened for another tenant             -> ${await rejection(() => decrypt(sealed, { keyring, context: { tenant: 'globex', ...requiredContext } }))}`);
    const stranger = await LocalKeyring.generate({ name: 'demo' });
    out(`  opened with a different key file      -> ${await rejection(() => decrypt(sealed, { keyring: stranger, context: full }))}`);
    out('\nNext: `fieldseal keygen --out keys.json`, then `fieldseal encrypt --keyring local:keys.json --path \'$.ssn\' --in record.json`.');
    keyring.destroy();
    stranger.destroy();
  } finally {
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}
