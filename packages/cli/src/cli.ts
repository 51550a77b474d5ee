import { parseArgs } from 'node:util';
import { loadContext, parseContextFlags } from './context-flags.js';
import { EXIT_CODE_TABLE, usage } from './exit-error.js';

import type { CommandSpec, OptionSpec, Values } from './command-spec.js';

export type { CommandSpec, OptionSpec } from './command-spec.js';

/** Flags every command accepts. */
export const globalOptions: Readonly<Record<string, OptionSpec>> = {
  help: { type: 'boolean', description: "print this command's help" },
  debug: { type: 'boolean', description: 'print stack traces with errors' },
  'allow-insecure-key-file': { type: 'boolean', description: 'use a local key file even when group or others can read it (refused by default; fix with chmod 600)' },
};

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []);
function required(values: Values, name: string): string {
  const v = str(values[name]);
  if (v === undefined) throw usage(`--${name} is required`);
  return v;
}
function int(values: Values, name: string): number | undefined {
  const v = str(values[name]);
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw usage(`--${name} must be a positive integer, got "${v.slice(0, 20)}"`);
  return Number(v);
}

// Flags shared by the document commands; each entry still lists its own flags explicitly.
const KEYRING: OptionSpec = { type: 'string', multiple: true, value: 'SPEC', description: 'local:keys.json or <provider>:<config.json>; repeat for a multi-keyring (encrypt wraps under all, decrypt tries each in order)' };
const CONTEXT: OptionSpec = { type: 'string', multiple: true, value: 'k=v', description: 'encryption context pair, split at the first "=" (the value may contain "="); repeatable' };
const CONTEXT_FILE: OptionSpec = { type: 'string', value: 'FILE', file: true, description: 'encryption context from a JSON object of string values (merged with --context; a key in both is refused)' };
const IN: OptionSpec = { type: 'string', value: 'FILE', file: true, description: 'read from FILE (default: stdin)' };
const OUT: OptionSpec = { type: 'string', value: 'FILE', file: true, description: 'write to FILE atomically (temp file + rename; nothing on failure) (default: stdout)' };
const NDJSON: OptionSpec = { type: 'boolean', description: 'one JSON document per line; blank lines are kept so output line N is input line N' };
const ON_ERROR: OptionSpec = { type: 'string', value: 'skip|stop', choices: ['skip', 'stop'], description: 'NDJSON: stop at the first failed line (default), or skip it (empty output line, error on stderr, exit 5)' };
const COMPACT: OptionSpec = { type: 'boolean', description: 'single document: print it on one line' };
const PRETTY: OptionSpec = { type: 'boolean', description: 'single document: print it indented (the default)' };
const HEADER_NAME: OptionSpec = { type: 'string', value: 'NAME', description: 'name of the header property (default _fieldseal)' };
const MAX_INPUT: OptionSpec = { type: 'string', value: 'N', description: 'largest input document (or NDJSON line) in bytes; default 268435456 (256 MiB), at most 536870848' };
const WORKERS: OptionSpec = { type: 'string', value: 'N|auto', choices: ['auto'], description: 'NDJSON: transform lines in N threads, this one and N-1 workers (auto: one per core), output in input order; default 1 (this thread, no start-up)' };
const GROUP_KEYRING: OptionSpec = { type: 'string', multiple: true, value: 'NAME=SPEC', description: 'keyring of key group NAME (repeat a NAME for a multi-keyring)' };

