/**
 * The WebGPU engine's entry for every layer kind: how a step headed by the kind rewrites its
 * weights at load, and which kernels it dispatches. Complete by type: a new kind fails to
 * compile here until it has its entry. Activations also have an epilogue, the WGSL that a
 * producer's kernel applies to each value it writes.
 */
import type { Graph, GraphNode } from '../../graph/types';
import { activationEntry, dispatch, isPointwise, pointwiseConv, type ActivationAttrs, type ActivationTable, type KindTable, type LayerAttrs } from '../../layers';
import { batchNormScaleShift, foldBatchNorm } from '../fold';
import { bnParams, needWeight, type LayerWeights } from '../params';
import type { Place, Step } from '../plan';
import { numel } from '../tensor';
import { GELU_ERF_WGSL, GELU_TANH_WGSL, SILU_WGSL } from './activation-wgsl';
import { linearTap, nearestIndex } from '../../layers/resampling';
import { resizeDims } from '../../layers/upsample';
import { type ConvAlgorithm, convKernel, packTiledWeights, planConv } from './conv-kernels';
import {
  activationKernel,
  ADD_INPUTS_PER_DISPATCH,
  addKernel,
  adaptivePoolKernel,
  copyKernel,
  gapKernel,
  lrnKernel,
  poolKernel,
  scaleShiftKernel,
  softmaxKernel,
  type SpatialDims,
} from './layer-kernels';
import { linearKernel, type LinearChunk } from './linear-kernels';
import { MUL_INPUTS_PER_DISPATCH, mulKernel } from './merge-kernels';
import { groupNormKernel, layerNormKernel, type NormBuffers, shuffleKernel, sliceKernel } from './norm-kernels';
import { convTransposeKernel, upsampleKernel } from './spatial-kernels';
import { f32, NO_ACT, type EpilogueAct, type Kernel, type OutPlace } from './wgsl';

/** Each activation's epilogue: the body of `fn act(v: f32) -> f32`. */
const WGSL_ACTIVATIONS = {
  relu: () => 'return max(v, 0.0);',
  sigmoid: () => 'return 1.0 / (1.0 + exp(-v));',
  // Built from exp(-2|v|) so large inputs saturate instead of overflowing to NaN.
  tanh: () => 'let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e);',
  leakyrelu: (a) => `return select(v * ${f32(a.slope)}, v, v >= 0.0);`,
  relu6: () => 'return clamp(v, 0.0, 6.0);',
  hardswish: () => 'return v * clamp(v + 3.0, 0.0, 6.0) / 6.0;',
  hardsigmoid: () => 'return clamp(v + 3.0, 0.0, 6.0) / 6.0;',
  silu: () => SILU_WGSL,
  gelu: (a) => (a.approximate === 'tanh' ? GELU_TANH_WGSL : GELU_ERF_WGSL),
} satisfies ActivationTable<string>;

export function epilogueOf(attrs: ActivationAttrs | undefined): EpilogueAct {
  return attrs ? { body: activationEntry(WGSL_ACTIVATIONS, attrs) } : NO_ACT;
}

/** What a kind's entry sees while the network loads: its step, its weights as stored. */
export interface GpuLoad {
  graph: Graph;
  shapes: readonly number[][];
  step: Step;
  head: GraphNode;
  weights: ReadonlyMap<number, LayerWeights>;
  /** The largest buffer one binding may hold (linear weights are split to fit). */
  maxChunkBytes: number;
}

/** What a kind's kernels are built from once buffers exist. */
export interface GpuBuild {
  label: string;
  batch: number;
  /** The step's fused activation. */
  act: EpilogueAct;
  /** Where the step's tail writes, in which buffer. */
  place: OutPlace;
  output: GPUBuffer;
  /** The head's first input, its shape and the head's output shape. */
  x: number;
  inShape: readonly number[];
  outShape: readonly number[];
  spatial(): SpatialDims;
  /** The buffer holding node `id` as a dense tensor. */
  dense(id: number): GPUBuffer;
  placeOf(id: number): Place;
  channels(id: number): number;
  hw(id: number): number;
  upload(data: Float32Array, label: string): GPUBuffer;
  convAlgorithm?: ConvAlgorithm;
}

