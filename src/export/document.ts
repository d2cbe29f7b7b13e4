/**
 * Exports as the editor and the CLI ask for them: which network of a file, whether its errors
 * stop it, which weights, and the file that comes out with a one-line summary. Plain TypeScript,
 * so the desktop and the web extension host share it with `cnn export`.
 */
import type { FileAnalysis, NetworkAnalysis } from '../analysis';
import type { Diagnostic } from '../language/diagnostics';
import { initWeights } from '../engine/weights/init';
import { loadSafetensorsWeights } from '../engine/weights/load';
import { ExportError, knownShapes } from './common';
import { exportOnnx, ONNX_OPSET } from './onnx';
import { exportPytorch, pythonClassName } from './pytorch';

export const EXPORT_TARGETS = ['pytorch', 'onnx'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export const EXPORT_EXTENSION: Record<ExportTarget, string> = { pytorch: 'py', onnx: 'onnx' };

/** The network whose text holds `offset`, else the file's only network. */
export function networkAt(analysis: FileAnalysis, offset: number): NetworkAnalysis | undefined {
  const inside = analysis.networks.find((n) => n.graph.range.start.offset <= offset && offset <= n.graph.range.end.offset);
  return inside ?? (analysis.networks.length === 1 ? analysis.networks[0] : undefined);
}

/**
 * The errors that stop `net` from running or exporting: its own and those of the blocks it
 * may call; errors inside the file's other networks do not count.
 */
export function blockingErrors(analysis: FileAnalysis, net: NetworkAnalysis): Diagnostic[] {
  const others = analysis.graphs.filter((g) => g !== net.graph).map((g) => g.range);
  const inOther = (off: number) => others.some((r) => r.start.offset <= off && off < r.end.offset);
  return analysis.diagnostics.filter((d) => d.severity === 'error' && !inOther(d.range.start.offset));
}

/** The first blocking error as one line (`line:col: message`), with how many more there are. */
export function blockingErrorLine(errors: readonly Diagnostic[], where: string): string {
  const d = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  return `${where}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}${more}`;
}

export interface WeightsChoice {
  /** A .safetensors file's bytes and its name for messages; without it, seeded weights. */
  file?: { bytes: Uint8Array; name: string };
  seed?: number;
}

/** The weights an ONNX export carries, and where they came from in words. */
export function chooseWeights(net: NetworkAnalysis, choice: WeightsChoice): { weights: Map<string, Float32Array>; source: string } {
  if (choice.file) {
    try {
      return { weights: loadSafetensorsWeights(choice.file.bytes, net.tensors), source: choice.file.name };
    } catch (e) {
      throw new ExportError(`${choice.file.name}: ${(e as Error).message}`);
    }
  }
  const seed = choice.seed ?? 0;
  return { weights: initWeights(net.tensors, seed), source: `seeded initialisation (seed ${seed})` };
}

export interface ExportedFile {
  /** `<network>.py` or `<network>.onnx`, the name to offer. */
  fileName: string;
  data: Uint8Array;
  /** What was written, for a message: the class or the opset, shapes, weights (not the size). */
  summary: string;
}

/** A file size for messages: 46.8 MB, 3.2 kB. */
export function bytesText(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export function exportPytorchFile(net: NetworkAnalysis, source?: string): ExportedFile {
  const code = exportPytorch(net, { source });
  const params = net.tensors.filter((t) => t.kind === 'param').reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  return {
    fileName: `${net.graph.network}.${EXPORT_EXTENSION.pytorch}`,
    data: new TextEncoder().encode(code),
    summary: `class ${pythonClassName(net.graph.network)}, ${net.tensors.length} state_dict entries (${params.toLocaleString('en-US')} parameters)`,
  };
}

export function exportOnnxFile(net: NetworkAnalysis, weights: ReadonlyMap<string, Float32Array>, weightsSource: string, source?: string): ExportedFile {
  const shapes = knownShapes(net);
  const bytes = exportOnnx(net, weights, { source });
  const input = shapes[net.graph.nodes.findIndex((n) => n.attrs.kind === 'input')];
  const outs = [net.graph.output, ...net.graph.auxOutputs].map((o, i) => `${i === 0 ? 'output' : `aux${i}`} [N, ${shapes[o].join(', ')}]`);
  return {
    fileName: `${net.graph.network}.${EXPORT_EXTENSION.onnx}`,
    data: bytes,
    summary: `opset ${ONNX_OPSET}, input [N, ${input.join(', ')}], ${outs.join(', ')}; ${net.tensors.length} initializers, weights: ${weightsSource}`,
  };
}

/**
 * One network of an analysed file as `target`. Throws ExportError (one line, with the position
 * of the first error) when the network has errors or the weights do not fit.
 */
export function exportNetwork(analysis: FileAnalysis, net: NetworkAnalysis, target: ExportTarget, opts: WeightsChoice & { source?: string } = {}): ExportedFile {
  const errors = blockingErrors(analysis, net);
  if (errors.length) throw new ExportError(blockingErrorLine(errors, opts.source ?? net.graph.network));
  if (target === 'pytorch') return exportPytorchFile(net, opts.source);
  const { weights, source } = chooseWeights(net, opts);
  return exportOnnxFile(net, weights, source, opts.source);
}
