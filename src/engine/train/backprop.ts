/**
 * One training pass over a whole network on the CPU reference: every layer's forward (as in
 * training or evaluation), the loss of the main output and of each aux head, and the gradient of
 * their weighted sum for every parameter, under its `cnn params` name.
 */
import type { ParamTensor } from '../../analysis/types';
import type { Graph } from '../../graph/types';
import { givesProbabilities } from '../../layers';
import { passLayerCpu, type LayerPass, type PassMode } from '../cpu/backward';
import { gatherLayerWeights, type LayerWeights } from '../params';
import { tensor, type Tensor } from '../tensor';
import { passLayerFast, type TrainKernels } from './fast-pass';
import { crossEntropy, meanSquaredError, type LossSpec, type LossValue } from './loss';

export type { LossSpec } from './loss';

export interface PassOptions {
  mode: PassMode;
  loss: LossSpec;
  /** Each aux head's loss counts this much (GoogLeNet's 0.3 by default). */
  auxWeight?: number;
  /** Dropout masks are drawn from (seed, layer path, step). */
  seed?: number;
  step?: number;
  /** 'fast' (default): batched matrix-product kernels where they exist; 'reference': the CPU reference alone, the oracle. */
  kernels?: TrainKernels;
}

export const DEFAULT_AUX_WEIGHT = 0.3;

export interface PassResult {
  /** main loss + auxWeight · Σ aux losses. */
  loss: number;
  mainLoss: number;
  auxLosses: number[];
  /** The main output as the network gives it (probabilities after a softmax), `[batch, ...shape]`. */
  output: Tensor;
  /** dL/dθ for every parameter (not buffers), by name, in the order of the tensors. */
  grads: Map<string, Float32Array>;
  /** Buffers the pass replaced (batch-norm running statistics in train mode), by name. */
  buffers: Map<string, Float32Array>;
  /** dL/d(input): the effective receptive field's map, and what the tests check first. */
  inputGrad: Tensor;
}

/** The loss of one output and where its gradient enters: a softmax output's loss is taken on its input's logits (its log). */
function outputLoss(graph: Graph, node: number, values: Tensor[], target: Float32Array, spec: LossSpec): { value: LossValue; at: number } {
  const n = graph.nodes[node];
  if (spec.kind === 'mse') return { value: meanSquaredError(values[node], target), at: node };
  if (givesProbabilities(n.attrs) && values[node].shape.length === 2) {
    // CE(log softmax(z)) is CE on the logits z, computed stably: the gradient skips the softmax.
    return { value: crossEntropy(values[n.inputs[0]], target, spec.labelSmoothing), at: n.inputs[0] };
  }
  return { value: crossEntropy(values[node], target, spec.labelSmoothing), at: node };
}

/** A gradient being summed: a tensor it got from a layer is shared until a second one arrives. */
export interface Accum {
  t: Tensor;
  owned: boolean;
}

export function accumulate(into: (Accum | undefined)[], id: number, g: Tensor): void {
  const a = into[id];
  if (!a) {
    into[id] = { t: g, owned: false };
    return;
  }
  if (!a.owned) a.t = tensor(a.t.shape, Float32Array.from(a.t.data));
  a.owned = true;
  const d = a.t.data;
  for (let i = 0; i < d.length; i++) d[i] += g.data[i];
}

/**
 * Forward and backward of `graph` on `input` (`[batch, ...input shape]`): the loss against
 * `target` (class labels per sample for cross-entropy, the output's shape for MSE) and the
 * gradients. Nothing in `weights` is changed.
 */
export function lossAndGradients(
  graph: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  tensors: readonly ParamTensor[],
  input: Tensor,
  target: Float32Array,
  opts: PassOptions,
): PassResult {
  const byNode = gatherLayerWeights(tensors, weights);
  const passLayer = opts.kernels === 'reference' ? passLayerCpu : passLayerFast;
  const passes: LayerPass[] = [];
  const values: Tensor[] = [];
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => values[i]);
    const pass = node.attrs.kind === 'input' ? { output: input, backward: () => ({ dx: [], grads: {} }) } : passLayer(node.attrs, ins, byNode.get(node.id) ?? {}, { mode: opts.mode, path: node.path, seed: opts.seed ?? 0, step: opts.step ?? 0 });
    passes.push(pass);
    values.push(pass.output);
  }

  const auxWeight = opts.auxWeight ?? DEFAULT_AUX_WEIGHT;
  const dOut: (Accum | undefined)[] = new Array(graph.nodes.length);
  const seed = (node: number, scale: number): number => {
    const { value, at } = outputLoss(graph, node, values, target, opts.loss);
    const g = scale === 1 ? value.grad : value.grad.map((v) => v * scale);
    accumulate(dOut, at, tensor(values[at].shape, g));
    return value.loss;
  };
  const mainLoss = seed(graph.output, 1);
  const auxLosses = graph.auxOutputs.map((o) => seed(o, auxWeight));

  const layerGrads = new Map<number, LayerWeights>();
  let inputGrad = tensor(input.shape);
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    const dy = dOut[id];
    if (!dy) continue;
    dOut[id] = undefined;
    const node = graph.nodes[id];
    // Copied, as the output below: the fast path reuses its activations' buffers in the next call.
    if (node.attrs.kind === 'input') inputGrad = tensor([...dy.t.shape], dy.t.data.slice());
    const { dx, grads } = passes[id].backward(dy.t);
    layerGrads.set(id, grads);
    node.inputs.forEach((i, k) => {
      const g = dx[k];
      if (g) accumulate(dOut, i, g);
    });
  }

  const grads = new Map<string, Float32Array>();
  const buffers = new Map<string, Float32Array>();
  for (const t of tensors) {
    if (t.kind === 'param') {
      const g = layerGrads.get(t.node)?.[t.role];
      grads.set(t.name, g ?? new Float32Array(t.shape.reduce((a, d) => a * d, 1)));
    } else {
      const b = passes[t.node].buffers?.[t.role];
      if (b) buffers.set(t.name, b);
    }
  }
  const loss = mainLoss + auxWeight * auxLosses.reduce((a, b) => a + b, 0);
  const out = values[graph.output];
  return { loss, mainLoss, auxLosses, output: tensor([...out.shape], out.data.slice()), grads, buffers, inputGrad };
}
