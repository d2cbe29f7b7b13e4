/**
 * The WebGPU engine's training pass per layer kind: the forward as in training or evaluation,
 * nothing fused (backward reads every layer's output), and the backward kernels that add each
 * input's gradient into its buffer and write the parameters'. Complete by type, as the other
 * backends' tables: a kind added without its entry here does not compile (nor an activation
 * without its derivative in WGSL_ACTIVATION_GRADS).
 */
import type { GraphNode } from '../../graph/types';
import { activationEntry, isPointwise, pointwiseConv, type ActivationAttrs, type ActivationTable, type LayerAttrs, type LayerKind } from '../../layers';
import type { ConvAttrs } from '../../layers/conv';
import type { PassMode } from '../cpu/backward';
import type { LayerWeights } from '../params';
import { numel } from '../tensor';
import { resizeDims } from '../../layers/upsample';
import { type ConvGeometry, convTiledKernel, tiledChannels } from './conv-kernels';
import { channelSumKernel, convGradInputKernel, convGradWeightKernel } from './conv-grad-kernels';
import { epilogueOf } from './kernels';
import { activationKernel, ADD_INPUTS_PER_DISPATCH, addKernel, adaptivePoolKernel, copyKernel, gapKernel, lrnKernel, poolKernel, softmaxKernel, type SpatialDims } from './layer-kernels';
import { MUL_INPUTS_PER_DISPATCH, mulKernel } from './merge-kernels';
import { shuffleKernel, sliceKernel } from './norm-kernels';
import { convTransposeGradInputKernel, convTransposeGradWeightKernel, upsampleBackwardKernel, upsampleTrainForwardKernel } from './resample-grad-kernels';
import { convTransposeKernel } from './spatial-kernels';
import {
  bnEvalBackwardKernel,
  bnEvalForwardKernel,
  bnTrainBackwardKernel,
  bnTrainForwardKernel,
  type ChannelDims,
  groupNormRows,
  layerNormRows,
  lrnBackwardKernel,
  rowNormBackwardKernel,
  rowNormForwardKernel,
  rowNormParamGradKernel,
  type RowNorm,
  scaleBackwardKernel,
  scaleForwardKernel,
} from './norm-grad-kernels';
import {
  accumulateKernel,
  activationBackwardKernel,
  adaptivePoolBackwardKernel,
  gapBackwardKernel,
  gatherSliceKernel,
  maskKernel,
  mulBackwardKernel,
  poolBackwardKernel,
  shuffleBackwardKernel,
  sliceBackwardKernel,
  softmaxBackwardKernel,
} from './spatial-grad-kernels';
import { f32, NO_ACT, type Kernel, type OutPlace } from './wgsl';

/**
 * Each activation's derivative from its input x and output y: the body of
 * `fn dact(x: f32, y: f32) -> f32`, PyTorch's backward rule as the CPU's ACTIVATION_GRADS.
 */
export const WGSL_ACTIVATION_GRADS = {
  relu: () => 'return select(0.0, 1.0, x > 0.0);',
  sigmoid: () => 'return y * (1.0 - y);',
  tanh: () => 'return 1.0 - y * y;',
  leakyrelu: (a) => `return select(${f32(a.slope)}, 1.0, x > 0.0);`,
  relu6: () => 'return select(0.0, 1.0, x > 0.0 && x < 6.0);',
  hardswish: () => 'if (x < -3.0) { return 0.0; } if (x <= 3.0) { return x / 3.0 + 0.5; } return 1.0;',
  hardsigmoid: () => `return select(0.0, ${f32(1 / 6)}, x > -3.0 && x < 3.0);`,
  silu: () => 'let s = 1.0 / (1.0 + exp(min(-x, 80.0))); return s * (1.0 + x * (1.0 - s));',
  // Past |x| = 10 the derivative is 0 or 1 to f32's precision; the clamp keeps x³ and tanh's exp finite.
  gelu: (a) =>
    a.approximate !== 'none'
      ? 'let c = clamp(x, -10.0, 10.0); let k = 0.7978845608028654; let t = tanh(k * fma(0.044715 * c * c, c, c)); ' +
        'return 0.5 * (1.0 + t) + 0.5 * c * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * c * c);'
      : 'return 0.5 * (1.0 + erf32(x * 0.7071067811865476)) + x * exp(-0.5 * x * x) * 0.3989422804014327;',
} satisfies ActivationTable<string>;

