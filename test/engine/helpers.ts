import type { ParamTensor, TensorRole } from '../../src/analysis/types';
import type { Graph, GraphNode, LayerAttrs } from '../../src/graph/types';
import { inferShapes } from '../../src/engine/shapes';
import { numel, tensor, type Tensor } from '../../src/engine/tensor';
import { mulberry32 } from '../../src/engine/weights/init';

const pos = { line: 0, character: 0, offset: 0 };
const range = { start: pos, end: pos };

/** Builds a graph from layers in execution order; a layer without `inputs` reads the one before it. */
export function buildGraph(layers: { attrs: LayerAttrs; inputs?: number[] }[], auxOutputs: number[] = []): Graph {
  const nodes: GraphNode[] = layers.map((l, id) => ({
    id,
    attrs: l.attrs,
    inputs: l.inputs ?? (id === 0 ? [] : [id - 1]),
    path: `l${id}`,
    range,
    nameRange: range,
    calls: [],
    aux: false,
  }));
  return { network: 'Test', range, nameRange: range, nodes, output: nodes.length - 1, auxOutputs };
}

/** The same tensors the analysis declares: conv/linear weight and bias, bn's four. */
export function paramsFor(graph: Graph, shapes = inferShapes(graph)): ParamTensor[] {
  const out: ParamTensor[] = [];
  const add = (node: GraphNode, role: TensorRole, shape: number[]) =>
    out.push({ name: `${node.path}.${role}`, shape, kind: role.startsWith('running') ? 'buffer' : 'param', role, node: node.id });
  for (const node of graph.nodes) {
    const a = node.attrs;
    const inShape = shapes[node.inputs[0]];
    if (a.kind === 'conv') {
      add(node, 'weight', [a.out, inShape[0] / a.groups, a.kernel[0], a.kernel[1]]);
      if (a.bias) add(node, 'bias', [a.out]);
    } else if (a.kind === 'linear') {
      add(node, 'weight', [a.out, inShape[0]]);
      if (a.bias) add(node, 'bias', [a.out]);
    } else if (a.kind === 'bn') {
      for (const role of ['weight', 'bias', 'running_mean', 'running_var'] as const) add(node, role, [inShape[0]]);
    }
  }
  return out;
}

/** Deterministic pseudo-random numbers (the engine's own mulberry32), so a failing case can be rerun. */
export const rng = mulberry32;

export function randomTensor(shape: number[], rand: () => number, lo = -1, hi = 1): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * rand();
  return t;
}

/** Random weights; variances positive, weights scaled by fan-in so activations stay near unit size. */
export function randomWeights(params: ParamTensor[], rand: () => number): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const p of params) {
    const n = numel(p.shape);
    const fanIn = p.shape.length > 1 ? numel(p.shape.slice(1)) : 1;
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rand();
      d[i] = p.role === 'running_var' ? 0.5 + r : p.role === 'weight' && p.shape.length > 1 ? (2 * r - 1) * Math.sqrt(3 / fanIn) : 2 * r - 1;
    }
    m.set(p.name, d);
  }
  return m;
}

/** |a - b| <= rtol * (|b| + max|b|): relative to each value and to the tensor's scale, so near-zero outputs of large sums pass. */
export function expectClose(actual: Float32Array, expected: Float32Array, rtol = 1e-4, what = ''): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const tol = rtol * (Math.abs(expected[i]) + scale) + 1e-7;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}: element ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol.toExponential(2)})`);
    }
  }
}

/** Element-wise comparison against hand-computed values with an absolute tolerance. */
export function expectValues(actual: Float32Array, expected: number[], tol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}; all: [${Array.from(actual).join(', ')}]`);
    }
  }
}
