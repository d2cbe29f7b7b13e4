/**
 * Stage 6: the text is read back as any .cnn file is (src/analysis), and the network it describes
 * must be the recovered layer graph, layer for layer: the same kinds and arguments in the same
 * order, the same inputs, the same shapes, and a tensor of the declared shape for every weight.
 * The weights then take the names the analysis gives them. Anything else is a bug of the
 * importer, reported as such before anything is written.
 */
import { analyzeText, type NetworkAnalysis } from '../analysis';
import type { LayerAttrs } from '../layers';
import { ImportError } from './onnx-model';
import type { ImportLayer } from './ops';

export interface Verified {
  net: NetworkAnalysis;
  /** By the analysis' parameter names, in definition order. */
  weights: Map<string, Float32Array>;
  /** The layer each analysed node is (by node id). */
  layerOfNode: number[];
}

function bug(message: string): never {
  throw new ImportError(`internal error of the importer: ${message}; please report it with the model`);
}

function sameAttrs(a: LayerAttrs, b: LayerAttrs): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const u = x[k];
    const v = y[k];
    if (Array.isArray(u) && Array.isArray(v)) {
      if (u.length !== v.length || u.some((e, i) => e !== v[i])) return false;
    } else if (typeof u === 'number' && typeof v === 'number') {
      if (u !== v && Math.fround(u) !== Math.fround(v)) return false;
    } else if (u !== v) return false;
  }
  return true;
}

const shapeText = (s: readonly number[] | null) => (s ? `[${s.join('x')}]` : '[?]');

export function verify(text: string, layers: ImportLayer[], order: number[], output: number): Verified {
  const analysis = analyzeText(text);
  const error = analysis.diagnostics.find((d) => d.severity === 'error');
  if (error) bug(`the written network does not analyse (line ${error.range.start.line + 1}: ${error.message})`);
  const net = analysis.networks[0];
  if (!net) bug('the written text holds no network');
  const nodes = net.graph.nodes;
  if (nodes.length !== order.length + 1) bug(`the written network has ${nodes.length - 1} layers, the model ${order.length}`);
  const layerOfNode = new Array<number>(nodes.length);
  layerOfNode[0] = 0;
  const input = layers[0];
  if (nodes[0].attrs.kind !== 'input' || shapeText(net.layers[0].shape) !== shapeText(input.shape)) bug('the input differs');
  for (let k = 1; k < nodes.length; k++) {
    const node = nodes[k];
    const layer = layers[order[k - 1]];
    layerOfNode[k] = layer.id;
    const where = `layer ${k} ('${node.path}', from ${layer.origin})`;
    if (!sameAttrs(node.attrs, layer.attrs)) bug(`${where} is written as ${JSON.stringify(node.attrs)}, not ${JSON.stringify(layer.attrs)}`);
    const ins = node.inputs.map((i) => layerOfNode[i]);
    const want = layer.inputs;
    const same = node.attrs.kind === 'add' ? [...ins].sort().join() === [...want].sort().join() : ins.join() === want.join();
    if (!same) bug(`${where} takes other inputs than in the model`);
    if (shapeText(net.layers[k].shape) !== shapeText(layer.shape)) bug(`${where} has the shape ${shapeText(net.layers[k].shape)}, not ${shapeText(layer.shape)}`);
  }
  if (layerOfNode[net.graph.output] !== output) bug('the output is another layer');

  const weights = new Map<string, Float32Array>();
  let count = 0;
  for (const l of layers) count += Object.keys(l.tensors).length;
  for (const t of net.tensors) {
    const layer = layers[layerOfNode[t.node]];
    const w = layer.tensors[t.role];
    if (!w) bug(`'${t.name}' has no tensor in the model`);
    if (w.shape.join() !== t.shape.join()) bug(`'${t.name}' is [${t.shape.join(', ')}] but the model's tensor is [${w.shape.join(', ')}]`);
    weights.set(t.name, w.data);
  }
  if (weights.size !== count) bug(`${count} tensors in the model, ${weights.size} in the written network`);
  return { net, weights, layerOfNode };
}
