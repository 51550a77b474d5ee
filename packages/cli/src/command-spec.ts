/**
 * The shape of the CLI's command table (cli.ts) and of what reads it (completion-script.ts), in a
 * file of their own so neither imports the other.
 * @module
 */
import type { CommandIo } from './io.js';

export type Values = Record<string, string | boolean | string[] | undefined>;

/** One flag of a command: its parse type and the one line `--help` prints for it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Repeatable: every value is kept, in order. A single-valued flag given twice is refused. */
  readonly multiple?: boolean;
  /** What the flag does, one line. */
  readonly description: string;
  /** Placeholder for the value in help (`FILE`, `SPEC`, `k=v`). */
  readonly value?: string;
  /** Shell completion completes a file name for the value. */
  readonly file?: boolean;
  /** Words shell completion offers for the value (`auto`, `skip stop`); other values may still be valid. */
  readonly choices?: readonly string[];
}

/** One CLI command: its flags, its help, and a lazy import of the code that runs it. */
export interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Words after the command (`fieldseal keystore create`); refused when not set. */
  readonly positionals?: boolean;
  /** Values completion offers for the first positional word. */
  readonly actions?: readonly string[];
  /** Extra help paragraphs (examples, notes). */
  readonly notes?: readonly string[];
  run(values: Values, io: CommandIo, positionals: readonly string[]): Promise<void>;
}

/** The table `--help`, the parser and shell completion read. */
export interface CommandTable {
  readonly commands: Readonly<Record<string, CommandSpec>>;
  readonly globalOptions: Readonly<Record<string, OptionSpec>>;
}
