import { decrypt, inspect, LocalKeyring, LOCAL_PROVIDER, MultiKeyring, type EncryptionContext, type InspectedGroup, type Keyring } from '@fieldseal/core';
import { describeError } from '../../describe-error.js';
import { EXIT_FAILURE, EXIT_KEY_UNAVAILABLE, ExitError, usage } from '../../exit-error.js';
import { DEFAULT_MAX_INPUT_BYTES, processIo, readAll, type CommandIo } from '../../io.js';
import { parseJsonDocument } from '../../json-input.js';
import { groupsFromFlags } from '../../key-groups.js';
import { keyringFromSpecs } from '../../keyring-spec.js';

/** Options of `fieldseal doctor`. */
export interface DoctorCommandOptions {
  readonly in?: string;
  /** Keyring spec(s) tried for every key group. */
  readonly keyring?: string | readonly string[];
  /** `NAME=SPEC`: the keyring of one key group. */
  readonly groupKeyrings?: readonly string[];
  readonly context?: EncryptionContext;
  readonly headerName?: string;
  readonly maxInputBytes?: number;
}

/** Key ids a keyring says it holds (local keyrings, also inside a multi-keyring); undefined when it cannot say. */
function heldKeyIds(keyring: Keyring): Set<string> | undefined {
  if (keyring instanceof LocalKeyring) return new Set(keyring.keyIds.map((id) => `${LOCAL_PROVIDER} ${id}`));
  if (keyring instanceof MultiKeyring) {
    const out = new Set<string>();
    for (const k of keyring.keyrings) {
      const ids = heldKeyIds(k);
      if (ids === undefined) return undefined;
      for (const id of ids) out.add(id);
    }
    return out;
  }
  return undefined;
}

function contextProblems(stored: EncryptionContext, requiredKeys: readonly string[], given: EncryptionContext): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (Object.prototype.hasOwnProperty.call(stored, key)) {
      if (stored[key] !== given[key]) problems.push(`the value of "${key}" differs from the stored one`);
    } else if (!requiredKeys.includes(key)) {
      problems.push(`the document has no context key "${key}" (drop --context ${key}=…)`);
    }
  }
  for (const key of requiredKeys) if (!Object.prototype.hasOwnProperty.call(given, key)) problems.push(`the required key "${key}" is not supplied (add --context ${key}=VALUE)`);
  return problems;
}

/**
 * `fieldseal doctor`: which key group of a sealed document the given keyrings open, with which
 * key, and whether the context matches. It unwraps each group's data key and verifies the key
 * commitment and the header MAC (the checks decrypt makes before any field), but decrypts no
 * field and prints no value. Exit 0 when the context matches and at least one group opens.
 */
export async function doctor(options: DoctorCommandOptions, io: CommandIo = processIo): Promise<void> {
  const specs = options.keyring === undefined ? [] : typeof options.keyring === 'string' ? [options.keyring] : options.keyring;
  if (specs.length === 0 && (options.groupKeyrings ?? []).length === 0) throw usage('doctor needs --keyring (or --group-keyring NAME=SPEC)');
  const doc = parseJsonDocument(await readAll(options.in, io.stdin, options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES));
  const headerName = options.headerName !== undefined ? { headerName: options.headerName } : {};
  const info = inspect(doc, headerName);
  const keyring = specs.length > 0 ? await keyringFromSpecs(specs) : undefined;
  const { keyrings } = await groupsFromFlags(options.groupKeyrings ?? [], [], false);
  const given = options.context ?? {};
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);

  say(`document: format v${info.version}, ${info.suite.name}, ${info.groups.length} key group(s), header ${info.headerBytes} bytes`);
  const storedKeys = Object.keys(info.context);
  say(`context: stored ${storedKeys.length ? storedKeys.map((k) => `${k}=${info.context[k]}`).join(', ') : '(none)'}; required but not stored: ${info.requiredContextKeys.length ? info.requiredContextKeys.join(', ') : '(none)'}`);
  const problems = contextProblems(info.context, info.requiredContextKeys, given);
  if (problems.length === 0) say('context: matches');
  else for (const p of problems) say(`context: MISMATCH: ${p}`);

  let opened = 0;
  let firstFailure: { exitCode: number } | undefined;
  for (const group of info.groups as readonly InspectedGroup[]) {
    const label = `group "${group.name}" (${group.fields.length} field(s); wrapped under ${group.wrappedKeys.map((w) => `${w.provider} ${w.keyId}`).join(', ')})`;
    const ring = Object.prototype.hasOwnProperty.call(keyrings, group.name) ? keyrings[group.name] : keyring;
    if (ring === undefined) {
      say(`${label}: not tried: no keyring given (add --group-keyring ${group.name}=SPEC)`);
      continue;
    }
    const held = heldKeyIds(ring);
    const candidates = held === undefined ? undefined : group.wrappedKeys.filter((w) => held.has(`${w.provider} ${w.keyId}`));
    if (candidates !== undefined && candidates.length === 0) {
      say(`${label}: CANNOT OPEN: the keyring holds none of these keys`);
      firstFailure ??= { exitCode: EXIT_KEY_UNAVAILABLE };
      continue;
    }
    if (problems.length > 0) {
      say(`${label}: not tried: fix the context first${candidates ? ` (the keyring holds ${candidates.map((w) => w.keyId).join(', ')})` : ''}`);
      continue;
    }
    try {
      // `paths: []` selects no field: core unwraps the expected group's data key and checks its
      // commitment and the header MAC, then opens nothing.
      await decrypt(doc, { keyrings: { [group.name]: ring }, expectGroups: [group.name], paths: [], context: given, ...headerName });
      opened++;
      const which = candidates ? `key ${candidates[0]!.provider} ${candidates[0]!.keyId}` : 'the given keyring (it does not say which of its keys)';
      say(`${label}: OPENS with ${which}; key commitment and header MAC verified, no field decrypted`);
    } catch (err) {
      const d = describeError(err);
      say(`${label}: CANNOT OPEN: ${d.message}`);
      firstFailure ??= d;
    }
  }
  say(`result: ${opened} of ${info.groups.length} key group(s) open with these keys and this context`);
  io.stdout.write(lines.join('\n') + '\n');
  if (problems.length > 0) throw new ExitError(EXIT_FAILURE, 'the context does not match the document (see above)');
  if (opened === 0) throw new ExitError(firstFailure?.exitCode ?? EXIT_KEY_UNAVAILABLE, 'no key group of the document opens with the given keyrings (see above)');
}
