/** The `cnn` command line: the command table, argument parsing and exit statuses. */
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { analyzeCommand, checkCommand, paramsCommand } from './commands/analyze';
import { benchCommand } from './commands/bench';
import { exportCommand } from './commands/export';
import { importCommand } from './commands/import';
import { gradCommand } from './commands/grad';
import { trainCommand } from './commands/train';
import { runCommand } from './commands/run';
import { CliError, commandHelp, EXIT_STATUS, parseArgsOptions, type Command, type Io } from './command';
import { main } from './process';

export { main } from './process';

// The old home of these; the commands import them from ./command and ./load now.
export { CliError, UsageError, type Command, type Io } from './command';
export { loadNetwork, readSource } from './load';

/** The package's version, read from package.json when the bundle is built. */
export const VERSION: string = version;

export const commands: Record<string, Command> = {
  analyze: analyzeCommand,
  check: checkCommand,
  params: paramsCommand,
  run: runCommand,
  bench: benchCommand,
  export: exportCommand,
  import: importCommand,
  grad: gradCommand,
  train: trainCommand,
};

function usage(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: cnn COMMAND FILE [options]    (cnn COMMAND --help for its options; - reads the file from standard input)',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}\n  ${' '.repeat(w)}  ${c.usage}`),
    '',
    EXIT_STATUS,
  ].join('\n');
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    io.out(`cnn ${VERSION}`);
    return 0;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = rest[0] !== undefined ? commands[rest[0]] : undefined;
    if (rest[0] !== undefined && !about) {
      io.err(`cnn: unknown command '${rest[0]}'\n${usage()}`);
      return 2;
    }
    io.out(about ? commandHelp(rest[0], about) : usage());
    return 0;
  }
  if (name === undefined) {
    io.err(usage());
    return 2;
  }
  const command = commands[name];
  if (!command) {
    io.err(`cnn: unknown ${name.startsWith('-') ? 'option' : 'command'} '${name}'\n${usage()}`);
    return 2;
  }
  try {
    const parsed = parseArgs({ args: rest, options: parseArgsOptions(command.options), allowPositionals: true, strict: true });
    if (parsed.values.help) {
      io.out(commandHelp(name, command));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`cnn ${name}: ${e.message}`);
      return e.status;
    }
    const code = (e as { code?: string }).code;
    if (code && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cnn ${name}: ${(e as Error).message.split('\n')[0]}\nusage: ${command.usage}`);
      return 2;
    }
    // An allocation the memory budget did not foresee: the machine's limit, said as such.
    if (e instanceof RangeError && /allocation failed|Invalid (typed )?array (buffer )?length/i.test(e.message)) {
      io.err(`cnn ${name}: out of memory (${e.message}); --memory-limit sets a lower budget, which is checked before allocating`);
      return 1;
    }
    // Anything else is our bug: still one line for the user; the stack only when asked for.
    io.err(`cnn ${name}: internal error: ${(e as Error).message ?? String(e)}${process.env.CNN_DEBUG ? `\n${(e as Error).stack}` : ' (set CNN_DEBUG=1 for details)'}`);
    return 1;
  }
}

// `node dist/cli.cjs ...` runs the command line, as bin/cnn.js does.
const isMain = typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module;
if (isMain) main(process.argv.slice(2), runCli);
