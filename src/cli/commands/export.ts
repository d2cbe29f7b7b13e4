/** `cnn export`: the network as PyTorch code or an ONNX model, with our parameter names. */
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import { ExportError } from '../../export/common';
import { bytesText, EXPORT_TARGETS, exportOnnxFile, exportPytorchFile, type ExportTarget } from '../../export/document';
import { CliError, onlyFile, UsageError, type Command } from '../command';
import { STDIN, writeErrorReason } from '../load';
import { loadRunnableNetwork, loadWeights, modelOptions, planModel } from './model';

/** The real path of a file that exists, else undefined. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Writes the exported file. Never over the network file itself, and over another existing
 * file only with --force: without it the file is created exclusively ('wx'), so nothing that
 * appeared meanwhile is overwritten either.
 */
export function writeExport(path: string, data: string | Uint8Array, source: string, force: boolean): void {
  const target = realPath(path);
  if (target !== undefined && target === realPath(source)) throw new CliError(`-o ${path}: that is the network file itself; give another name`);
  try {
    writeFileSync(path, data, { flag: force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') {
      if (isDirectory(path)) throw new CliError(`-o ${path}: cannot write (is a folder)`);
      throw new CliError(`-o ${path}: the file exists; add --force to overwrite it`);
    }
    throw new CliError(`-o ${path}: cannot write (${writeErrorReason(e)})`);
  }
}

/** Runs an exporter, turning its one-line problems into the CLI's. */
function attempt<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ExportError) throw new CliError(e.message);
    throw e;
  }
}

export const exportCommand: Command = {
  summary: 'the network as PyTorch code or an ONNX model with the same parameter names',
  usage: 'cnn export FILE --to pytorch|onnx [-o OUT] [--force] [--weights W.safetensors] [--seed N] [--network NAME] [--shape CxHxW] [--memory-limit SIZE]',
  options: {
    ...modelOptions,
    to: { type: 'string', value: 'pytorch|onnx', help: 'what to write: a self-contained nn.Module (.py) or an ONNX opset 17 model' },
    output: { type: 'string', short: 'o', value: 'OUT', help: 'the file to write (default: NETWORK.py or NETWORK.onnx here; - prints the PyTorch code)' },
    force: { type: 'boolean', help: 'overwrite OUT if it exists (never the network file itself)' },
  },
  run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'export', exportCommand.usage, 'one network file');
    const to = values.to as string | undefined;
    if (to === undefined) throw new UsageError('export needs --to pytorch or --to onnx');
    if (!(EXPORT_TARGETS as readonly string[]).includes(to)) throw new UsageError(`--to ${to}: choose pytorch or onnx`);
    if (file === STDIN) throw new UsageError('export reads the network from a file; - (standard input) is for check, analyze and params');
    const target = to as ExportTarget;
    let out = values.output as string | undefined;
    const force = Boolean(values.force);

    if (target === 'pytorch') {
      if (values.weights !== undefined || values.seed !== undefined) {
        throw new UsageError(`--${values.weights !== undefined ? 'weights' : 'seed'} is for --to onnx; the PyTorch file loads weights itself: load_weights(model, "W.safetensors")`);
      }
      const { net } = loadRunnableNetwork(file, values, io);
      const py = attempt(() => exportPytorchFile(net, file));
      if (out === '-') {
        io.out(new TextDecoder().decode(py.data).replace(/\n$/, ''));
        return 0;
      }
      out ??= py.fileName;
      writeExport(out, py.data, file, force);
      io.out(`wrote ${out}: ${py.summary}`);
      return 0;
    }

    if (out === '-') throw new UsageError('-o -: an ONNX model is binary; give a file name');
    const plan = planModel(file, values, 'export', 1, io);
    const { model, weightsSource } = loadWeights(plan, values);
    const onnx = attempt(() => exportOnnxFile(plan.net, model.weights, weightsSource, file));
    out ??= onnx.fileName;
    writeExport(out, onnx.data, file, force);
    io.out(`wrote ${out} (${bytesText(onnx.data.byteLength)}): ${onnx.summary}`);
    return 0;
  },
};
