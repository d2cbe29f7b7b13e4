/**
 * What every `cnn` command is built from: the output channel, the errors that end a command
 * with one line, and the command's description. Its own module so that the commands and
 * main.ts import it rather than each other.
 */
import type { ParseArgsConfig } from 'node:util';

export interface Io {
  /** One line (or several) on standard output; a newline is added. */
  out(text: string): void;
  /** One line (or several) on standard error; a newline is added. */
  err(text: string): void;
  /** Standard error as is, without a newline: progress lines that rewrite themselves with `\r`. */
  errRaw?(text: string): void;
  /** Standard error is a terminal, where a progress line may be shown. */
  tty?: boolean;
  /** Standard input as text, for the file name `-`; reads file descriptor 0 when absent. */
  stdin?(): string;
}

/** A one-line error for the user: printed without a stack trace, exit status 1. */
export class CliError extends Error {
  readonly status: number = 1;
}

/**
 * A mistake in the command line itself (an unknown command or option, a missing or extra
 * argument, a value that is wrong whatever the file holds): exit status 2, as most Unix tools.
 */
export class UsageError extends CliError {
  override readonly status: number = 2;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help: NAME, N, FILE. */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Command {
  summary: string;
  /** The synopsis line, as `cnn` without arguments lists it. */
  usage: string;
  options: OptionSpecs;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: Io): Promise<number> | number;
}

/** The options as node:util's parseArgs takes them, with --help / -h that every command has. */
export function parseArgsOptions(specs: OptionSpecs): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, s] of Object.entries(specs)) out[name] = s.short ? { type: s.type, short: s.short } : { type: s.type };
  return out;
}

/** `cnn NAME --help`: the synopsis, what the command does, and every option with its meaning. */
export function commandHelp(name: string, c: Command): string {
  const entries: [string, string][] = Object.entries(c.options).map(([o, s]) => [`${s.short ? `-${s.short}, ` : '    '}--${o}${s.value ? ` ${s.value}` : ''}`, s.help]);
  entries.push(['-h, --help', 'print this help and exit']);
  const w = Math.max(...entries.map(([k]) => k.length));
  return [`usage: ${c.usage}`, '', `${name}: ${c.summary}`, '', 'options:', ...entries.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), '', EXIT_STATUS].join('\n');
}

export const EXIT_STATUS = 'Exit status: 0 on success, 1 when the file has errors or the command fails, 2 for a mistake in the command line.';

/** The one positional argument a command takes, else a usage error that shows the synopsis. */
export function onlyFile(positionals: string[], command: string, usage: string, what = 'one file'): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes ${what}${positionals.length > 1 ? `, not ${positionals.length}` : ''}: ${usage}`);
  return positionals[0];
}