type TensorRole = keyof LayerWeights;

/** What an entry sees while the pass is planned: the node, its shapes per sample, the batch and mode. */
export interface TrainLoad {
  node: GraphNode;
  inShapes: readonly (readonly number[])[];
  outShape: readonly number[];
  batch: number;
  mode: PassMode;
}

/** The buffers an entry's kernels read and write, made by the driver. */
export interface TrainBuild {
  label: string;
  /** The inputs' values and the layer's output, dense `[batch, ...shape]`. */
  x: GPUBuffer[];
  y: GPUBuffer;
  /** The gradients of the inputs (added to) and of the output. */
  dx: GPUBuffer[];
  dy: GPUBuffer;
  /** A parameter or buffer as the weights hold it, uploaded before every pass. */
  param(role: TensorRole): GPUBuffer;
  /** Where the backward writes a parameter's gradient, read back after the pass. */
  grad(role: TensorRole): GPUBuffer;
  /** Where the forward writes a buffer's new value (a batch norm's running statistics), read back after the pass. */
  replaced(roles: TensorRole[], floats: number): GPUBuffer;
  /** Scratch kept from forward to backward. */
  scratch(floats: number, what: string): GPUBuffer;
  /** Dropout's mask for this layer and step, uploaded before every pass. */
  mask(p: number): GPUBuffer;
}

export interface TrainKernels {
  forward: Kernel[];
  backward: Kernel[];
}

/** input: the batch is written there; alias: the output is the input itself (and so is its gradient); layer: kernels. */
export type TrainPlan = { role: 'input' } | { role: 'alias' } | { role: 'layer'; build(b: TrainBuild): TrainKernels };

type Entry<K extends LayerKind> = (attrs: Extract<LayerAttrs, { kind: K }>, load: TrainLoad) => TrainPlan;

const ALIAS: TrainPlan = { role: 'alias' };
const layer = (build: (b: TrainBuild) => TrainKernels): TrainPlan => ({ role: 'layer', build });

const dense = (channels: number, hw: number): OutPlace => ({ channels, hw, totalChannels: channels, channelOffset: 0 });

function spatialOf(load: TrainLoad): SpatialDims {
  const s = load.inShapes[0];
  return { batch: load.batch, channels: s[0], h: s[1] ?? 1, w: s[2] ?? 1 };
}

function channelDims(load: TrainLoad): ChannelDims {
  const s = load.inShapes[0];
  return { batch: load.batch, channels: s[0], hw: numel(s.slice(1)) };
}

function convPlan(a: ConvAttrs, load: TrainLoad, geometry: ConvGeometry): TrainPlan {
  return layer((b) => {
    const weight = b.param('weight');
    const bias = a.bias ? b.param('bias') : undefined;
    const mg = a.out / a.groups;
    const forward = [convTiledKernel(b.label, geometry, dense(a.out, geometry.outH * geometry.outW), NO_ACT, { input: b.x[0], weight, bias, output: b.y }, { channels: tiledChannels(mg, 4), pixels: 4, packed: false })];
    const backward = [convGradInputKernel(b.label, geometry, b.dy, weight, b.dx[0]), convGradWeightKernel(b.label, geometry, b.x[0], b.dy, b.grad('weight'))];
    if (a.bias) backward.push(channelSumKernel(b.label, load.batch, a.out, geometry.outH * geometry.outW, b.dy, b.grad('bias')));
    return { forward, backward };
  });
}