async function streamOptions(v: Values) {
  const maxInputBytes = int(v, 'max-input-bytes');
  const onError = str(v['on-error']);
  const w = str(v.workers);
  if (w !== undefined && w !== 'auto' && !/^[0-9]+$/.test(w)) throw usage(`--workers must be auto or a positive integer, got "${w.slice(0, 20)}"`);
  const workers = w === 'auto' ? ('auto' as const) : w !== undefined ? Number(w) : undefined;
  const context = await loadContext(list(v.context), str(v['context-file']));
  return {
    ...(str(v.in) !== undefined ? { in: str(v.in)! } : {}),
    ...(str(v.out) !== undefined ? { out: str(v.out)! } : {}),
    ndjson: v.ndjson === true,
    ...(onError !== undefined ? { onError: onError as 'skip' } : {}),
    compact: v.compact === true,
    pretty: v.pretty === true,
    ...(maxInputBytes !== undefined ? { maxInputBytes } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(str(v['header-name']) !== undefined ? { headerName: str(v['header-name'])! } : {}),
    ...(context ? { context } : {}),
  };
}

/** Every command. Each `run` imports its module lazily, so `fieldseal inspect` loads no provider SDK. */
export const commands: Record<string, CommandSpec> = {
  keygen: {
    summary: 'create a local key file (mode 0600) or add a new primary version to one',
    usage: 'fieldseal keygen --out keys.json [--name main] | fieldseal keygen --add keys.json',
    options: {
      out: { type: 'string', value: 'FILE', file: true, description: 'write a new key file (mode 0600); never overwrites' },
      add: { type: 'string', value: 'FILE', file: true, description: 'add a new primary version to this key file (atomic replace; old versions stay for decrypt)' },
      name: { type: 'string', value: 'NAME', description: 'keyring name of a new key file (default main)' },
    },
    async run(v, io) {
      const { keygen } = await import('./commands/keygen/index.js');
      await keygen({ ...(str(v.out) !== undefined ? { out: str(v.out)! } : {}), ...(str(v.add) !== undefined ? { add: str(v.add)! } : {}), ...(str(v.name) !== undefined ? { name: str(v.name)! } : {}) }, io);
    },
  },
  encrypt: {
    summary: 'encrypt selected fields of a JSON document (or NDJSON stream)',
    usage: "fieldseal encrypt --keyring SPEC --path '$.ssn' [--path …] [--group-keyring NAME=SPEC --group-path NAME=SEL …] [--context k=v …] [--required-context k=v …] [--in FILE] [--out FILE] [--ndjson [--workers N|auto]]",
    options: {
      keyring: KEYRING,
      path: { type: 'string', multiple: true, value: 'SEL', description: 'JSONPath selector of a field to encrypt in the default key group; repeatable' },
      'group-keyring': GROUP_KEYRING,
      'group-path': { type: 'string', multiple: true, value: 'NAME=SEL', description: 'a field of key group NAME (its own data key, opened only by its keyring); repeatable' },
      context: CONTEXT,
      'context-file': CONTEXT_FILE,
      'required-context': { type: 'string', multiple: true, value: 'k=v', description: 'context pair bound but not stored (decrypt must supply it), split at the first "="; repeatable' },
      strict: { type: 'boolean', description: 'a selector that matches nothing is an error' },
      'header-name': HEADER_NAME,
      in: IN, out: OUT, ndjson: NDJSON, 'on-error': ON_ERROR, workers: WORKERS, compact: COMPACT, pretty: PRETTY, 'max-input-bytes': MAX_INPUT,
    },
    notes: ["key groups: fieldseal encrypt --keyring local:main.json --path '$.email' --group-keyring restricted=local:restricted.json --group-path 'restricted=$.ssn'"],
    async run(v, io) {
      const { encrypt } = await import('./commands/encrypt/index.js');
      const requiredContext = parseContextFlags(list(v['required-context']), '--required-context');
      await encrypt({ ...(await streamOptions(v)), keyring: list(v.keyring), paths: list(v.path), groupKeyrings: list(v['group-keyring']), groupPaths: list(v['group-path']), ...(requiredContext ? { requiredContext } : {}), strict: v.strict === true }, io);
    },
  },
  decrypt: {
    summary: 'decrypt a sealed document (or NDJSON stream), entirely or only --path selections',
    usage: 'fieldseal decrypt --keyring SPEC [--group-keyring NAME=SPEC …] [--context k=v …] [--path …] [--min-suite 2] [--in FILE] [--out FILE] [--ndjson [--workers N|auto]]',
    options: {
      keyring: KEYRING,
      'group-keyring': { ...GROUP_KEYRING, description: 'keyring of key group NAME; without --keyring only the named groups are opened' },
      path: { type: 'string', multiple: true, value: 'SEL', description: 'decrypt only the fields these selectors match (the rest stay sealed)' },
      context: CONTEXT,
      'context-file': CONTEXT_FILE,
      'header-name': HEADER_NAME,
      'min-suite': { type: 'string', value: '1|2', choices: ['1', '2'], description: 'refuse documents of an older algorithm suite (2 binds key groups into the key wraps; set it once everything is re-encrypted) (default 1)' },
      in: IN, out: { ...OUT, description: 'write to FILE atomically; a new file gets mode 0600 (it holds plaintext) (default: stdout)' }, ndjson: NDJSON, 'on-error': ON_ERROR, workers: WORKERS, compact: COMPACT, pretty: PRETTY, 'max-input-bytes': MAX_INPUT,
    },
    async run(v, io) {
      const { decrypt } = await import('./commands/decrypt/index.js');
      const minSuite = str(v['min-suite']);
      if (minSuite !== undefined && minSuite !== '1' && minSuite !== '2') throw usage(`--min-suite must be 1 or 2, got "${minSuite.slice(0, 20)}"`);
      await decrypt({ ...(await streamOptions(v)), keyring: list(v.keyring), groupKeyrings: list(v['group-keyring']), paths: list(v.path), ...(minSuite !== undefined ? { minSuite: Number(minSuite) } : {}) }, io);
    },
  },
  inspect: {
    summary: 'print the header summary of a sealed document as JSON (needs no key)',
    usage: 'fieldseal inspect [--in FILE] [--header-name NAME]',
    options: { in: IN, 'header-name': HEADER_NAME, 'max-input-bytes': MAX_INPUT },
    async run(v, io) {
      const { inspect } = await import('./commands/inspect/index.js');
      const s = await streamOptions(v);
      await inspect({ ...(s.in !== undefined ? { in: s.in } : {}), ...(s.headerName !== undefined ? { headerName: s.headerName } : {}), ...(s.maxInputBytes !== undefined ? { maxInputBytes: s.maxInputBytes } : {}) }, io);
    },
  },
  doctor: {
    summary: 'say which key group and key of a sealed document the keyrings open and whether the context matches; decrypts no field',
    usage: 'fieldseal doctor --in sealed.json --keyring SPEC [--group-keyring NAME=SPEC …] [--context k=v …]',
    options: { in: IN, keyring: KEYRING, 'group-keyring': GROUP_KEYRING, context: CONTEXT, 'context-file': CONTEXT_FILE, 'header-name': HEADER_NAME, 'max-input-bytes': MAX_INPUT },
    notes: ['doctor unwraps each group\'s data key and verifies its key commitment and the header MAC (what decrypt checks before any field), then stops: no field is decrypted, no value printed.', 'exit 0 when the context matches and at least one group opens; 1 on a context mismatch or tampering; 3 when no group opens.'],
    async run(v, io) {
      const { doctor } = await import('./commands/doctor/index.js');
      const s = await streamOptions(v);
      await doctor({ ...(s.in !== undefined ? { in: s.in } : {}), keyring: list(v.keyring), groupKeyrings: list(v['group-keyring']), ...(s.context ? { context: s.context } : {}), ...(s.headerName !== undefined ? { headerName: s.headerName } : {}), ...(s.maxInputBytes !== undefined ? { maxInputBytes: s.maxInputBytes } : {}) }, io);
    },
  },
  demo: {
    summary: 'seal and open a sample record with a throwaway keyring, and show tampering rejected',
    usage: 'fieldseal demo [--keep]',
    options: { keep: { type: 'boolean', description: 'keep the temporary folder with the throwaway key file and sample' } },
    async run(v, io) {
      const { demo } = await import('./commands/demo/index.js');
      await demo({ keep: v.keep === true }, io);
    },
  },
  rotate: {
    summary: 'rewrap, re-encrypt, seal in place, unseal or import cloak ciphertext: every document of an NDJSON file, PostgreSQL JSON column or row table; resumable, shardable, with progress',
    usage:
      'fieldseal rotate --keyring <spec> [--to <spec>] --store ndjson:FILE | postgres://... [--table T (--column C | --columns a,b --header-column H [--context-column KEY=COL ...]) [--id-column id]] [--mode rewrap|reencrypt|seal|unseal|import-cloak] [--path SEL ...] [--until-clean] [--yes-write-plaintext] [--batch N] [--concurrency N] [--workers N] [--queue postgres://... --role coordinator|worker [--queue-name NAME] [--range-size N] [--expire-seconds N]] [--dry-run] [--resume] [--shard i/n] [--checkpoint FILE] [--context k=v ...] [--id-context KEY] [--field-context KEY=FIELD ...] [--max-failures N] [--all] [--json]',
    options: {
      keyring: { type: 'string', value: 'SPEC', description: 'keyring that unwraps the current data keys (give it once)' },
      to: { type: 'string', value: 'SPEC', description: 'keyring to wrap under (default: --keyring, its primary key)' },
      store: { type: 'string', value: 'STORE', description: 'ndjson:FILE (atomic replace) or a postgres:// connection string' },
      table: { type: 'string', value: 'T', description: 'PostgreSQL table' },
      column: { type: 'string', value: 'C', description: 'PostgreSQL JSON column holding the sealed document' },
      columns: { type: 'string', value: 'a,b', description: 'row layout: the sealed columns (text/varchar)' },
      'header-column': { type: 'string', value: 'H', description: 'row layout: the header column (text), NULL while a row holds nothing sealed' },
      'context-column': { type: 'string', multiple: true, value: 'KEY=COL', description: 'row layout: bind column COL as required context KEY; repeatable' },
      'id-column': { type: 'string', value: 'COL', description: 'primary key or unique column: keyset pagination, bound as context id for rows (default id)' },
      mode: { type: 'string', value: 'MODE', description: 'rewrap (default: new KEK, same data keys), reencrypt (fresh data keys), seal, unseal, import-cloak' },
      path: { type: 'string', multiple: true, value: 'SEL', description: '--mode seal on NDJSON: a field to seal; repeatable' },
      'until-clean': { type: 'boolean', description: 'repeat passes until nothing is left to do' },
      'yes-write-plaintext': { type: 'boolean', description: 'the confirmation --mode unseal requires (it writes plaintext back)' },
      batch: { type: 'string', value: 'N', description: 'records per batch (and per checkpoint)' },
      concurrency: { type: 'string', value: 'N', description: 'documents transformed in parallel' },
      workers: { type: 'string', value: 'N', description: 'transform in N worker threads (documents; one per core is usual)' },
      queue: { type: 'string', value: 'URL', description: 'postgres:// of a pg-boss job queue: rotate a JSON column across processes and machines' },
      role: { type: 'string', value: 'ROLE', description: 'with --queue: coordinator (enqueue key ranges) or worker (claim and rotate ranges until none is left)' },
      'queue-name': { type: 'string', value: 'NAME', description: 'with --queue: the queue (default fieldseal-rotate-<table>-<column>)' },
      'range-size': { type: 'string', value: 'N', description: 'coordinator: rows per range (default 10000)' },
      'expire-seconds': { type: 'string', value: 'S', description: 'coordinator: seconds before a silent worker\'s range goes to another (default 900)' },
      'dry-run': { type: 'boolean', description: 'verify and count what would change, write nothing' },
      resume: { type: 'boolean', description: 'continue from the checkpoint of an interrupted run' },
      shard: { type: 'string', value: 'i/n', description: 'process shard i of n (PostgreSQL), one worker per shard' },
      checkpoint: { type: 'string', value: 'FILE', file: true, description: 'checkpoint file (default: beside the NDJSON file, or ./fieldseal-rotate-<table>-<column>[-shard-i-of-n].checkpoint.json)' },
      context: { type: 'string', multiple: true, value: 'k=v', description: 'expected context pair, split at the first "="; repeatable' },
      'id-context': { type: 'string', value: 'KEY', description: "bind each record's id as required context KEY" },
      'field-context': { type: 'string', multiple: true, value: 'KEY=FIELD', description: 'bind a field of each record as required context KEY; repeatable' },
      'max-failures': { type: 'string', value: 'N', description: 'stop after N records fail (default 1000; failed records are left unchanged)' },
      all: { type: 'boolean', description: 'also process documents already wrapped under the target key (reencrypt does by default)' },
      json: { type: 'boolean', description: 'progress and the final report as JSON lines' },
    },
    async run(v, io) {
      const { rotate } = await import('./commands/rotate/index.js');
      const context = parseContextFlags(list(v.context), '--context');
      const int = (name: string) => (str(v[name]) !== undefined ? { [name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())]: Number(str(v[name])) } : {});
      const opt = (name: string, key: string) => (str(v[name]) !== undefined ? { [key]: str(v[name])! } : {});
      await rotate(
        {
          keyring: required(v, 'keyring'), store: required(v, 'store'), ...opt('to', 'to'), ...opt('table', 'table'), ...opt('column', 'column'), ...opt('id-column', 'idColumn'), ...opt('mode', 'mode'), ...opt('shard', 'shard'), ...opt('checkpoint', 'checkpoint'), ...opt('id-context', 'idContext'),
          ...int('batch'), ...int('concurrency'), ...int('workers'), ...opt('queue', 'queue'), ...opt('role', 'role'), ...opt('queue-name', 'queueName'), ...int('range-size'), ...int('expire-seconds'), ...int('max-failures'), ...(context ? { context } : {}), fieldContext: list(v['field-context']), dryRun: v['dry-run'] === true,
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
    actions: ['create', 'rotate', 'rewrap', 'shred', 'list'],
    options: {
      store: { type: 'string', value: 'STORE', description: 'file:FILE or a postgres:// connection string' },
      table: { type: 'string', value: 'T', description: 'PostgreSQL table of the key store' },
      kek: { type: 'string', value: 'SPEC', description: 'keyring that wraps the branch keys' },
      to: { type: 'string', value: 'SPEC', description: 'rewrap: the new KEK keyring' },
      id: { type: 'string', value: 'ID', description: 'branch key id (a tenant)' },
      'yes-destroy-every-version': { type: 'boolean', description: 'shred: confirm destroying every version of the branch key' },
    },
    async run(v, io, positionals) {
      const { keystore } = await import('./commands/keystore/index.js');
      if (positionals.length !== 1) throw usage('fieldseal keystore takes one action: create, rotate, rewrap, shred or list');
      const opt = (name: string, key: string) => (str(v[name]) !== undefined ? { [key]: str(v[name])! } : {});
      await keystore({ action: positionals[0]!, store: required(v, 'store'), ...opt('table', 'table'), ...opt('kek', 'kek'), ...opt('to', 'to'), ...opt('id', 'id'), confirmShred: v['yes-destroy-every-version'] === true }, io);
    },
  },
  rewrap: {
    summary: 'rewrap (or re-encrypt) one sealed document or an NDJSON stream under new keys, verified before output',
    usage: 'fieldseal rewrap --keyring SPEC [--to SPEC] [--mode rewrap|reencrypt] [--context k=v …] [--in FILE] [--out FILE] [--ndjson]',
    options: {
      keyring: { ...KEYRING, description: 'keyring that unwraps the current data keys; repeat to try several in order' },
      to: { type: 'string', multiple: true, value: 'SPEC', description: 'keyring to wrap under (default: --keyring); repeat to wrap under several' },
      mode: { type: 'string', value: 'rewrap|reencrypt', description: 'rewrap: new KEK, same data keys (default); reencrypt: fresh data keys' },
      context: CONTEXT, 'context-file': CONTEXT_FILE,
      in: IN, out: OUT, ndjson: NDJSON, 'on-error': ON_ERROR, compact: COMPACT, pretty: PRETTY, 'max-input-bytes': MAX_INPUT,
    },
    async run(v, io) {
      const { rewrap } = await import('./commands/rewrap/index.js');
      const s = await streamOptions(v);
      const keyring = list(v.keyring);
      if (keyring.length === 0) throw usage('--keyring is required');
      const to = list(v.to);
      await rewrap({ ...s, keyring, ...(to.length > 0 ? { to } : {}), ...(str(v.mode) ? { mode: str(v.mode) as 'rewrap' } : {}) }, io);
    },
  },
  completion: {
    summary: 'print a shell completion script for bash or zsh',
    usage: 'fieldseal completion bash|zsh',
    positionals: true,
    actions: ['bash', 'zsh'],
    options: {},
    notes: ['bash: source <(fieldseal completion bash)   (or save it under /etc/bash_completion.d/)', 'zsh:  fieldseal completion zsh > "${fpath[1]}/_fieldseal"   (then restart the shell)'],
    async run(_v, io, positionals) {
      const { completionScriptFor } = await import('./completion-script.js');
      if (positionals.length !== 1) throw usage('fieldseal completion takes one shell: bash or zsh');
      io.stdout.write(completionScriptFor(positionals[0]!, { commands, globalOptions }));
    },
  },
};

function flagLine(name: string, o: OptionSpec): string {
  const left = `  --${name}${o.value !== undefined ? ` ${o.value}` : ''}`;
  return `${left.padEnd(34)} ${o.description}`;
}

function exitCodeLines(): string[] {
  return ['exit codes:', ...EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`)];
}

/** The global help text, or one command's help listing every flag it takes. */
export function helpText(command?: string): string {
  const spec = command !== undefined ? commands[command] : undefined;
  if (spec !== undefined) {
    const lines = [`fieldseal ${command}: ${spec.summary}`, '', `usage: ${spec.usage}`, '', 'flags:'];
    for (const [name, o] of Object.entries(spec.options)) lines.push(flagLine(name, o));
    for (const [name, o] of Object.entries(globalOptions)) lines.push(flagLine(name, o));
    if (spec.notes) lines.push('', ...spec.notes);
    lines.push('', ...exitCodeLines());
    return lines.join('\n') + '\n';
  }
  const lines = ['fieldseal: field-level envelope encryption for JSON documents', '', 'usage: fieldseal <command> [flags]   (fieldseal <command> --help lists its flags)', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'global flags:', ...Object.entries(globalOptions).map(([n, o]) => flagLine(n, o)), flagLine('version', { type: 'boolean', description: 'print the version' }));
  lines.push('', 'keyring specs: local:keys.json, or aws-kms:|azure-keyvault:|gcp-kms:|vault-transit:<config.json> when that package is installed', '', ...exitCodeLines());
  return lines.join('\n') + '\n';
}

/** The short usage printed on stderr when no command is given. */
export function shortUsage(): string {
  return `usage: fieldseal <command> [flags]\ncommands: ${Object.keys(commands).join(', ')}\nrun fieldseal --help for details, fieldseal <command> --help for a command's flags`;
}

/** What the command line asks for. */
export type ParsedCommandLine =
  | { name: string; spec: CommandSpec; values: Values; positionals: readonly string[] }
  | { help: true; command?: string }
  | { version: true };

/** Parse argv (without node and script) into a command and its flag values. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const [name, ...rest] = argv;
  if (name === undefined) throw usage(shortUsage());
  if (name === '--help' || name === '-h' || name === 'help') return rest[0] !== undefined && commands[rest[0]] !== undefined ? { help: true, command: rest[0] } : { help: true };
  if (name === '--version' || name === '-V' || name === 'version') return { version: true };
  const spec = commands[name];
  if (spec === undefined) throw usage(`unknown command "${name.slice(0, 40)}" (try: fieldseal --help)`);
  const all = { ...spec.options, ...globalOptions };
  const options = Object.fromEntries(Object.entries(all).map(([n, o]) => [n, { type: o.type, ...(o.multiple ? { multiple: true } : {}) }]));
  let values: Values;
  let positionals: string[];
  let tokens: readonly { kind: string; name?: string }[];
  try {
    ({ values, positionals, tokens } = parseArgs({ args: rest, options, allowPositionals: spec.positionals === true, strict: true, tokens: true }) as { values: Values; positionals: string[]; tokens: { kind: string; name?: string }[] });
  } catch (err) {
    if (rest.includes('--help')) return { help: true, command: name };
    throw usage(`${(err as Error).message}\nusage: ${spec.usage}\n(fieldseal ${name} --help lists every flag)`);
  }
  if (values.help === true) return { help: true, command: name };
  // A single-valued flag given twice used to keep the last value silently: refuse it instead.
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined || all[t.name]?.multiple || all[t.name]?.type === 'boolean') continue;
    if (seen.has(t.name)) throw usage(`--${t.name} is given twice; it takes one value (fieldseal ${name} --help)`);
    seen.add(t.name);
  }
  return { name, spec, values, positionals };
}
