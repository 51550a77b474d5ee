import type { Keyring } from '@fieldseal/core';
import { usage } from './exit-error.js';
import { keyringFromSpecs } from './keyring-spec.js';

function split(flag: string, value: string): [string, string] {
  const i = value.indexOf('=');
  if (i <= 0 || i === value.length - 1) throw usage(`${flag} expects NAME=VALUE, got "${value.slice(0, 60)}"`);
  return [value.slice(0, i), value.slice(i + 1)];
}

/**
 * Key groups from `--group-keyring NAME=SPEC` and `--group-path NAME=SELECTOR` (both repeatable;
 * several keyrings for one name make a multi-keyring). Every named group needs at least one of
 * each for encrypt; decrypt uses only the keyrings.
 */
export async function groupsFromFlags(keyringFlags: readonly string[], pathFlags: readonly string[], needPaths: boolean): Promise<{ keyrings: Record<string, Keyring>; paths: Record<string, string[]> }> {
  const specs = new Map<string, string[]>();
  for (const f of keyringFlags) {
    const [name, spec] = split('--group-keyring', f);
    specs.set(name, [...(specs.get(name) ?? []), spec]);
  }
  const paths: Record<string, string[]> = Object.create(null);
  for (const f of pathFlags) {
    const [name, selector] = split('--group-path', f);
    if (!specs.has(name)) throw usage(`--group-path names the key group "${name}", which has no --group-keyring ${name}=SPEC`);
    (paths[name] ??= []).push(selector);
  }
  if (needPaths) for (const name of specs.keys()) if (paths[name] === undefined) throw usage(`the key group "${name}" has a keyring but no --group-path ${name}=SELECTOR`);
  if (!needPaths && pathFlags.length > 0) throw usage('--group-path applies to encrypt only (decrypt selects fields with --path)');
  const keyrings: Record<string, Keyring> = Object.create(null);
  for (const [name, list] of specs) keyrings[name] = await keyringFromSpecs(list);
  return { keyrings, paths };
}
