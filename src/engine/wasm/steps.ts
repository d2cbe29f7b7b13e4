/**
 * The fast CPU engine's step builders, per layer kind: what a step headed by the kind needs in
 * memory (weights, scratch) and the call that runs it. The table is partial on purpose: a kind
 * without an entry runs the JavaScript reference (src/engine/cpu) on views of the same memory,
 * so every network the reference runs, runs here. Activations have an epilogue entry each
 * (complete by type): native in kernels.c, or the reference's function applied after the step.
 */
import type { Graph, GraphNode } from '../../graph/types';
import { activationEntry, isPointwise, pointwiseConv, type ActivationAttrs, type ActivationTable, type AttrsOf, type LayerAttrs, type LayerKind } from '../../layers';
import { activationFn, runLayerCpu } from '../cpu/layers';
import { batchNormScaleShift } from '../fold';
import { bnParams, needWeight, type LayerWeights } from '../params';
import type { Place, Step } from '../plan';
import type { Tensor } from '../tensor';
import type { ConvAttrs } from '../../layers/conv';
import type { PoolWindow } from '../../layers/pool-window';
import {
  ACT_GELU,
  ACT_GELU_TANH,
  ACT_HARDSIGMOID,
  ACT_HARDSWISH,
  ACT_LEAKY,
  ACT_NONE,
  ACT_RELU,
  ACT_RELU6,
  ACT_SILU,
  CONV_FIELDS, convFields, type Kernels, LINEAR_FIELDS, MR, POOL_FIELDS, writeFields } from './module';

/** Conv kernels: packed GEMM (per group where grouped) or the direct kernel. */
export type FastConvAlgorithm = 'gemm' | 'direct';

/** A step's fused activation as kernels.c applies it, or a function applied after the step. */
export interface WasmEpilogue {
  act: number;
  slope: number;
  after?: (v: number) => number;
}

const WASM_ACTIVATIONS = {
  relu: () => ({ act: ACT_RELU, slope: 0 }),
  leakyrelu: (a) => ({ act: ACT_LEAKY, slope: a.slope }),
  sigmoid: (a) => ({ act: ACT_NONE, slope: 0, after: activationFn(a) }),
  tanh: (a) => ({ act: ACT_NONE, slope: 0, after: activationFn(a) }),
  relu6: () => ({ act: ACT_RELU6, slope: 0 }),
  hardswish: () => ({ act: ACT_HARDSWISH, slope: 0 }),
  hardsigmoid: () => ({ act: ACT_HARDSIGMOID, slope: 0 }),
  silu: () => ({ act: ACT_SILU, slope: 0 }),
  gelu: (a) => ({ act: a.approximate === 'tanh' ? ACT_GELU_TANH : ACT_GELU, slope: 0 }),
} satisfies ActivationTable<WasmEpilogue>;

export function wasmEpilogue(attrs: ActivationAttrs | undefined): WasmEpilogue {
  return attrs ? activationEntry(WASM_ACTIVATIONS, attrs) : { act: ACT_NONE, slope: 0 };
}

/** What a step needs before memory exists: its sizes are all known then. */
export interface Prepared {
  /** Tensors copied into memory as they are. */
  tensors: Record<string, Float32Array>;
  /** A conv or linear weight as stored, to be packed (and scaled by a folded batch norm) in the module. */
  weight?: { data: Float32Array; floats: number; scale?: Float32Array };
  algo?: FastConvAlgorithm;
  /** Floats of the shared scratch the step's kernel uses. */
  scratch: number;
}

export interface WasmLoad {
  graph: Graph;
  shapes: readonly number[][];
  batch: number;
  step: Step;
  head: GraphNode;
  weights: ReadonlyMap<number, LayerWeights>;
  /** An instance on a small memory, to ask the module for scratch sizes; `heapBase` is free there. */
  probe: Kernels;
  probeMemory: WebAssembly.Memory;
  heapBase: number;
  convAlgorithm?: FastConvAlgorithm;
}

/** The session's memory and addresses, as a step's call is built. */
export interface WasmBuild {
  k: Kernels;
  f32: Float32Array;
  i32: Int32Array;
  batch: number;
  shapes: readonly number[][];
  step: Step;
  head: GraphNode;
  prepared: Prepared;
  /** The step's descriptor (32 words, or an add's input list). */
  desc: number;
  /** Byte address of each of the step's tensors (and `weight`, packed). */
  tensorAt: Record<string, number>;
  scratchAt: number;
  /** Where the step's tail writes. */
  out: { at: number; bstride: number };
  epilogue: WasmEpilogue;
  /** Byte address of a node's first value in image 0, and the floats between images. */
  addr(id: number): { at: number; bstride: number };
  /** Byte address of a node that is stored whole. */
  dense(id: number): number;
  placeOf(id: number): Place;
  per(id: number): number;
  hw(id: number): number;
  /** A view of a dense node's values, `[batch, ...shape]`. */
  view(id: number): Tensor;
  /** Writes `[batch, ...shape]` values to a node's place. */
  store(id: number, data: Float32Array): void;
}

