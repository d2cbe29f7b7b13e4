/**
 * The CPU reference engine's kernel for every layer kind: plain JavaScript, exact, slow; the
 * oracle of the other engines. The table is complete by type: a new kind fails to compile here
 * until it has its kernel.
 */
import { activationEntry, dispatch, isPointwise, pointwiseConv, type ActivationAttrs, type ActivationTable, type KindTable, type LayerAttrs } from '../../layers';
import type { LayerWeights } from '../params';
import type { Tensor } from '../tensor';
import { channelScale, channelShuffle, channelSlice } from './channels';
import { conv2d } from './conv';
import { erf } from './erf';
import { convTranspose2d } from './conv-transpose';
import { flatten, linear } from './dense';
import { groupNorm, layerNorm } from './group-norm';
import { add, concat, mul } from './merge';
import { batchNorm, localResponseNorm } from './norm';
import { activate, softmax } from './pointwise';
import { adaptiveAvgPool2d, avgpool2d, globalAvgPool, maxpool2d } from './pool';
import { upsample2d } from './resize';

function need(w: LayerWeights, role: keyof LayerWeights, a: LayerAttrs): Float32Array {
  const t = w[role];
  if (!t) throw new Error(`${a.kind}: missing ${role}`);
  return t;
}

/** √(2/π), PyTorch's constant of the tanh form of GELU. */
const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);

/**
 * Each activation as a function of one value: the reference's kernels, and the fast engine's
 * epilogue where its WebAssembly has none.
 */
export const ACTIVATION_FNS = {
  relu: () => (v) => (v > 0 ? v : 0),
  sigmoid: () => (v) => 1 / (1 + Math.exp(-v)),
  tanh: () => Math.tanh,
  leakyrelu: (a) => {
    const slope = a.slope;
    return (v) => (v >= 0 ? v : v * slope);
  },
  relu6: () => (v) => Math.min(Math.max(v, 0), 6),
  hardswish: () => (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
  hardsigmoid: () => (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
  silu: () => (v) => v / (1 + Math.exp(-v)),
  gelu: (a) => (a.approximate === 'tanh' ? (v) => 0.5 * v * (1 + Math.tanh(GELU_TANH_SCALE * (v + 0.044715 * v * v * v))) : (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2))),
} satisfies ActivationTable<(v: number) => number>;

export function activationFn(attrs: ActivationAttrs): (v: number) => number {
  return activationEntry(ACTIVATION_FNS, attrs);
}

type CpuKernel = (attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights) => Tensor;

export const CPU_KERNELS = {
  input: (_a, [x]) => x,
  dropout: (_a, [x]) => x,
  conv: (a, [x], w) => conv2d(x, need(w, 'weight', a), a.bias ? need(w, 'bias', a) : undefined, a),
  linear: (a, [x], w) =>
    // At every position: the 1×1 convolution with the same N×C weight.
    isPointwise(a, x.shape.slice(1))
      ? conv2d(x, need(w, 'weight', a), a.bias ? need(w, 'bias', a) : undefined, pointwiseConv(a))
      : linear(x, need(w, 'weight', a), a.bias ? need(w, 'bias', a) : undefined, a.out),
  bn: (a, [x], w) =>
    batchNorm(x, {
      weight: need(w, 'weight', a),
      bias: need(w, 'bias', a),
      runningMean: need(w, 'running_mean', a),
      runningVar: need(w, 'running_var', a),
      eps: a.eps,
    }),
  relu: (a, [x]) => activate(x, activationFn(a)),
  sigmoid: (a, [x]) => activate(x, activationFn(a)),
  tanh: (a, [x]) => activate(x, activationFn(a)),
  leakyrelu: (a, [x]) => activate(x, activationFn(a)),
  softmax: (_a, [x]) => softmax(x),
  maxpool: (a, [x]) => maxpool2d(x, a),
  avgpool: (a, [x]) => avgpool2d(x, a),
  gap: (_a, [x]) => globalAvgPool(x),
  adaptiveavgpool: (a, [x]) => adaptiveAvgPool2d(x, a.size),
  lrn: (a, [x]) => localResponseNorm(x, a),
  flatten: (_a, [x]) => flatten(x),
  add: (_a, inputs) => add(inputs),
  mul: (_a, inputs) => mul(inputs),
  concat: (_a, inputs) => concat(inputs),
  layernorm: (a, [x], w) => layerNorm(x, { weight: need(w, 'weight', a), bias: need(w, 'bias', a), eps: a.eps }),
  groupnorm: (a, [x], w) => groupNorm(x, a.groups, { weight: need(w, 'weight', a), bias: need(w, 'bias', a), eps: a.eps }),
  scale: (a, [x], w) => channelScale(x, need(w, 'weight', a)),
  shuffle: (a, [x]) => channelShuffle(x, a.groups),
  slice: (a, [x]) => channelSlice(x, a.start, a.end ?? x.shape[1]),
  relu6: (a, [x]) => activate(x, activationFn(a)),
  hardswish: (a, [x]) => activate(x, activationFn(a)),
  hardsigmoid: (a, [x]) => activate(x, activationFn(a)),
  silu: (a, [x]) => activate(x, activationFn(a)),
  gelu: (a, [x]) => activate(x, activationFn(a)),
  identity: (_a, [x]) => x,
  upsample: (a, [x]) => upsample2d(x, a),
  convtranspose: (a, [x], w) => convTranspose2d(x, need(w, 'weight', a), a.bias ? need(w, 'bias', a) : undefined, a),
} satisfies KindTable<CpuKernel>;

/** Runs one layer on the CPU. `input` layers return their (single) input unchanged. */
export function runLayerCpu(attrs: LayerAttrs, inputs: Tensor[], weights: LayerWeights = {}): Tensor {
  return dispatch<CpuKernel>(CPU_KERNELS, attrs, inputs, weights);
}