/** Layer and group norm: the same in both modes (no running statistics), each row's statistics kept from forward to backward. */
function rowNormPlan(g: RowNorm, eps: number): TrainPlan {
  return layer((b) => {
    const saved = b.scratch(2 * g.rows, 'row statistics');
    const weight = b.param('weight');
    return {
      forward: [rowNormForwardKernel(b.label, g, eps, { x: b.x[0], weight, bias: b.param('bias'), y: b.y, saved })],
      backward: [rowNormBackwardKernel(b.label, g, saved, b.x[0], b.dy, weight, b.dx[0]), rowNormParamGradKernel(b.label, g, saved, b.x[0], b.dy, b.grad('weight'), b.grad('bias'))],
    };
  });
}

function activationPlan(a: ActivationAttrs, load: TrainLoad): TrainPlan {
  const count = load.batch * numel(load.outShape);
  const derivative = activationEntry(WGSL_ACTIVATION_GRADS, a);
  return layer((b) => ({
    forward: [activationKernel(b.label, count, epilogueOf(a), dense(count, 1), b.x[0], b.y)],
    backward: [activationBackwardKernel(`${b.label} backward`, count, derivative, b.x[0], b.y, b.dy, b.dx[0])],
  }));
}

function poolPlan(mode: 'max' | 'average', a: { kernel: [number, number]; stride: [number, number]; padding: [number, number] }, load: TrainLoad): TrainPlan {
  const d = spatialOf(load);
  const out: [number, number] = [load.outShape[1], load.outShape[2]];
  return layer((b) => ({
    forward: [poolKernel(b.label, mode, d, out, a, dense(d.channels, out[0] * out[1]), b.x[0], b.y)],
    backward: [poolBackwardKernel(b.label, mode, d, out, a, b.x[0], b.dy, b.dx[0])],
  }));
}

