/** `cnn analyze`, `cnn check` and `cnn params`: the analysis, without running anything. */
import { analyzeText } from '../../analysis';
import { diagnosticLine } from '../../analysis/format';
import { UsageError, onlyFile, type Command, type OptionSpecs } from '../command';
import { displayName, hasErrors, loadNetwork, readSource, STDIN } from '../load';
import { csvReport, FORMATS, jsonDiagnostic, jsonReport, textReport, type Format } from '../report';
import { intOption } from './options';

export const networkOptions = {
  network: { type: 'string', value: 'NAME', help: "the network to use (default: the file's first)" },
  shape: { type: 'string', value: 'CxHxW', help: "replace the network's input shape (3x224x224, or N for a flat input)" },
} satisfies OptionSpecs;

const dtypeOption = {
  dtype: { type: 'string', value: 'TYPE', help: 'bytes per activation for the memory figures: float32 (default), float16, bfloat16 or int8' },
} satisfies OptionSpecs;

const jsonOption = { json: { type: 'boolean', help: 'print JSON (see CLI.md) instead of the table' } } satisfies OptionSpecs;

function formatOf(values: Record<string, unknown>): Format {
  const f = values.format as string | undefined;
  if (f !== undefined && !(FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format ${f}: choose ${FORMATS.join(', ')}`);
  if (values.json && f !== undefined && f !== 'json') throw new UsageError(`--json and --format ${f} disagree; --json is --format json`);
  return values.json ? 'json' : ((f as Format | undefined) ?? 'table');
}

export const analyzeCommand: Command = {
  summary: 'per-layer table and totals',
  usage: 'cnn analyze FILE|- [--network NAME] [--format table|md|csv|json] [--json] [--depth N] [--shape CxHxW] [--dtype float32|float16|bfloat16|int8] [--all]',
  options: {
    ...networkOptions,
    ...dtypeOption,
    ...jsonOption,
    format: { type: 'string', value: 'FORMAT', help: 'table (default), md (Markdown), csv (a row per layer) or json; --json is --format json' },
    depth: { type: 'string', value: 'N', help: 'a row per block call or labelled group up to N levels deep, summing the layers inside (as torchinfo\'s depth)' },
    all: { type: 'boolean', help: 'every network of the file, not only the first' },
  },
  run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'analyze', analyzeCommand.usage);
    const format = formatOf(values);
    const depth = values.depth === undefined ? undefined : intOption(values, 'depth', 1, 1);
    const name = displayName(file);
    const { analysis, net } = loadNetwork(file, values, io);
    const nets = values.all ? analysis.networks : [net];
    if (format === 'json') {
      io.out(JSON.stringify(jsonReport(name, analysis, nets, depth), null, 2));
    } else {
      for (const d of analysis.diagnostics) io.err(diagnosticLine(name, d));
      if (format === 'csv') io.out(csvReport(nets, depth));
      else io.out(nets.map((n) => textReport(n, name, format, depth)).join('\n\n'));
    }
    return hasErrors(analysis) ? 1 : 0;
  },
};

export const checkCommand: Command = {
  summary: 'diagnostics only',
  usage: 'cnn check FILE... [--json]',
  options: {
    json: { type: 'boolean', help: 'print a JSON list of diagnostics: file, line, column, endLine, endColumn, severity, code, message' },
  },
  run({ values, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('check needs at least one file: cnn check FILE...');
    if (positionals.filter((f) => f === STDIN).length > 1) throw new UsageError('check reads standard input (-) once');
    let errors = 0;
    const list: unknown[] = [];
    for (const file of positionals) {
      const name = displayName(file);
      let text: string;
      try {
        text = readSource(file, io);
      } catch (e) {
        const message = (e as Error).message.replace(`${name}: `, '');
        if (values.json) list.push({ file: name, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'unreadable', message });
        else io.err(`${name}:1:1: error: ${message}`);
        errors++;
        continue;
      }
      for (const d of analyzeText(text).diagnostics) {
        if (values.json) list.push({ file: name, ...jsonDiagnostic(d) });
        else io.out(diagnosticLine(name, d));
        if (d.severity === 'error') errors++;
      }
    }
    if (values.json) io.out(JSON.stringify(list, null, 2));
    return errors ? 1 : 0;
  },
};

export const paramsCommand: Command = {
  summary: 'every parameter and buffer name with its shape',
  usage: 'cnn params FILE|- [--network NAME] [--json] [--shape CxHxW] [--dtype TYPE]',
  options: { ...networkOptions, ...dtypeOption, ...jsonOption },
  run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'params', paramsCommand.usage);
    const name = displayName(file);
    const { analysis, net } = loadNetwork(file, values, io);
    if (values.json) {
      io.out(JSON.stringify({ network: net.graph.network, params: net.tensors.map((t) => ({ name: t.name, shape: t.shape, kind: t.kind })) }, null, 2));
    } else {
      for (const d of analysis.diagnostics) io.err(diagnosticLine(name, d));
      const w = Math.max(4, ...net.tensors.map((t) => t.name.length));
      io.out(`${'name'.padEnd(w)}  ${'shape'.padEnd(18)}  kind`);
      for (const t of net.tensors) io.out(`${t.name.padEnd(w)}  ${`[${t.shape.join(', ')}]`.padEnd(18)}  ${t.kind}`);
      const count = (k: string) => net.tensors.filter((t) => t.kind === k).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
      io.out(`${net.tensors.length} tensors: ${count('param').toLocaleString('en-US')} parameters, ${count('buffer').toLocaleString('en-US')} buffer values`);
    }
    return hasErrors(analysis) ? 1 : 0;
  },
};