export interface GpuStep {
  /** Weights after load-time rewriting (folded, split), counted by the memory estimate before anything is allocated. */
  tensors: Record<string, Float32Array>;
  /** A linear's weight rows per binding. */
  linearChunks?: { row0: number; rows: number }[];
  kernels(b: GpuBuild): Kernel[];
}

type GpuEntry = (attrs: LayerAttrs, load: GpuLoad) => GpuStep;

const NONE: GpuStep = { tensors: {}, kernels: () => [] };

/** A step whose only tensors are its own kernels' (none): the common case. */
const plain = (kernels: (b: GpuBuild) => Kernel[]): GpuStep => ({ tensors: {}, kernels });

/** A conv or linear's weight and bias, with a following batch norm folded in. */
function foldedWeights(load: GpuLoad, out: number, bias: boolean): Record<string, Float32Array> {
  const { head, step, graph } = load;
  const w = load.weights.get(head.id);
  let weight = needWeight(w, 'weight', head);
  let b = bias ? needWeight(w, 'bias', head) : undefined;
  if (step.bn !== undefined) {
    const bnNode = graph.nodes[step.bn];
    ({ weight, bias: b } = foldBatchNorm(weight, b, out, bnParams(load.weights.get(bnNode.id), bnNode)));
  }
  return b ? { weight, bias: b } : { weight };
}

const activation = (a: ActivationAttrs): GpuStep => plain((b) => [activationKernel(b.label, b.batch * numel(b.inShape), epilogueOf(a), b.place, b.dense(b.x), b.output)]);

