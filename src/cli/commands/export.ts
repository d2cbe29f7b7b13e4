/** `cnn export`: the network as PyTorch code or an ONNX model, with our parameter names. */
import { writeFileSync } from 'node:fs';
import { ExportError } from '../../export/common';
import { bytesText, EXPORT_TARGETS, exportOnnxFile, exportPytorchFile, type ExportTarget } from '../../export/document';
import { CliError, type Command } from '../main';
import { loadModel, loadRunnableNetwork, modelOptions } from './model';


function write(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`-o ${path}: cannot write (${code === 'ENOENT' ? 'no such folder' : code === 'EISDIR' ? 'is a folder' : (code ?? (e as Error).message)})`);
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
  usage: 'cnn export FILE --to pytorch|onnx [-o OUT] [--weights W.safetensors] [--seed N] [--network NAME] [--shape CxHxW]',
  options: {
    ...modelOptions,
    to: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new CliError(`export takes one network file: ${exportCommand.usage}`);
    const file = positionals[0];
    const to = values.to as string | undefined;
    if (to === undefined) throw new CliError('export needs --to pytorch or --to onnx');
    if (!(EXPORT_TARGETS as readonly string[]).includes(to)) throw new CliError(`--to ${to}: choose pytorch or onnx`);
    const target = to as ExportTarget;
    let out = values.output as string | undefined;

    if (target === 'pytorch') {
      if (values.weights !== undefined || values.seed !== undefined) {
        throw new CliError(`--${values.weights !== undefined ? 'weights' : 'seed'} is for --to onnx; the PyTorch file loads weights itself: load_weights(model, "W.safetensors")`);
      }
      const { net } = loadRunnableNetwork(file, values);
      const py = attempt(() => exportPytorchFile(net, file));
      if (out === '-') {
        io.out(new TextDecoder().decode(py.data).replace(/\n$/, ''));
        return 0;
      }
      out ??= py.fileName;
      write(out, py.data);
      io.out(`wrote ${out}: ${py.summary}`);
      return 0;
    }

    if (out === '-') throw new CliError('-o -: an ONNX model is binary; give a file name');
    const { net, model, weightsSource } = loadModel(file, values);
    const onnx = attempt(() => exportOnnxFile(net, model.weights, weightsSource, file));
    out ??= onnx.fileName;
    write(out, onnx.data);
    io.out(`wrote ${out} (${bytesText(onnx.data.byteLength)}): ${onnx.summary}`);
    return 0;
  },
};
