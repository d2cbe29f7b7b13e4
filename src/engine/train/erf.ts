/**
 * The effective receptive field (Luo et al., 2016, "Understanding the Effective Receptive Field
 * in Deep Convolutional Neural Networks"): how strongly each input pixel moves one unit of a
 * layer, with the weights as they are. For a chosen layer, a gradient of 1 at its centre unit
 * (every channel's, or one channel's) and 0 everywhere else is propagated back to the input
 * through the CPU reference's training pass (backward.ts); the map is |∂/∂x| averaged over the
 * inputs and the input's channels, H×W like the input.
 *
 * The theoretical receptive field (src/analysis/field.ts) bounds where the map can be nonzero;
 * inside it, the map shows which part of that window the unit actually listens to (in a deep
 * plain stack, a Gaussian-like blob far smaller than the window).
 */
import type { ParamTensor } from '../../analysis/types';
import type { Graph, GraphNode } from '../../graph/types';
import { passLayerCpu, type LayerPass, type PassMode } from '../cpu/backward';
import { gatherLayerWeights } from '../params';
import { inferShapes } from '../shapes';
import { tensor, type Tensor } from '../tensor';
import { mulberry32, normals } from '../weights/init';
import { accumulate, type Accum } from './backprop';
import { passLayerFast, type TrainKernels } from './fast-pass';

export interface ErfOptions {
  /** 'eval' (default): batch norms use their running statistics, dropout is off, inputs are independent. */
  mode?: PassMode;
  /** One output channel's centre unit; undefined: every channel's (the gradient of their sum). */
  channel?: number;
  /** 'fast' (default): the batched conv kernels; 'reference': the CPU reference alone. */
  kernels?: TrainKernels;
}

export interface ErfResult {
  node: number;
  path: string;
  /** mean over inputs and input channels of |∂ centre / ∂ x|, row-major H×W. */
  map: Float32Array;
  height: number;
  width: number;
  /** The unit the gradient starts from, (row, column) in the layer's output. */
  centre: [number, number];
  /** The layer's output, C×H'×W'. */
  layerShape: [number, number, number];
  /** 'all': the sum over the layer's channels; else the channel. */
  channel: 'all' | number;
  /** How many inputs the map averages. */
  inputs: number;
  max: number;
}

/**
 * The unit the gradient starts from: (⌊(H'−1)/2⌋, ⌊(W'−1)/2⌋). For an odd size, the middle; for
 * an even one, the upper-left of the middle two, the unit the Run tab draws by default, so that
 * the map and the drawn rectangle belong to the same unit.
 */
export function centreUnit(height: number, width: number): [number, number] {
  return [Math.floor((height - 1) / 2), Math.floor((width - 1) / 2)];
}

/** `count` inputs of standard-normal noise, [count, ...shape], from `seed`: the same on every run. */
export function noiseInputs(shape: readonly number[], count: number, seed = 0): Tensor {
  const t = tensor([count, ...shape]);
  const next = normals(mulberry32(0x5eed ^ seed));
  for (let i = 0; i < t.data.length; i++) t.data[i] = next();
  return t;
}