export const GPU_KERNELS = {
  input: () => NONE,
  dropout: () => NONE,
  flatten: () => NONE,
  conv(a, load) {
    const tensors = foldedWeights(load, a.out, a.bias);
    return {
      tensors,
      kernels(b) {
        const plan = planConv(a.out / a.groups, b.convAlgorithm);
        const weight = plan.kind === 'direct' && plan.shape.packed ? packTiledWeights(tensors.weight, a.out, plan.shape.channels) : tensors.weight;
        const add = load.step.add;
        return [
          convKernel(
            b.label,
            { batch: b.batch, inC: b.inShape[0], inH: b.inShape[1], inW: b.inShape[2], outC: a.out, outH: b.outShape[1], outW: b.outShape[2], ...a },
            b.place,
            b.act,
            {
              input: b.dense(b.x),
              weight: b.upload(weight, `${b.label}.weight`),
              bias: tensors.bias ? b.upload(tensors.bias, `${b.label}.bias`) : undefined,
              residual: add ? b.dense(add.other) : undefined,
              output: b.output,
            },
            plan,
          ),
        ];
      },
    };
  },
  linear(a, load): GpuStep {
    // At every position: the conv kernels, with the same N×C weight as a 1×1 convolution's.
    if (isPointwise(a, load.shapes[load.head.inputs[0]])) return GPU_KERNELS.conv(pointwiseConv(a), load);
    const tensors = foldedWeights(load, a.out, a.bias);
    const inN = load.shapes[load.head.inputs[0]][0];
    const rowsPerChunk = Math.max(1, Math.floor(load.maxChunkBytes / (inN * 4)));
    const linearChunks: { row0: number; rows: number }[] = [];
    for (let row0 = 0; row0 < a.out; row0 += rowsPerChunk) linearChunks.push({ row0, rows: Math.min(rowsPerChunk, a.out - row0) });
    return {
      tensors,
      linearChunks,
      kernels: (b) =>
        linearChunks.map((c, j) => {
          const chunk: LinearChunk = {
            ...c,
            weight: b.upload(tensors.weight.subarray(c.row0 * inN, (c.row0 + c.rows) * inN), `${b.label}.weight[${j}]`),
            bias: tensors.bias ? b.upload(tensors.bias.subarray(c.row0, c.row0 + c.rows), `${b.label}.bias[${j}]`) : undefined,
          };
          return linearKernel(b.label, b.batch, inN, chunk, b.place, b.act, b.dense(b.x), b.output);
        }),
    };
  },
  bn(_a, load) {
    const { scale, shift } = batchNormScaleShift(bnParams(load.weights.get(load.head.id), load.head));
    return {
      tensors: { scale, shift },
      kernels: (b) => [
        scaleShiftKernel(b.label, b.batch, b.inShape[0], b.hw(b.x), b.act, b.place, b.dense(b.x), b.upload(scale, `${b.label}.scale`), b.upload(shift, `${b.label}.shift`), b.output),
      ],
    };
  },
  relu: activation,
  sigmoid: activation,
  tanh: activation,
  leakyrelu: activation,
  softmax: () => plain((b) => [softmaxKernel(b.label, b.batch, b.inShape[0], b.hw(b.x), b.place, b.dense(b.x), b.output)]),
  maxpool: (a) => plain((b) => [poolKernel(b.label, 'max', b.spatial(), [b.outShape[1], b.outShape[2]], a, b.place, b.dense(b.x), b.output)]),
  avgpool: (a) => plain((b) => [poolKernel(b.label, 'average', b.spatial(), [b.outShape[1], b.outShape[2]], a, b.place, b.dense(b.x), b.output)]),
  gap: () => plain((b) => [gapKernel(b.label, b.spatial(), b.place, b.dense(b.x), b.output)]),
  adaptiveavgpool: (a) => plain((b) => [adaptivePoolKernel(b.label, b.spatial(), a.size, b.place, b.dense(b.x), b.output)]),
  lrn: (a) => plain((b) => [lrnKernel(b.label, b.spatial(), a, b.place, b.dense(b.x), b.output)]),
  add: (_a, load) =>
    plain((b) => {
      const inputs = load.head.inputs;
      const count = b.batch * numel(b.outShape);
      const ks: Kernel[] = [];
      for (let i = 0; i < inputs.length; i += ADD_INPUTS_PER_DISPATCH) {
        const part = inputs.slice(i, i + ADD_INPUTS_PER_DISPATCH).map((id) => b.dense(id));
        const last = i + ADD_INPUTS_PER_DISPATCH >= inputs.length;
        ks.push(addKernel(b.label, count, i > 0, last ? b.act : NO_ACT, b.place, part, b.output));
      }
      return ks;
    }),
  mul: (_a, load) =>
    plain((b) => {
      const inputs = load.head.inputs;
      const count = b.batch * numel(b.outShape);
      const hw = b.hw(load.step.head);
      const ks: Kernel[] = [];
      for (let i = 0; i < inputs.length; i += MUL_INPUTS_PER_DISPATCH) {
        const part = inputs.slice(i, i + MUL_INPUTS_PER_DISPATCH).map((id) => ({ buffer: b.dense(id), gate: numel(load.shapes[id]) !== numel(b.outShape) }));
        ks.push(mulKernel(b.label, count, hw, i > 0, b.place, part, b.output));
      }
      return ks;
    }),
  concat: (_a, load) =>
    plain((b) => {
      const { head, step, graph } = load;
      const here = b.placeOf(step.head);
      const ks: Kernel[] = [];
      let offset = 0;
      for (const id of head.inputs) {
        const p = b.placeOf(id);
        const inPlace = p.root === here.root && p.channelOffset === here.channelOffset + offset;
        if (!inPlace) {
          const dst: OutPlace = { channels: b.channels(id), hw: b.hw(id), totalChannels: b.place.totalChannels, channelOffset: here.channelOffset + offset };
          ks.push(copyKernel(`${b.label} <- ${graph.nodes[id].path}`, b.batch * numel(load.shapes[id]), dst, b.dense(id), b.output));
        }
        offset += b.channels(id);
      }
      return ks;
    }),
  layernorm: (a, load) => affineNorm(load, (b, t) => layerNormKernel(b.label, b.batch, b.inShape[0], b.hw(b.x), a.eps, b.place, t)),
  groupnorm: (a, load) => affineNorm(load, (b, t) => groupNormKernel(b.label, b.batch, b.inShape[0], b.hw(b.x), a.groups, a.eps, b.place, t)),
  scale(_a, load) {
    // A batch norm's kernel with no shift: y = x·s[c].
    const scale = needWeight(load.weights.get(load.head.id), 'weight', load.head);
    const shift = new Float32Array(scale.length);
    return {
      tensors: { scale, shift },
      kernels: (b) => [
        scaleShiftKernel(b.label, b.batch, b.inShape[0], b.hw(b.x), b.act, b.place, b.dense(b.x), b.upload(scale, `${b.label}.scale`), b.upload(shift, `${b.label}.shift`), b.output),
      ],
    };
  },
  shuffle: (a) =>
    plain((b) => [shuffleKernel(b.label, { batch: b.batch, channels: b.inShape[0], h: b.hw(b.x), w: 1 }, a.groups, b.place, b.dense(b.x), b.output)]),
  slice: (a) => plain((b) => [sliceKernel(b.label, b.batch, b.inShape[0], a.start, b.outShape[0], b.hw(b.x), b.place, b.dense(b.x), b.output)]),
  relu6: activation,
  hardswish: activation,
  hardsigmoid: activation,
  silu: activation,
  gelu: activation,
  identity: () => NONE,
  upsample(a, load) {
    const tables = resizeDims(a, load.shapes[load.head.inputs[0]]).map((d) => {
      const t = new Float32Array(d.out * (a.mode === 'nearest' ? 1 : 4));
      for (let o = 0; o < d.out; o++) {
        if (a.mode === 'nearest') {
          t[o] = nearestIndex(o, d);
        } else {
          const l = linearTap(o, d);
          t.set([l.i0, l.i1, l.w0, l.w1], 4 * o);
        }
      }
      return t;
    });
    return {
      tensors: { rows: tables[0], cols: tables[1] },
      kernels: (b) => [
        upsampleKernel(b.label, a.mode, b.spatial(), [b.outShape[1], b.outShape[2]], b.place, {
          input: b.dense(b.x),
          rows: b.upload(tables[0], `${b.label}.rows`),
          cols: b.upload(tables[1], `${b.label}.cols`),
          output: b.output,
        }),
      ],
    };
  },
  convtranspose(a, load) {
    const w = load.weights.get(load.head.id);
    const tensors: Record<string, Float32Array> = { weight: needWeight(w, 'weight', load.head) };
    if (a.bias) tensors.bias = needWeight(w, 'bias', load.head);
    return {
      tensors,
      kernels: (b) => [
        convTransposeKernel(
          b.label,
          { ...a, batch: b.batch, inC: b.inShape[0], inH: b.inShape[1], inW: b.inShape[2], outC: a.out, outH: b.outShape[1], outW: b.outShape[2] },
          b.place,
          b.act,
          {
            input: b.dense(b.x),
            weight: b.upload(tensors.weight, `${b.label}.weight`),
            bias: tensors.bias ? b.upload(tensors.bias, `${b.label}.bias`) : undefined,
            output: b.output,
          },
        ),
      ],
    };
  },
} satisfies KindTable<GpuEntry>;

/** A layer or group norm: its weight and bias uploaded as stored. */
function affineNorm(load: GpuLoad, kernel: (b: GpuBuild, t: NormBuffers) => Kernel): GpuStep {
  const w = load.weights.get(load.head.id);
  const weight = needWeight(w, 'weight', load.head);
  const bias = needWeight(w, 'bias', load.head);
  return {
    tensors: { weight, bias },
    kernels: (b) => [kernel(b, { input: b.dense(b.x), weight: b.upload(weight, `${b.label}.weight`), bias: b.upload(bias, `${b.label}.bias`), output: b.output })],
  };
}

/** The entry of the step's head. */
export function gpuStep(load: GpuLoad): GpuStep {
  return dispatch<GpuEntry>(GPU_KERNELS, load.head.attrs, load);
}