interface WasmEntry<A> {
  prepare?(a: A, load: WasmLoad): Prepared;
  build(a: A, b: WasmBuild): () => void;
}

type WasmTable = { [K in LayerKind]?: WasmEntry<AttrsOf<K>> };

const NOTHING: Prepared = { tensors: {}, scratch: 0 };

/**
 * Which conv kernel. The direct one reads its taps straight from a zero-padded copy of the input
 * (no im2col), so it wins wherever the packed GEMM would spend much of its time gathering:
 * grouped convs with narrow groups (ResNeXt's 4..32 channels per group, depthwise), stride-1
 * kernels larger than 1x1, and the wide stem of a few input channels (7x7 stride 2 on RGB). 1x1
 * convs (a copy for the GEMM) and strided 3x3s with many channels run the GEMM. Measured with
 * /tmp A/B runs of both on ResNet and ResNeXt layer shapes (see docs/benchmarks.md).
 */
function chooseConv(a: ConvAttrs, cin: number, forced?: FastConvAlgorithm): FastConvAlgorithm {
  if (forced) return forced;
  const cinG = cin / a.groups;
  const coutG = a.out / a.groups;
  if (a.groups > 1) return coutG <= 32 || cinG <= 8 ? 'direct' : 'gemm';
  const pointwise = a.kernel[0] === 1 && a.kernel[1] === 1;
  if (pointwise) return 'gemm';
  const strided = a.stride[0] > 1 || a.stride[1] > 1;
  return !strided || cin <= 16 ? 'direct' : 'gemm';
}

/** A conv or linear's bias, with a following batch norm folded in: b' = (b - mean) * s + beta; its scale s multiplies the weights while they are packed. */
function foldedBias(a: { out: number; bias: boolean }, load: WasmLoad): { bias: Float32Array; scale?: Float32Array } {
  const { head, step, graph } = load;
  let bias = a.bias ? needWeight(load.weights.get(head.id), 'bias', head) : new Float32Array(a.out);
  if (step.bn === undefined) return { bias };
  const bn = batchNormScaleShift(bnParams(load.weights.get(step.bn), graph.nodes[step.bn]));
  bias = bias.map((v, c) => v * bn.scale[c] + bn.shift[c]);
  return { bias, scale: bn.scale };
}

/** A standalone activation: kernels.c's where it has one, else the reference on views of memory. */
const activationStep = {
  build(a: ActivationAttrs, b: WasmBuild) {
    const own = wasmEpilogue(a);
    const x = b.head.inputs[0];
    if (own.after) return () => b.store(b.step.tail, runLayerCpu(a, [b.view(x)]).data);
    const [xa, ya] = [b.dense(x), b.out.at];
    return () => b.k.scale_shift(xa, ya, b.batch, 1, b.per(x), b.out.bstride, 0, 0, own.act, own.slope);
  },
};

/** Max or average pool through kernels.c's separable pool. */
function poolStep(avg: 0 | 1): WasmEntry<PoolWindow> {
  return {
    prepare: (a, load) => ({ tensors: {}, scratch: load.probe.pool_scratch(load.shapes[load.head.inputs[0]][1], load.shapes[load.head.id][2], a.kernel[1], a.stride[1]) }),
    build(a, b) {
      const x = b.head.inputs[0];
      const [c, h, w] = b.shapes[x];
      const [, oh, ow] = b.shapes[b.head.id];
      writeFields(b.i32, b.f32, b.desc, POOL_FIELDS, {
        batch: b.batch, c, h, w, oh, ow, kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1],
        x: b.dense(x), y: b.out.at, y_bstride: b.out.bstride, avg, scratch: b.scratchAt,
      });
      return () => b.k.pool2d(b.desc);
    },
  };
}

