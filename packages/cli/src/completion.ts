import { commands, globalOptions } from './cli.js';
import { completionScriptFor } from './completion-script.js';

/** The completion script for `shell`, generated from the same command table as `--help`. */
export function completionScript(shell: string): string {
  return completionScriptFor(shell, { commands, globalOptions });
}