function findNode(graph: Graph, layer: number | string): GraphNode {
  const node = typeof layer === 'number' ? graph.nodes[layer] : graph.nodes.find((n) => n.path === layer);
  if (!node) throw new Error(`no layer ${typeof layer === 'number' ? `#${layer}` : `'${layer}'`} in ${graph.network}`);
  return node;
}

/** The nodes whose outputs `id` depends on, itself included: the only ones the forward runs. */
function ancestors(graph: Graph, id: number): boolean[] {
  const need = new Array<boolean>(graph.nodes.length).fill(false);
  need[id] = true;
  for (let k = id; k >= 0; k--) if (need[k]) for (const i of graph.nodes[k].inputs) need[i] = true;
  return need;
}

/**
 * Sums |∂ centre / ∂ x| over batches of inputs; `result()` averages. Batch by batch so that a
 * caller (the panel's worker) can report progress and stop between them, and so that only one
 * batch's activations are held at a time.
 */
export class ErfAccumulator {
  readonly node: GraphNode;
  readonly centre: [number, number];
  readonly layerShape: [number, number, number];
  /** The network's input, C×H×W. */
  readonly inputShape: [number, number, number];
  private readonly inputNode: number;
  private readonly need: boolean[];
  private readonly byNode: ReturnType<typeof gatherLayerWeights>;
  private readonly sum: Float64Array;
  private count = 0;

  constructor(
    private readonly graph: Graph,
    weights: ReadonlyMap<string, Float32Array>,
    tensors: readonly ParamTensor[],
    layer: number | string,
    private readonly opts: ErfOptions = {},
  ) {
    this.node = findNode(graph, layer);
    const shapes = inferShapes(graph);
    const inputs = graph.nodes.filter((n) => n.attrs.kind === 'input');
    if (inputs.length !== 1) throw new Error(`${graph.network}: the effective receptive field needs one input, not ${inputs.length}`);
    this.inputNode = inputs[0].id;
    const inShape = shapes[this.inputNode];
    if (inShape.length !== 3) throw new Error(`${graph.network}: the effective receptive field needs a C×H×W input, not [${inShape.join(', ')}]`);
    this.inputShape = [inShape[0], inShape[1], inShape[2]];
    const out = shapes[this.node.id];
    if (out.length !== 3) {
      throw new Error(`${this.node.path} (${this.node.attrs.kind}): its output [${out.join(', ')}] is flat, with no spatial centre: pick a layer with a C×H×W output`);
    }
    this.layerShape = [out[0], out[1], out[2]];
    const ch = opts.channel;
    if (ch !== undefined && !(Number.isInteger(ch) && ch >= 0 && ch < out[0])) throw new Error(`${this.node.path}: channel ${ch} is not one of its 0…${out[0] - 1}`);
    this.centre = centreUnit(out[1], out[2]);
    this.need = ancestors(graph, this.node.id);
    this.byNode = gatherLayerWeights(tensors, weights);
    this.sum = new Float64Array(inShape[1] * inShape[2]);
  }

  /** One batch of inputs, [B, C, H, W]. In train mode a batch norm's statistics span the batch, so its samples are not independent: pass them together. */
  add(x: Tensor): void {
    const [C, H, W] = this.inputShape;
    if (x.shape.length !== 4 || x.shape[1] !== C || x.shape[2] !== H || x.shape[3] !== W) {
      throw new Error(`${this.graph.network}: inputs must be [B, ${C}, ${H}, ${W}], not [${x.shape.join(', ')}]`);
    }
    const B = x.shape[0];
    const dx = this.inputGradient(x);
    const hw = H * W;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const base = (b * C + c) * hw;
        for (let i = 0; i < hw; i++) this.sum[i] += Math.abs(dx.data[base + i]);
      }
    }
    this.count += B;
  }

  /** ∂(centre unit, summed over the chosen channels and the batch) / ∂x. */
  private inputGradient(x: Tensor): Tensor {
    const { graph, opts } = this;
    const passLayer = opts.kernels === 'reference' ? passLayerCpu : passLayerFast;
    const passes: (LayerPass | undefined)[] = new Array(graph.nodes.length);
    const values: Tensor[] = new Array(graph.nodes.length);
    for (const node of graph.nodes) {
      if (node.id > this.node.id) break;
      if (!this.need[node.id]) continue;
      if (node.id === this.inputNode) {
        values[node.id] = x;
        continue;
      }
      const pass = passLayer(node.attrs, node.inputs.map((i) => values[i]), this.byNode.get(node.id) ?? {}, { mode: opts.mode ?? 'eval', path: node.path, seed: 0, step: 0 });
      passes[node.id] = pass;
      values[node.id] = pass.output;
    }

    const y = values[this.node.id];
    const [B, Co, Ho, Wo] = y.shape;
    const seed = tensor(y.shape);
    const [ci, cj] = this.centre;
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < Co; c++) if (opts.channel === undefined || opts.channel === c) seed.data[((b * Co + c) * Ho + ci) * Wo + cj] = 1;
    }
    const dOut: (Accum | undefined)[] = new Array(graph.nodes.length);
    dOut[this.node.id] = { t: seed, owned: true };
    // No path from the input to the layer carries a gradient (a constant branch): the map stays 0.
    let inputGrad = tensor(x.shape);
    for (let id = this.node.id; id >= 0; id--) {
      const dy = dOut[id];
      if (!dy) continue;
      dOut[id] = undefined;
      if (id === this.inputNode) {
        inputGrad = dy.t;
        continue;
      }
      const { dx } = passes[id]!.backward(dy.t);
      graph.nodes[id].inputs.forEach((i, k) => {
        const g = dx[k];
        if (g) accumulate(dOut, i, g);
      });
    }
    return inputGrad;
  }

  result(): ErfResult {
    const [C, H, W] = this.inputShape;
    const map = new Float32Array(H * W);
    const n = this.count * C;
    let max = 0;
    for (let i = 0; i < map.length; i++) {
      map[i] = n ? this.sum[i] / n : 0;
      max = Math.max(max, map[i]);
    }
    const channel = this.opts.channel ?? 'all';
    return { node: this.node.id, path: this.node.path, map, height: H, width: W, centre: this.centre, layerShape: this.layerShape, channel, inputs: this.count, max };
  }
}

/**
 * The effective receptive field of `layer`'s centre unit: |∂/∂x| averaged over `inputs`
 * ([N, C, H, W]; each sample on its own in eval mode, all together in train mode).
 */
export function effectiveReceptiveField(
  graph: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  tensors: readonly ParamTensor[],
  layer: number | string,
  opts: ErfOptions & { inputs: Tensor },
): ErfResult {
  const acc = new ErfAccumulator(graph, weights, tensors, layer, opts);
  const x = opts.inputs;
  if ((opts.mode ?? 'eval') === 'train') acc.add(x);
  else {
    const per = x.data.length / x.shape[0];
    for (let b = 0; b < x.shape[0]; b++) acc.add(tensor([1, ...x.shape.slice(1)], x.data.subarray(b * per, (b + 1) * per)));
  }
  return acc.result();
}