/** Every kind's WebGPU training pass, typed per kind so that an entry gets its own attributes. */
export const GPU_BACKWARD: { [K in LayerKind]: Entry<K> } = {
  input: () => ({ role: 'input' }),
  dropout(a, load) {
    if (load.mode === 'eval' || a.p === 0) return ALIAS;
    const count = load.batch * numel(load.outShape);
    return layer((b) => {
      const mask = b.mask(a.p);
      return { forward: [maskKernel(b.label, count, false, b.x[0], mask, b.y)], backward: [maskKernel(`${b.label} backward`, count, true, b.dy, mask, b.dx[0])] };
    });
  },
  flatten: () => ALIAS,
  identity: () => ALIAS,
  conv(a, load) {
    const [inC, inH, inW] = load.inShapes[0];
    return convPlan(a, load, { batch: load.batch, inC, inH, inW, outC: a.out, outH: load.outShape[1], outW: load.outShape[2], kernel: a.kernel, stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups });
  },
  linear(a, load) {
    const s = load.inShapes[0];
    // nn.Linear is a 1×1 convolution of a 1×1 image with the same [out, in] weight; a pointwise one, of the whole map.
    if (isPointwise(a, s)) return convPlan(pointwiseConv(a), load, { batch: load.batch, inC: s[0], inH: s[1], inW: s[2], outC: a.out, outH: s[1], outW: s[2], kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    return convPlan(pointwiseConv(a), load, { batch: load.batch, inC: numel(s), inH: 1, inW: 1, outC: a.out, outH: 1, outW: 1, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
  },
  bn(a, load) {
    const d = channelDims(load);
    if (load.mode === 'train' && d.batch * d.hw < 2) {
      throw new Error(`bn: training needs more than one value per channel (batch ${d.batch}, ${d.hw} positions); use a larger batch`);
    }
    return layer((b) => {
      const g = { x: b.x[0], dy: b.dy, weight: b.param('weight'), dx: b.dx[0], dweight: b.grad('weight'), dbias: b.grad('bias') };
      const p = { x: b.x[0], weight: b.param('weight'), bias: b.param('bias'), runningMean: b.param('running_mean'), runningVar: b.param('running_var'), y: b.y };
      if (load.mode === 'eval') return { forward: [bnEvalForwardKernel(b.label, d, a.eps, p)], backward: [bnEvalBackwardKernel(b.label, d, a.eps, p.runningMean, p.runningVar, g)] };
      const saved = b.scratch(2 * d.channels, 'batch statistics');
      const updated = b.replaced(['running_mean', 'running_var'], 2 * d.channels);
      return { forward: [bnTrainForwardKernel(b.label, d, a.eps, { ...p, saved, updated })], backward: [bnTrainBackwardKernel(b.label, d, saved, g)] };
    });
  },
  scale(_a, load) {
    const d = channelDims(load);
    return layer((b) => ({
      forward: [scaleForwardKernel(b.label, d, b.x[0], b.param('weight'), b.y)],
      backward: [scaleBackwardKernel(b.label, d, b.x[0], b.dy, b.param('weight'), b.dx[0], b.grad('weight'))],
    }));
  },
  relu: activationPlan,
  sigmoid: activationPlan,
  tanh: activationPlan,
  leakyrelu: activationPlan,
  relu6: activationPlan,
  hardswish: activationPlan,
  hardsigmoid: activationPlan,
  silu: activationPlan,
  gelu: activationPlan,
  softmax(_a, load) {
    const d = channelDims(load);
    return layer((b) => ({
      forward: [softmaxKernel(b.label, d.batch, d.channels, d.hw, dense(d.channels, d.hw), b.x[0], b.y)],
      backward: [softmaxBackwardKernel(`${b.label} backward`, d.batch, d.channels, d.hw, b.y, b.dy, b.dx[0])],
    }));
  },
  maxpool: (a, load) => poolPlan('max', a, load),
  avgpool: (a, load) => poolPlan('average', a, load),
  gap(_a, load) {
    const d = spatialOf(load);
    return layer((b) => ({ forward: [gapKernel(b.label, d, dense(d.channels, 1), b.x[0], b.y)], backward: [gapBackwardKernel(b.label, d, b.dy, b.dx[0])] }));
  },
  adaptiveavgpool(a, load) {
    const d = spatialOf(load);
    return layer((b) => ({
      forward: [adaptivePoolKernel(b.label, d, a.size, dense(d.channels, a.size[0] * a.size[1]), b.x[0], b.y)],
      backward: [adaptivePoolBackwardKernel(b.label, d, a.size, b.dy, b.dx[0])],
    }));
  },
  add(_a, load) {
    const count = load.batch * numel(load.outShape);
    return layer((b) => {
      const forward: Kernel[] = [];
      for (let i = 0; i < b.x.length; i += ADD_INPUTS_PER_DISPATCH) forward.push(addKernel(b.label, count, i > 0, NO_ACT, dense(count, 1), b.x.slice(i, i + ADD_INPUTS_PER_DISPATCH), b.y));
      return { forward, backward: b.dx.map((dx, j) => accumulateKernel(`${b.label} backward ${j}`, count, b.dy, dx)) };
    });
  },
  mul(_a, load) {
    const d = { batch: load.batch, channels: load.outShape[0], hw: numel(load.outShape.slice(1)) };
    const count = d.batch * numel(load.outShape);
    if (load.inShapes.length > MUL_INPUTS_PER_DISPATCH) throw new Error(`${load.node.attrs.kind} (line ${load.node.range.start.line + 1}): WebGPU trains products of at most ${MUL_INPUTS_PER_DISPATCH} branches`);
    return layer((b) => {
      const factors = b.x.map((buffer, j) => ({ buffer, gate: numel(load.inShapes[j]) !== numel(load.outShape) }));
      return {
        forward: [mulKernel(b.label, count, d.hw, false, dense(count, 1), factors, b.y)],
        backward: b.dx.map((dx, k) => mulBackwardKernel(`${b.label} backward ${k}`, d.batch, d.channels, d.hw, k, factors, b.dy, dx)),
      };
    });
  },
  concat(_a, load) {
    const hw = numel(load.outShape.slice(1));
    const total = load.outShape[0];
    return layer((b) => {
      const forward: Kernel[] = [];
      const backward: Kernel[] = [];
      let offset = 0;
      load.inShapes.forEach((s, j) => {
        const place: OutPlace = { channels: s[0], hw, totalChannels: total, channelOffset: offset };
        const count = load.batch * numel(s);
        forward.push(copyKernel(`${b.label} <- ${j}`, count, place, b.x[j], b.y));
        backward.push(gatherSliceKernel(`${b.label} backward ${j}`, count, place, b.dy, b.dx[j]));
        offset += s[0];
      });
      return { forward, backward };
    });
  },
  shuffle(a, load) {
    const d = channelDims(load);
    return layer((b) => ({
      forward: [shuffleKernel(b.label, { batch: d.batch, channels: d.channels, h: d.hw, w: 1 }, a.groups, dense(d.channels, d.hw), b.x[0], b.y)],
      backward: [shuffleBackwardKernel(`${b.label} backward`, d.batch, d.channels, d.hw, a.groups, b.dy, b.dx[0])],
    }));
  },
  slice(a, load) {
    const d = channelDims(load);
    const n = load.outShape[0];
    return layer((b) => ({
      forward: [sliceKernel(b.label, d.batch, d.channels, a.start, n, d.hw, dense(n, d.hw), b.x[0], b.y)],
      backward: [sliceBackwardKernel(`${b.label} backward`, d.batch, d.channels, a.start, n, d.hw, b.dy, b.dx[0])],
    }));
  },
  convtranspose(a, load) {
    const [inC, inH, inW] = load.inShapes[0];
    const g = { ...a, batch: load.batch, inC, inH, inW, outC: a.out, outH: load.outShape[1], outW: load.outShape[2] };
    return layer((b) => {
      const weight = b.param('weight');
      const backward = [convTransposeGradInputKernel(b.label, g, b.dy, weight, b.dx[0]), convTransposeGradWeightKernel(b.label, g, b.x[0], b.dy, b.grad('weight'))];
      if (a.bias) backward.push(channelSumKernel(b.label, load.batch, a.out, g.outH * g.outW, b.dy, b.grad('bias')));
      const forward = [convTransposeKernel(b.label, g, dense(a.out, g.outH * g.outW), NO_ACT, { input: b.x[0], weight, bias: a.bias ? b.param('bias') : undefined, output: b.y })];
      return { forward, backward };
    });
  },
  layernorm(a, load) {
    const d = channelDims(load);
    return rowNormPlan(layerNormRows(d.batch, d.channels, d.hw), a.eps);
  },
  groupnorm(a, load) {
    const d = channelDims(load);
    return rowNormPlan(groupNormRows(d.batch, d.channels, d.hw, a.groups), a.eps);
  },
  lrn(a, load) {
    const d = channelDims(load);
    return layer((b) => ({
      forward: [lrnKernel(b.label, { batch: d.batch, channels: d.channels, h: d.hw, w: 1 }, a, dense(d.channels, d.hw), b.x[0], b.y)],
      backward: [lrnBackwardKernel(b.label, d, a, b.x[0], b.dy, b.dx[0])],
    }));
  },
  upsample(a, load) {
    const dims = resizeDims(a, [...load.inShapes[0]]);
    const planes = load.batch * load.inShapes[0][0];
    return layer((b) => ({
      forward: [upsampleTrainForwardKernel(b.label, a.mode, planes, dims, b.x[0], b.y)],
      backward: [upsampleBackwardKernel(b.label, a.mode, planes, dims, b.dy, b.dx[0])],
    }));
  },
};

/** The kind's plan. */
export function trainPlan(attrs: LayerAttrs, load: TrainLoad): TrainPlan {
  return (GPU_BACKWARD[attrs.kind] as (a: LayerAttrs, l: TrainLoad) => TrainPlan)(attrs, load);
}
