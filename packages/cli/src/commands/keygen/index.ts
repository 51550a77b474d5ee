import { open, readFile, rename, unlink } from 'node:fs/promises';
import { LocalKeyring } from '@fieldseal/core';
import { usage } from '../../exit-error.js';
import { checkOutputPath, processIo, type CommandIo } from '../../io.js';

/** Options of `fieldseal keygen`. */
export interface KeygenOptions {
  /** Write a new key file here (refuses to overwrite). */
  readonly out?: string;
  /** Add a new primary version to this existing key file. */
  readonly add?: string;
  /** Keyring name for a new file. Default `main`. */
  readonly name?: string;
}

// Key files hold key material: create them 0600 and never through a path that already exists.
async function writeSecretFile(path: string, text: string, exclusive: boolean): Promise<void> {
  const handle = await open(path, exclusive ? 'wx' : 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `fieldseal keygen --out keys.json` or `fieldseal keygen --add keys.json`. */
export async function keygen(options: KeygenOptions, io: CommandIo = processIo): Promise<void> {
  if ((options.out === undefined) === (options.add === undefined)) throw usage('keygen needs exactly one of --out FILE (new key file) or --add FILE (new primary version)');
  if (options.out !== undefined) {
    await checkOutputPath(options.out);
    const keyring = await LocalKeyring.generate(options.name !== undefined ? { name: options.name } : {});
    try {
      await writeSecretFile(options.out, JSON.stringify(keyring.exportKeyFile(), null, 2) + '\n', true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw usage(`${options.out} exists; keygen never overwrites a key file (use --add to rotate)`);
      throw usage(`cannot write ${options.out} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    } finally {
      keyring.destroy();
    }
    io.stderr.write(`wrote ${options.out} (mode 0600): keyring "${keyring.name}", primary ${keyring.keyIds[0]}\n`);
    return;
  }
  const path = options.add!;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usage(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const current = LocalKeyring.fromKeyFile(text);
  const next = current.withNewPrimary();
  // Versions from a key file written before key ids get one now; their old labels still open.
  const gainedIds = current.keyIds.filter((id) => !LocalKeyring.isUniqueKeyId(id));
  // Atomic replace: a crash leaves the old file or the new one, never a torn one.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeSecretFile(tmp, JSON.stringify(next.exportKeyFile(), null, 2) + '\n', true);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    current.destroy();
    next.destroy();
  }
  io.stderr.write(`updated ${path}: new primary ${next.keyIds[0]}; older versions kept for decrypt\n`);
  if (gainedIds.length > 0) io.stderr.write(`gave ${gainedIds.join(', ')} a unique key id (documents under the old ids still open); run fieldseal rotate to rewrap them under ${next.keyIds[0]}\n`);
}
