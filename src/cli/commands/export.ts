/** `cnn export`: the network as PyTorch code or an ONNX model, with our parameter names. */
import { writeFileSync } from 'node:fs';
import { ExportError } from '../../export/common';
import { exportOnnx, ONNX_OPSET } from '../../export/onnx';
import { exportPytorch, pythonClassName } from '../../export/pytorch';
import { CliError, loadNetwork, type Command } from '../main';
import { diagnosticLine } from '../report';
import { loadModel, modelOptions } from './model';

const TARGETS = ['pytorch', 'onnx'] as const;
type Target = (typeof TARGETS)[number];

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

function bytesText(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
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
    if (!(TARGETS as readonly string[]).includes(to)) throw new CliError(`--to ${to}: choose pytorch or onnx`);
    const target = to as Target;
    let out = values.output as string | undefined;

    if (target === 'pytorch') {
      if (values.weights !== undefined || values.seed !== undefined) {
        throw new CliError(`--${values.weights !== undefined ? 'weights' : 'seed'} is for --to onnx; the PyTorch file loads weights itself: load_weights(model, "W.safetensors")`);
      }
      const { analysis, net } = loadNetwork(file, values);
      // As cnn run: errors in the file's other networks do not stop this one.
      const others = analysis.graphs.filter((g) => g !== net.graph).map((g) => g.range);
      const errors = analysis.diagnostics.filter((d) => d.severity === 'error' && !others.some((r) => r.start.offset <= d.range.start.offset && d.range.start.offset < r.end.offset));
      if (errors.length) {
        const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''}; see cnn check)` : '';
        throw new CliError(`${diagnosticLine(file, errors[0])}${more}`);
      }
      const code = attempt(() => exportPytorch(net, { source: file }));
      if (out === '-') {
        io.out(code.replace(/\n$/, ''));
        return 0;
      }
      out ??= `${net.graph.network}.py`;
      write(out, code);
      const params = net.tensors.filter((t) => t.kind === 'param').reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
      io.out(`wrote ${out}: class ${pythonClassName(net.graph.network)}, ${net.tensors.length} state_dict entries (${params.toLocaleString('en-US')} parameters)`);
      return 0;
    }

    if (out === '-') throw new CliError('-o -: an ONNX model is binary; give a file name');
    const { net, model, weightsSource } = loadModel(file, values);
    const bytes = attempt(() => exportOnnx(net, model.weights, { source: file }));
    out ??= `${net.graph.network}.onnx`;
    write(out, bytes);
    const outs = [net.graph.output, ...net.graph.auxOutputs].map((o, i) => `${i === 0 ? 'output' : `aux${i}`} [N, ${model.shapes[o].join(', ')}]`);
    io.out(`wrote ${out} (${bytesText(bytes.byteLength)}): opset ${ONNX_OPSET}, input [N, ${model.shapes[net.graph.nodes.findIndex((n) => n.attrs.kind === 'input')].join(', ')}], ${outs.join(', ')}; ${net.tensors.length} initializers, weights: ${weightsSource}`);
    return 0;
  },
};