export const WASM_KERNELS: WasmTable = {
  conv: {
    prepare(a, load) {
      const data = needWeight(load.weights.get(load.head.id), 'weight', load.head);
      const { bias, scale } = foldedBias(a, load);
      const inShape = load.shapes[load.head.inputs[0]];
      const algo = chooseConv(a, inShape[0], load.convAlgorithm);
      if (algo === 'gemm') {
        const floats = a.groups * Math.ceil(a.out / a.groups / MR) * MR * (data.length / a.out);
        return { tensors: { bias }, weight: { data, floats, scale }, algo, scratch: load.probe.conv_gemm_scratch() };
      }
      // The direct kernel's scratch depends on its geometry: ask the module, with the descriptor in the probe's memory.
      const mem = load.probeMemory.buffer;
      writeFields(new Int32Array(mem), new Float32Array(mem), load.heapBase, CONV_FIELDS, convFields(a, inShape, load.shapes[load.head.id], load.batch, { algo: 1 }));
      return { tensors: { bias }, weight: { data, floats: data.length, scale }, algo, scratch: load.probe.conv_direct_scratch(load.heapBase) };
    },
    build(a, b) {
      const x = b.head.inputs[0];
      const add = b.step.add;
      writeFields(
        b.i32,
        b.f32,
        b.desc,
        CONV_FIELDS,
        convFields(a, b.shapes[x], b.shapes[b.head.id], b.batch, {
          x: b.dense(x), x_bstride: b.per(x), y: b.out.at, y_bstride: b.out.bstride, res: add ? b.dense(add.other) : 0, res_bstride: add ? b.per(add.other) : 0,
          wt: b.tensorAt.weight, bias: b.tensorAt.bias, act: b.epilogue.act, slope: b.epilogue.slope, scratch: b.scratchAt, algo: b.prepared.algo === 'direct' ? 1 : 0,
        }),
      );
      return () => b.k.conv2d(b.desc);
    },
  },
  linear: {
    prepare(a, load) {
      // At every position: the conv kernels, with the same N×C weight as a 1×1 convolution's.
      if (isPointwise(a, load.shapes[load.head.inputs[0]])) return WASM_KERNELS.conv!.prepare!(pointwiseConv(a), load);
      const data = needWeight(load.weights.get(load.head.id), 'weight', load.head);
      const { bias, scale } = foldedBias(a, load);
      return { tensors: { bias }, weight: { data, floats: data.length, scale }, scratch: 0 };
    },
    build(a, b) {
      const x = b.head.inputs[0];
      if (isPointwise(a, b.shapes[x])) return WASM_KERNELS.conv!.build(pointwiseConv(a), b);
      writeFields(b.i32, b.f32, b.desc, LINEAR_FIELDS, {
        batch: b.batch, in: b.per(x), out: a.out, x: b.dense(x), y: b.out.at, y_bstride: b.out.bstride, wt: b.tensorAt.weight, bias: b.tensorAt.bias, act: b.epilogue.act, slope: b.epilogue.slope,
      });
      return () => b.k.linear(b.desc);
    },
  },
  bn: {
    prepare(_a, load) {
      const { scale, shift } = batchNormScaleShift(bnParams(load.weights.get(load.head.id), load.head));
      return { tensors: { scale, shift }, scratch: 0 };
    },
    build(_a, b) {
      const x = b.head.inputs[0];
      const { tensorAt: t, epilogue: e } = b;
      return () => b.k.scale_shift(b.dense(x), b.out.at, b.batch, b.shapes[x][0], b.hw(x), b.out.bstride, t.scale, t.shift, e.act, e.slope);
    },
  },
  relu: activationStep,
  leakyrelu: activationStep,
  sigmoid: activationStep,
  tanh: activationStep,
  maxpool: poolStep(0),
  avgpool: poolStep(1),
  adaptiveavgpool: {
    prepare(a, load) {
      const [, h, w] = load.shapes[load.head.inputs[0]];
      return { tensors: {}, scratch: h % a.size[0] === 0 && w % a.size[1] === 0 ? load.probe.pool_scratch(h, a.size[1], w / a.size[1], w / a.size[1]) : 0 };
    },
    build(a, b) {
      const x = b.head.inputs[0];
      const [c, h, w] = b.shapes[x];
      const [oh, ow] = a.size;
      if (h % oh !== 0 || w % ow !== 0) return () => b.store(b.step.tail, runLayerCpu(a, [b.view(x)]).data);
      // Even bins are an average pool with kernel = stride = the bin (the identity when sizes match).
      writeFields(b.i32, b.f32, b.desc, POOL_FIELDS, { batch: b.batch, c, h, w, oh, ow, kh: h / oh, kw: w / ow, sh: h / oh, sw: w / ow, ph: 0, pw: 0, x: b.dense(x), y: b.out.at, y_bstride: b.out.bstride, avg: 1, scratch: b.scratchAt });
      return () => b.k.pool2d(b.desc);
    },
  },
  gap: {
    build(_a, b) {
      const x = b.head.inputs[0];
      return () => b.k.gap(b.dense(x), b.out.at, b.batch, b.shapes[x][0], b.hw(x), b.out.bstride);
    },
  },
  add: {
    build(_a, b) {
      const list = b.desc; // room for the input pointers
      const inputs = b.head.inputs;
      inputs.forEach((id, j) => (b.i32[list / 4 + j] = b.dense(id)));
      return () => b.k.add_n(list, inputs.length, b.out.at, b.batch, b.per(b.head.id), b.out.bstride, b.epilogue.act, b.epilogue.slope);
    },
  },
  // Squeeze-and-excitation: x·gate with a [C, 1, 1] gate per image is kernels.c's per-channel scale, image by image.
  mul: {
    build(a, b) {
      const inputs = b.head.inputs;
      const n = b.per(b.head.id);
      const gates = inputs.filter((id) => b.per(id) !== n);
      if (inputs.length !== 2 || gates.length !== 1) return () => b.store(b.step.tail, runLayerCpu(a, inputs.map(b.view)).data);
      const gate = gates[0];
      const x = inputs[0] === gate ? inputs[1] : inputs[0];
      const channels = b.shapes[x][0];
      const hw = b.hw(x);
      const [xa, ga] = [b.dense(x), b.dense(gate)];
      const { at, bstride } = b.out;
      return () => {
        for (let i = 0; i < b.batch; i++) b.k.scale_shift(xa + 4 * i * n, at + 4 * i * bstride, 1, channels, hw, bstride, ga + 4 * i * channels, 0, 0, 0);
      };
    },
  },
  concat: {
    build(_a, b) {
      const here = b.placeOf(b.step.head);
      const copies: (() => void)[] = [];
      let offset = 0;
      for (const id of b.head.inputs) {
        const p = b.placeOf(id);
        if (!(p.root === here.root && p.channelOffset === here.channelOffset + offset)) {
          const src = b.dense(id) / 4;
          const n = b.per(id);
          const dst = b.out.at / 4 + offset * b.hw(b.step.head);
          copies.push(() => {
            for (let i = 0; i < b.batch; i++) b.f32.copyWithin(dst + i * b.out.bstride, src + i * n, src + (i + 1) * n);
          });
        }
        offset += b.shapes[id][0];
      }
      return () => copies.forEach((c) => c());
    },
  },
  scale: {
    prepare: (_a, load) => ({ tensors: { scale: needWeight(load.weights.get(load.head.id), 'weight', load.head) }, scratch: 0 }),
    build(_a, b) {
      const x = b.head.inputs[0];
      const { tensorAt: t, epilogue: e } = b;
      // A batch norm's kernel with no shift (address 0).
      return () => b.k.scale_shift(b.dense(x), b.out.at, b.batch, b.shapes[x][0], b.hw(x), b.out.bstride, t.scale, 0, e.act, e.slope);
    },
  },
  shuffle: {
    build(a, b) {
      const x = b.head.inputs[0];
      const c = b.shapes[x][0];
      const hw = b.hw(x);
      const per = c / a.groups;
      const [src, n, dst, stride] = [b.dense(x) / 4, b.per(x), b.out.at / 4, b.out.bstride];
      return () => {
        for (let i = 0; i < b.batch; i++) {
          for (let o = 0; o < c; o++) {
            const from = src + i * n + ((o % a.groups) * per + Math.floor(o / a.groups)) * hw;
            b.f32.copyWithin(dst + i * stride + o * hw, from, from + hw);
          }
        }
      };
    },
  },
  slice: {
    build(a, b) {
      const x = b.head.inputs[0];
      const hw = b.hw(x);
      const [src, n, dst, stride] = [b.dense(x) / 4 + a.start * hw, b.per(x), b.out.at / 4, b.out.bstride];
      const len = b.per(b.head.id);
      return () => {
        for (let i = 0; i < b.batch; i++) b.f32.copyWithin(dst + i * stride, src + i * n, src + i * n + len);
      };
    },
  },
  relu6: activationStep,
  hardswish: activationStep,
  hardsigmoid: activationStep,
  silu: activationStep,
  gelu: activationStep,
};

function entryOf(attrs: LayerAttrs): WasmEntry<LayerAttrs> | undefined {
  return WASM_KERNELS[attrs.kind] as WasmEntry<LayerAttrs> | undefined;
}

export function prepareStep(load: WasmLoad): Prepared {
  const entry = entryOf(load.head.attrs);
  return entry?.prepare ? entry.prepare(load.head.attrs, load) : NOTHING;
}

/** The call that runs a step: its kind's entry, or the reference kernel on views of memory. */
export function buildStep(b: WasmBuild, weights: LayerWeights | undefined): () => void {
  const a = b.head.attrs;
  const entry = entryOf(a);
  if (entry) return entry.build(a, b);
  const ins = b.head.inputs;
  return () => b.store(b.step.tail, runLayerCpu(a, ins.map(b.view), weights).data);
}
