import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseContextFlags } from './context-flags.js';
import { usage } from './exit-error.js';
import type { CommandIo } from './io.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/** One CLI command: its flags, its help line, and a lazy import of the code that runs it. */
export interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Words after the command (`fieldseal keystore create`); refused when not set. */
  readonly positionals?: boolean;
  run(values: Values, io: CommandIo, positionals: readonly string[]): Promise<void>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
function required(values: Values, name: string): string {
  const v = str(values[name]);
  if (v === undefined) throw usage(`--${name} is required`);
  return v;
}

/** Every command. Each `run` imports its module lazily, so `fieldseal inspect` loads no provider SDK. */
export const commands: Record<string, CommandSpec> = {
  keygen: {
    summary: 'create a local key file (mode 0600) or add a new primary version to one',
    usage: 'fieldseal keygen --out keys.json [--name main] | fieldseal keygen --add keys.json',
    options: { out: { type: 'string' }, add: { type: 'string' }, name: { type: 'string' } },
    async run(v, io) {
      const { keygen } = await import('./commands/keygen/index.js');
      await keygen({ ...(str(v.out) !== undefined ? { out: str(v.out)! } : {}), ...(str(v.add) !== undefined ? { add: str(v.add)! } : {}), ...(str(v.name) !== undefined ? { name: str(v.name)! } : {}) }, io);
    },
  },
  encrypt: {
    summary: 'encrypt selected fields of a JSON document (or NDJSON stream)',
    usage: "fieldseal encrypt --keyring local:keys.json --path '$.ssn' [--path ...] [--context k=v ...] [--required-context k=v ...] [--strict] [--in FILE] [--out FILE] [--ndjson]",
    options: { keyring: { type: 'string' }, path: { type: 'string', multiple: true }, context: { type: 'string', multiple: true }, 'required-context': { type: 'string', multiple: true }, strict: { type: 'boolean' }, in: { type: 'string' }, out: { type: 'string' }, ndjson: { type: 'boolean' } },
    async run(v, io) {
      const { encrypt } = await import('./commands/encrypt/index.js');
      const context = parseContextFlags(list(v.context), '--context');
      const requiredContext = parseContextFlags(list(v['required-context']), '--required-context');
      await encrypt(
        { keyring: required(v, 'keyring'), paths: list(v.path), ...(context ? { context } : {}), ...(requiredContext ? { requiredContext } : {}), strict: v.strict === true, ...(str(v.in) ? { in: str(v.in)! } : {}), ...(str(v.out) ? { out: str(v.out)! } : {}), ndjson: v.ndjson === true },
        io,
      );
    },
  },
  decrypt: {
    summary: 'decrypt a sealed document (or NDJSON stream), entirely or only --path selections',
    usage: 'fieldseal decrypt --keyring local:keys.json [--context k=v ...] [--path ...] [--in FILE] [--out FILE] [--ndjson]',
    options: { keyring: { type: 'string' }, path: { type: 'string', multiple: true }, context: { type: 'string', multiple: true }, in: { type: 'string' }, out: { type: 'string' }, ndjson: { type: 'boolean' } },
    async run(v, io) {
      const { decrypt } = await import('./commands/decrypt/index.js');
      const context = parseContextFlags(list(v.context), '--context');
      await decrypt({ keyring: required(v, 'keyring'), paths: list(v.path), ...(context ? { context } : {}), ...(str(v.in) ? { in: str(v.in)! } : {}), ...(str(v.out) ? { out: str(v.out)! } : {}), ndjson: v.ndjson === true }, io);
    },
  },
  inspect: {
    summary: 'print the header summary of a sealed document as JSON (needs no key)',
    usage: 'fieldseal inspect [--in FILE]',
    options: { in: { type: 'string' } },
    async run(v, io) {
      const { inspect } = await import('./commands/inspect/index.js');
      await inspect(str(v.in) ? { in: str(v.in)! } : {}, io);
    },
  },
  demo: {
    summary: 'seal and open a sample record with a throwaway keyring, and show tampering rejected',
    usage: 'fieldseal demo',
    options: { keep: { type: 'boolean' } },
    async run(v, io) {
      const { demo } = await import('./commands/demo/index.js');
      await demo({ keep: v.keep === true }, io);
    },
  },
  rotate: {
    summary: 'rewrap, re-encrypt, seal in place, unseal or import cloak ciphertext: every document of an NDJSON file, PostgreSQL JSON column or row table; resumable, shardable, with progress',
    usage:
      'fieldseal rotate --keyring <spec> [--to <spec>] --store ndjson:FILE | postgres://... [--table T (--column C | --columns a,b --header-column H [--context-column KEY=COL ...]) [--id-column id]] [--mode rewrap|reencrypt|seal|unseal|import-cloak] [--path SEL ...] [--until-clean] [--yes-write-plaintext] [--batch N] [--concurrency N] [--dry-run] [--resume] [--shard i/n] [--checkpoint FILE] [--context k=v ...] [--id-context KEY] [--field-context KEY=FIELD ...] [--max-failures N] [--all] [--json]',
    options: {
      keyring: { type: 'string' }, to: { type: 'string' }, store: { type: 'string' }, table: { type: 'string' }, column: { type: 'string' }, 'id-column': { type: 'string' }, mode: { type: 'string' },
      batch: { type: 'string' }, concurrency: { type: 'string' }, 'dry-run': { type: 'boolean' }, resume: { type: 'boolean' }, shard: { type: 'string' }, checkpoint: { type: 'string' },
      context: { type: 'string', multiple: true }, 'id-context': { type: 'string' }, 'field-context': { type: 'string', multiple: true }, 'max-failures': { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' },
      columns: { type: 'string' }, 'header-column': { type: 'string' }, 'context-column': { type: 'string', multiple: true }, path: { type: 'string', multiple: true }, 'until-clean': { type: 'boolean' }, 'yes-write-plaintext': { type: 'boolean' },
    },
    async run(v, io) {
      const { rotate } = await import('./commands/rotate/index.js');
      const context = parseContextFlags(list(v.context), '--context');
      const int = (name: string) => (str(v[name]) !== undefined ? { [name === 'max-failures' ? 'maxFailures' : name]: Number(str(v[name])) } : {});
      const opt = (name: string, key: string) => (str(v[name]) !== undefined ? { [key]: str(v[name])! } : {});
      await rotate(
        {
          keyring: required(v, 'keyring'), store: required(v, 'store'), ...opt('to', 'to'), ...opt('table', 'table'), ...opt('column', 'column'), ...opt('id-column', 'idColumn'), ...opt('mode', 'mode'), ...opt('shard', 'shard'), ...opt('checkpoint', 'checkpoint'), ...opt('id-context', 'idContext'),
          ...int('batch'), ...int('concurrency'), ...int('max-failures'), ...(context ? { context } : {}), fieldContext: list(v['field-context']), dryRun: v['dry-run'] === true,
          ...opt('columns', 'columns'), ...opt('header-column', 'headerColumn'), contextColumn: list(v['context-column']), paths: list(v.path), untilClean: v['until-clean'] === true, yesWritePlaintext: v['yes-write-plaintext'] === true, resume: v.resume === true, all: v.all === true, json: v.json === true,
        },
        io,
      );
    },
  },
  keystore: {
    summary: 'branch keys of the hierarchical keyring: create, rotate, rewrap (KEK rotation), shred (crypto-shredding), list',
    usage: 'fieldseal keystore create|rotate|rewrap|shred|list --store file:FILE | postgres://... [--table T] [--kek <spec>] [--to <spec>] [--id ID] [--yes-destroy-every-version]',
    positionals: true,
    options: { store: { type: 'string' }, table: { type: 'string' }, kek: { type: 'string' }, to: { type: 'string' }, id: { type: 'string' }, 'yes-destroy-every-version': { type: 'boolean' } },
    async run(v, io, positionals) {
      const { keystore } = await import('./commands/keystore/index.js');
      if (positionals.length !== 1) throw usage('fieldseal keystore takes one action: create, rotate, rewrap, shred or list');
      const opt = (name: string, key: string) => (str(v[name]) !== undefined ? { [key]: str(v[name])! } : {});
      await keystore({ action: positionals[0]!, store: required(v, 'store'), ...opt('table', 'table'), ...opt('kek', 'kek'), ...opt('to', 'to'), ...opt('id', 'id'), confirmShred: v['yes-destroy-every-version'] === true }, io);
    },
  },
  rewrap: {
    summary: 'rewrap (or re-encrypt) one sealed document or an NDJSON stream under new keys, verified before output',
    usage: 'fieldseal rewrap --keyring <spec> [--to <spec>] [--mode rewrap|reencrypt] [--context k=v ...] [--in FILE] [--out FILE] [--ndjson]',
    options: { keyring: { type: 'string' }, to: { type: 'string' }, mode: { type: 'string' }, context: { type: 'string', multiple: true }, in: { type: 'string' }, out: { type: 'string' }, ndjson: { type: 'boolean' } },
    async run(v, io) {
      const { rewrap } = await import('./commands/rewrap/index.js');
      const context = parseContextFlags(list(v.context), '--context');
      await rewrap({ keyring: required(v, 'keyring'), ...(str(v.to) ? { to: str(v.to)! } : {}), ...(str(v.mode) ? { mode: str(v.mode) as 'rewrap' } : {}), ...(context ? { context } : {}), ...(str(v.in) ? { in: str(v.in)! } : {}), ...(str(v.out) ? { out: str(v.out)! } : {}), ndjson: v.ndjson === true }, io);
    },
  },
};

/** The help text. */
export function helpText(): string {
  const lines = ['fieldseal: field-level envelope encryption for JSON documents', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`, `             ${c.usage}`);
  lines.push('', 'global flags: --debug (print stack traces), --help', 'exit codes: 0 success, 1 cryptographic/authentication/data failure, 2 usage error');
  return lines.join('\n') + '\n';
}

/** Parse argv (without node and script) into a command and its flag values. */
export function parseCommandLine(argv: readonly string[]): { name: string; spec: CommandSpec; values: Values; positionals: readonly string[] } | { help: true } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { help: true };
  const spec = commands[name];
  if (spec === undefined) throw usage(`unknown command "${name}" (try: fieldseal --help)`);
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { ...spec.options, debug: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: spec.positionals === true, strict: true }) as { values: Values; positionals: string[] });
  } catch (err) {
    throw usage(`${(err as Error).message}\nusage: ${spec.usage}`);
  }
  if (values.help === true) return { help: true };
  return { name, spec, values, positionals };
}
