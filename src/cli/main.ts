import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { analyzeText, type FileAnalysis, type NetworkAnalysis } from '../analysis';
import { DTYPE_BYTES, type DType } from '../analysis/types';
import { benchCommand } from './commands/bench';
import { exportCommand } from './commands/export';
import { runCommand } from './commands/run';
import { diagnosticLine, humanReport, jsonReport } from './report';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** A one-line error for the user: printed without a stack trace, exit status 1. */
export class CliError extends Error {}

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: Io): Promise<number> | number;
}

export function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a directory` : `${file}: cannot read (${code ?? String(e)})`);
  }
}

function parseShape(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(/[xX×,]/).map(Number);
  if (!(parts.length === 1 || parts.length === 3) || parts.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new CliError(`--shape ${text}: give C x H x W (like 3x224x224) or N`);
  }
  return parts;
}

function parseDtype(text: string | undefined): DType | undefined {
  if (text === undefined) return undefined;
  if (!(text in DTYPE_BYTES)) throw new CliError(`--dtype ${text}: choose one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  return text as DType;
}

/** Loads, analyses and picks the network the command is about (the first, unless --network). */
export function loadNetwork(
  file: string,
  values: Record<string, unknown>,
): { analysis: FileAnalysis; net: NetworkAnalysis } {
  const wanted = values.network as string | undefined;
  const inputShape = parseShape(values.shape as string | undefined);
  const dtype = parseDtype(values.dtype as string | undefined);
  const analysis = analyzeText(readSource(file), { network: wanted, inputShape, dtype });
  if (analysis.networks.length === 0) {
    const errs = analysis.diagnostics.filter((d) => d.severity === 'error').map((d) => diagnosticLine(file, d));
    throw new CliError(errs.length ? errs.join('\n') : `${file}: no network in this file (write 'network Name { ... }')`);
  }
  const net = wanted === undefined ? analysis.networks[0] : analysis.networks.find((n) => n.graph.network === wanted);
  if (!net) {
    throw new CliError(`${file}: no network named '${wanted}'; the file has ${analysis.networks.map((n) => n.graph.network).join(', ')}`);
  }
  return { analysis, net };
}

const networkOptions = {
  network: { type: 'string' },
  json: { type: 'boolean' },
  shape: { type: 'string' },
  dtype: { type: 'string' },
} as const;

function hasErrors(a: FileAnalysis): boolean {
  return a.diagnostics.some((d) => d.severity === 'error');
}

export const commands: Record<string, Command> = {
  analyze: {
    summary: 'per-layer table and totals',
    usage: 'cnn analyze FILE [--network NAME] [--json] [--shape CxHxW] [--dtype float32|float16|bfloat16|int8] [--all]',
    options: { ...networkOptions, all: { type: 'boolean' } },
    run({ values, positionals }, io) {
      const file = onlyFile(positionals, 'analyze');
      const { analysis, net } = loadNetwork(file, values);
      const nets = values.all ? analysis.networks : [net];
      if (values.json) {
        io.out(JSON.stringify(jsonReport(file, analysis, nets), null, 2));
      } else {
        for (const d of analysis.diagnostics) io.err(diagnosticLine(file, d));
        io.out(nets.map((n) => humanReport(n, file)).join('\n\n'));
      }
      return hasErrors(analysis) ? 1 : 0;
    },
  },
  check: {
    summary: 'diagnostics only',
    usage: 'cnn check FILE...',
    options: {},
    run({ positionals }, io) {
      if (positionals.length === 0) throw new CliError('check needs at least one file: cnn check FILE...');
      let errors = 0;
      for (const file of positionals) {
        let text: string;
        try {
          text = readSource(file);
        } catch (e) {
          io.err(`${file}:1:1: error: ${(e as Error).message.replace(`${file}: `, '')}`);
          errors++;
          continue;
        }
        for (const d of analyzeText(text).diagnostics) {
          io.out(diagnosticLine(file, d));
          if (d.severity === 'error') errors++;
        }
      }
      return errors ? 1 : 0;
    },
  },
  params: {
    summary: 'every parameter and buffer name with its shape',
    usage: 'cnn params FILE [--network NAME] [--json] [--shape CxHxW]',
    options: networkOptions,
    run({ values, positionals }, io) {
      const file = onlyFile(positionals, 'params');
      const { analysis, net } = loadNetwork(file, values);
      if (values.json) {
        io.out(
          JSON.stringify(
            { network: net.graph.network, params: net.tensors.map((t) => ({ name: t.name, shape: t.shape, kind: t.kind })) },
            null,
            2,
          ),
        );
      } else {
        for (const d of analysis.diagnostics) io.err(diagnosticLine(file, d));
        const w = Math.max(4, ...net.tensors.map((t) => t.name.length));
        io.out(`${'name'.padEnd(w)}  ${'shape'.padEnd(18)}  kind`);
        for (const t of net.tensors) io.out(`${t.name.padEnd(w)}  ${`[${t.shape.join(', ')}]`.padEnd(18)}  ${t.kind}`);
        const count = (k: string) => net.tensors.filter((t) => t.kind === k).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
        io.out(`${net.tensors.length} tensors: ${count('param').toLocaleString('en-US')} parameters, ${count('buffer').toLocaleString('en-US')} buffer values`);
      }
      return hasErrors(analysis) ? 1 : 0;
    },
  },
  run: runCommand,
  bench: benchCommand,
  export: exportCommand,
};

function onlyFile(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new CliError(`${command} takes one file: ${commands[command].usage}`);
  return positionals[0];
}

function usage(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: cnn COMMAND FILE [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}\n  ${' '.repeat(w)}  ${c.usage}`),
    '',
    'Exit status: 0 on success, 1 when the file has errors or the command fails.',
  ].join('\n');
}

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    io.err(`cnn: unknown command '${name}'\n${usage()}`);
    return 1;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    return await command.run(parsed, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`cnn ${name}: ${e.message}`);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (code && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cnn ${name}: ${(e as Error).message}\nusage: ${command.usage}`);
      return 1;
    }
    // Anything else is our bug: still one line for the user; the stack only when asked for.
    io.err(`cnn ${name}: internal error: ${(e as Error).message ?? String(e)}${process.env.CNN_DEBUG ? `\n${(e as Error).stack}` : ' (set CNN_DEBUG=1 for details)'}`);
    return 1;
  }
}

const isMain = typeof require !== "undefined" && typeof module !== "undefined" && require.main === module;
if (isMain) {
  runCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
