/**
 * The fast CPU engine: the network compiled once per (model, batch) onto WebAssembly SIMD kernels
 * (kernels.c) in one linear memory. Browser-safe (Node, browsers, web workers, the VS Code webview):
 * the module's bytes are embedded, nothing is fetched.
 *
 * At creation: the execution plan of the WebGPU engine (batch norms folded into their conv or
 * linear, residual adds and activations fused into the producer, producers writing straight into
 * their concat's buffer), weights packed for the kernels, and every activation buffer placed in
 * one arena where buffers whose lifetimes do not overlap share memory. A run then only copies the
 * input in, calls one kernel per step and copies the output out. Layers without a kernel here
 * (softmax, LRN, sigmoid, tanh, uneven adaptive pools) run the JavaScript reference on views of
 * the same memory, so every network the reference runs, runs.
 */
import type { GraphNode, LayerAttrs } from '../../graph/types';
import { runLayerCpu } from '../cpu/layers';
import { activate } from '../cpu/pointwise';
import { bnParams, gatherLayerWeights, type LayerWeights, needWeight } from '../params';
import type { InferenceSession, LayerTime, Model } from '../session';
import { numel, type Tensor } from '../tensor';
import { batchNormScaleShift } from '../webgpu/fold';
import { type Place, planExecution, type Step } from '../webgpu/plan';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/** Must match kernels.c. */
const MR = 4;

/** Field order of kernels.c's ConvDesc, LinearDesc and PoolDesc (all 4-byte fields). */
const CONV_FIELDS = [
  'batch', 'cin', 'h', 'w', 'cout', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw', 'groups',
  'x', 'x_bstride', 'y', 'y_bstride', 'res', 'res_bstride', 'wt', 'bias', 'act', 'slope', 'scratch', 'algo',
] as const;
const LINEAR_FIELDS = ['batch', 'in', 'out', 'x', 'y', 'y_bstride', 'wt', 'bias', 'act', 'slope'] as const;
const POOL_FIELDS = ['batch', 'c', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'x', 'y', 'y_bstride', 'avg', 'scratch'] as const;
const FLOAT_FIELDS = new Set(['slope']);

const ACT_NONE = 0;
const ACT_RELU = 1;
const ACT_LEAKY = 2;

/** Conv kernels: packed GEMM (per group where grouped) or the direct kernel. */
export type FastConvAlgorithm = 'gemm' | 'direct';

export interface FastCpuOptions {
  /** Shown as the session's adapter. */
  adapter?: string;
  /**
   * Keep every node's output readable after a run (feature maps): nothing is fused and no buffer
   * is shared. Slower and larger; off by default.
   */
  keepAll?: boolean;
  /** Force one conv algorithm everywhere (tests); by default grouped convs with narrow groups run direct, the rest GEMM. */
  convAlgorithm?: FastConvAlgorithm;
}

interface Kernels {
  conv2d(desc: number): void;
  conv_gemm_scratch(): number;
  conv_direct_scratch(desc: number): number;
  pool_scratch(h: number, ow: number, kw: number, sw: number): number;
  pack_weights(src: number, dst: number, cout: number, groups: number, kk: number, scale: number, mode: number): void;
  scale_rows(p: number, rows: number, cols: number, scale: number): void;
  linear(desc: number): void;
  pool2d(desc: number): void;
  gap(x: number, y: number, batch: number, channels: number, hw: number, yBstride: number): void;
  add_n(inputs: number, n: number, y: number, batch: number, count: number, yBstride: number, act: number, slope: number): void;
  scale_shift(x: number, y: number, batch: number, channels: number, hw: number, yBstride: number, scale: number, shift: number, act: number, slope: number): void;
  __heap_base: WebAssembly.Global;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** WebAssembly (with SIMD) cannot compile here: an old engine, or a page whose CSP lacks 'wasm-unsafe-eval'. */
export class WasmUnavailableError extends Error {}

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The compiled kernels module, once per process (or worker). */
export function kernelsModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(wasmBytes()).catch((e: unknown) => {
    compiled = undefined;
    throw new WasmUnavailableError(`cannot compile the CPU engine's WebAssembly (SIMD needed: Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+): ${(e as Error).message}`);
  });
  return compiled;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_BYTES = 65536 * PAGE;
const align = (n: number, a = 64) => Math.ceil(n / a) * a;

/** A bump allocator over byte offsets; memory is made once all sizes are known. */
class Layout {
  top: number;
  constructor(base: number) {
    this.top = align(base);
  }
  take(bytes: number): number {
    const at = this.top;
    this.top = align(at + Math.max(bytes, 4));
    return at;
  }
}

function actCode(attrs: LayerAttrs | undefined): { act: number; slope: number; js?: 'sigmoid' | 'tanh' } {
  if (!attrs) return { act: ACT_NONE, slope: 0 };
  switch (attrs.kind) {
    case 'relu':
      return { act: ACT_RELU, slope: 0 };
    case 'leakyrelu':
      return { act: ACT_LEAKY, slope: attrs.slope };
    case 'sigmoid':
    case 'tanh':
      return { act: ACT_NONE, slope: 0, js: attrs.kind };
    default:
      throw new Error(`not an activation: ${attrs.kind}`);
  }
}

/**
 * Which conv kernel. The direct one reads its taps straight from a zero-padded copy of the input
 * (no im2col), so it wins wherever the packed GEMM would spend much of its time gathering:
 * grouped convs with narrow groups (ResNeXt's 4..32 channels per group, depthwise), stride-1
 * kernels larger than 1x1, and the wide stem of a few input channels (7x7 stride 2 on RGB). 1x1
 * convs (a copy for the GEMM) and strided 3x3s with many channels run the GEMM. Measured with
 * /tmp A/B runs of both on ResNet and ResNeXt layer shapes (see docs/benchmarks.md).
 */
function chooseConv(a: Extract<LayerAttrs, { kind: 'conv' }>, cin: number, forced?: FastConvAlgorithm): FastConvAlgorithm {
  if (forced) return forced;
  const cinG = cin / a.groups;
  const coutG = a.out / a.groups;
  if (a.groups > 1) return coutG <= 32 || cinG <= 8 ? 'direct' : 'gemm';
  const pointwise = a.kernel[0] === 1 && a.kernel[1] === 1;
  if (pointwise) return 'gemm';
  const strided = a.stride[0] > 1 || a.stride[1] > 1;
  return !strided || cin <= 16 ? 'direct' : 'gemm';
}

/** A conv's geometry fields of the descriptor, with `rest` (pointers; zeros where not given). */
function convFields(a: Extract<LayerAttrs, { kind: 'conv' }>, inShape: readonly number[], outShape: readonly number[], batch: number, rest: Record<string, number>): Record<string, number> {
  const zeros = { x: 0, x_bstride: 0, y: 0, y_bstride: 0, res: 0, res_bstride: 0, wt: 0, bias: 0, act: 0, slope: 0, scratch: 0, algo: 0 };
  return {
    batch, cin: inShape[0], h: inShape[1], w: inShape[2], cout: a.out, oh: outShape[1], ow: outShape[2], kh: a.kernel[0], kw: a.kernel[1],
    sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1], dh: a.dilation[0], dw: a.dilation[1], groups: a.groups,
    ...zeros,
    ...rest,
  };
}

function writeFields(i32: Int32Array, f32: Float32Array, at: number, fields: readonly string[], values: Record<string, number>): void {
  fields.forEach((f, j) => {
    const v = values[f];
    if (v === undefined) throw new Error(`internal: descriptor field ${f} missing`);
    if (FLOAT_FIELDS.has(f)) f32[at / 4 + j] = v;
    else i32[at / 4 + j] = v;
  });
}

/**
 * V8 first runs WebAssembly in its baseline compiler (Liftoff, several times slower here) and
 * compiles a function with TurboFan in the background once it has run long enough; the call after
 * that runs the fast code. A small conv through both algorithms and a pool, on the arena before
 * it holds anything, start that now, so that the first pass of a one-shot `cnn run` is not spent
 * in Liftoff. About a millisecond; skipped where the arena or scratch is too small for it.
 */
function warmUp(k: Kernels, i32: Int32Array, f32: Float32Array, arenaAt: number, arenaBytes: number, scratchAt: number, scratchFloats: number): void {
  const c = 16;
  const hw = 16;
  const plane = c * hw * hw;
  const descAt = arenaAt;
  const x = arenaAt + 256;
  const y = x + plane * 4;
  const w = y + plane * 4;
  const bias = w + c * c * 9 * 4;
  if (bias + c * 4 > arenaAt + arenaBytes || scratchFloats < 8192) return;
  f32.fill(0, arenaAt / 4, (bias + c * 4) / 4);
  const conv = { kind: 'conv' as const, out: c, kernel: [3, 3] as [number, number], stride: [1, 1] as [number, number], padding: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1, bias: true };
  for (const algo of [0, 1]) {
    const fields = convFields(conv, [c, hw, hw], [c, hw, hw], 1, { x, x_bstride: plane, y, y_bstride: plane, wt: w, bias, act: ACT_RELU, scratch: scratchAt, algo });
    writeFields(i32, f32, descAt, CONV_FIELDS, fields);
    if ((algo === 1 ? k.conv_direct_scratch(descAt) : k.conv_gemm_scratch()) > scratchFloats) continue;
    for (let r = 0; r < 3; r++) k.conv2d(descAt);
  }
  const pool = { batch: 1, c, h: hw, w: hw, oh: hw / 2, ow: hw / 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, x, y, y_bstride: plane, avg: 0, scratch: scratchAt };
  writeFields(i32, f32, descAt, POOL_FIELDS, pool);
  if (k.pool_scratch(hw, hw / 2, 2, 2) <= scratchFloats) for (let r = 0; r < 3; r++) k.pool2d(descAt);
}

export interface FastCpuSession extends InferenceSession {
  /** Whether `readNode(id)` has the node's output (with keepAll every node; else the tails of steps). */
  hasOutput(id: number): boolean;
  /** Node `id`'s output from the last run, `[batch, ...shape]`, copied out. */
  readNode(id: number): Float32Array;
  /** Bytes of linear memory the session holds. */
  readonly memoryBytes: number;
}

interface PlannedStep {
  step: Step;
  path: string;
  nodes: number[];
  run: () => void;
}

/** Creates the fast CPU engine for a model and batch size (WebAssembly SIMD, one thread). */
export async function createFastCpuSession(model: Model, batch: number, opts: FastCpuOptions = {}): Promise<FastCpuSession> {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  const { graph, shapes } = model;
  if (shapes.length !== graph.nodes.length) throw new Error(`got ${shapes.length} shapes for ${graph.nodes.length} nodes`);
  const module = await kernelsModule();
  const keepAll = opts.keepAll ?? false;
  const plan = planExecution(graph, shapes, { fuse: !keepAll, concatInPlace: !keepAll });
  const byNode = gatherLayerWeights(model.tensors, model.weights);
  const inputs = graph.nodes.filter((n) => n.attrs.kind === 'input');
  if (inputs.length !== 1) throw new Error(`expected one input layer, found ${inputs.length}`);
  const inputNode = inputs[0].id;

  // A probe instance tells where free memory starts (after its stack and data) and how much scratch each kernel needs.
  const probeMemory = new WebAssembly.Memory({ initial: 2 });
  const probe = new WebAssembly.Instance(module, { env: { memory: probeMemory } }).exports as unknown as Kernels;
  const heapBase = (probe.__heap_base.value as number) >>> 0;

  const per = (id: number) => numel(shapes[id]);
  const hwOf = (id: number) => numel(shapes[id].slice(1));
  const place = (id: number): Place => {
    const p = plan.places[id];
    if (!p) throw new Error(`${graph.nodes[id].path} was fused into another layer and has no output of its own`);
    return p;
  };

  // --- Lifetimes of the buffers (roots), in step indices; the input is live before step 0. ---
  const steps = plan.steps;
  const def = new Map<number, number>();
  const lastUse = new Map<number, number>();
  const touch = (root: number, at: number) => {
    if (!def.has(root) || at < def.get(root)!) def.set(root, at);
    if (!lastUse.has(root) || at > lastUse.get(root)!) lastUse.set(root, at);
  };
  touch(place(inputNode).root, -1);
  const readsOf = (s: Step): number[] => {
    const head = graph.nodes[s.head];
    const r = [...head.inputs];
    if (s.add) r.push(s.add.other);
    return r;
  };
  steps.forEach((s, i) => {
    touch(place(s.tail).root, i);
    for (const id of readsOf(s)) touch(place(id).root, i);
  });
  for (const o of [graph.output, ...graph.auxOutputs]) touch(place(o).root, Infinity);
  for (const r of plan.roots) if (!def.has(r)) touch(r, -1);

  // --- Weights, packed, and descriptors: fixed sizes first, then the arena. ---
  interface Prepared {
    /** Tensors copied into memory as they are. */
    tensors: Record<string, Float32Array>;
    /** A conv or linear weight as stored, to be packed (and scaled by a folded batch norm) in the module. */
    weight?: { data: Float32Array; floats: number; scale?: Float32Array };
    algo?: FastConvAlgorithm;
    scratch: number;
  }
  const prepared = steps.map((s): Prepared => {
    const head = graph.nodes[s.head];
    const a = head.attrs;
    const w = byNode.get(head.id);
    if (a.kind === 'conv' || a.kind === 'linear') {
      const data = needWeight(w, 'weight', head);
      let bias = a.bias ? needWeight(w, 'bias', head) : new Float32Array(a.out);
      // A folded batch norm: w' = w * s per output channel (in the module, while packing), b' = (b - mean) * s + beta.
      let scale: Float32Array | undefined;
      if (s.bn !== undefined) {
        const bn = batchNormScaleShift(bnParams(byNode.get(s.bn), graph.nodes[s.bn]));
        scale = bn.scale;
        bias = bias.map((v, c) => v * bn.scale[c] + bn.shift[c]);
      }
      if (a.kind === 'linear') return { tensors: { bias }, weight: { data, floats: data.length, scale }, scratch: 0 };
      const inShape = shapes[head.inputs[0]];
      const algo = chooseConv(a, inShape[0], opts.convAlgorithm);
      if (algo === 'gemm') {
        const floats = a.groups * Math.ceil(a.out / a.groups / MR) * MR * (data.length / a.out);
        return { tensors: { bias }, weight: { data, floats, scale }, algo, scratch: probe.conv_gemm_scratch() };
      }
      // The direct kernel's scratch depends on its geometry: ask the module, with the descriptor in the probe's memory.
      writeFields(new Int32Array(probeMemory.buffer), new Float32Array(probeMemory.buffer), heapBase, CONV_FIELDS, convFields(a, shapes[head.inputs[0]], shapes[head.id], batch, { algo: 1 }));
      return { tensors: { bias }, weight: { data, floats: data.length, scale }, algo, scratch: probe.conv_direct_scratch(heapBase) };
    }
    if (a.kind === 'bn') {
      const { scale, shift } = batchNormScaleShift(bnParams(w, head));
      return { tensors: { scale, shift }, scratch: 0 };
    }
    if (a.kind === 'maxpool' || a.kind === 'avgpool') return { tensors: {}, scratch: probe.pool_scratch(shapes[head.inputs[0]][1], shapes[head.id][2], a.kernel[1], a.stride[1]) };
    if (a.kind === 'adaptiveavgpool') {
      const [, h, w] = shapes[head.inputs[0]];
      return { tensors: {}, scratch: h % a.size[0] === 0 && w % a.size[1] === 0 ? probe.pool_scratch(h, a.size[1], w / a.size[1], w / a.size[1]) : 0 };
    }
    return { tensors: {}, scratch: 0 };
  });

  const layout = new Layout(heapBase);
  // One descriptor per step: 32 words, or the list of input addresses of an add.
  const descAt = steps.map((s) => layout.take(Math.max(32, graph.nodes[s.head].inputs.length) * 4));
  const tensorAt = prepared.map((p) => {
    const at: Record<string, number> = {};
    for (const [k, t] of Object.entries(p.tensors)) at[k] = layout.take(t.byteLength);
    if (p.weight) at.weight = layout.take(p.weight.floats * 4);
    return at;
  });
  const scratchFloats = Math.max(0, ...prepared.map((p) => p.scratch));
  const scratchAt = layout.take(scratchFloats * 4);

  // Activations: buffers placed largest first at the lowest offset free over their lifetime.
  const rootBytes = (r: number) => align(batch * per(r) * 4);
  const order = [...plan.roots].sort((a, b) => rootBytes(b) - rootBytes(a) || a - b);
  const placedAt = new Map<number, number>();
  const placed: { root: number; at: number; end: number }[] = [];
  for (const r of order) {
    const size = rootBytes(r);
    const overlapping = keepAll
      ? placed
      : placed.filter((p) => !(lastUse.get(p.root)! < def.get(r)! || lastUse.get(r)! < def.get(p.root)!));
    let at = 0;
    for (const p of overlapping.sort((a, b) => a.at - b.at)) {
      if (at + size <= p.at) break;
      at = Math.max(at, p.end);
    }
    placedAt.set(r, at);
    placed.push({ root: r, at, end: at + size });
  }
  // Before the first run the arena stages each conv weight (and its scale) for packing: at least that big.
  const stagingBytes = Math.max(0, ...prepared.map((p) => (p.weight ? (p.algo ? align(p.weight.data.byteLength) : 0) + align((p.weight.scale?.length ?? 0) * 4) : 0)));
  const arenaBytes = Math.max(stagingBytes, ...placed.map((p) => p.end));
  const arenaAt = layout.take(arenaBytes);
  // Slack: strided packing may read one vector past a buffer's last value.
  const totalBytes = layout.take(256) + 256;
  if (totalBytes > MAX_BYTES) {
    throw new Error(`the network needs ${(totalBytes / 2 ** 30).toFixed(2)} GiB of WebAssembly memory at batch ${batch}, more than its 4 GiB; use a smaller batch`);
  }
  const pages = Math.ceil(totalBytes / PAGE);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch (e) {
    throw new Error(`cannot allocate ${(totalBytes / 2 ** 20).toFixed(0)} MiB of WebAssembly memory for the CPU engine: ${(e as Error).message}`);
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const k = instance.exports as unknown as Kernels;
  const f32 = new Float32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);

  prepared.forEach((p, i) => {
    for (const [name, t] of Object.entries(p.tensors)) f32.set(t, tensorAt[i][name] / 4);
    const w = p.weight;
    if (!w) return;
    const head = graph.nodes[steps[i].head];
    const a = head.attrs;
    if (a.kind === 'linear') {
      f32.set(w.data, tensorAt[i].weight / 4);
      if (w.scale) {
        f32.set(w.scale, arenaAt / 4);
        k.scale_rows(tensorAt[i].weight, a.out, w.data.length / a.out, arenaAt);
      }
    } else if (a.kind === 'conv') {
      // Staged in the (still unused) arena, then packed into place.
      const scaleAt = arenaAt + align(w.data.byteLength);
      f32.set(w.data, arenaAt / 4);
      if (w.scale) f32.set(w.scale, scaleAt / 4);
      k.pack_weights(arenaAt, tensorAt[i].weight, a.out, a.groups, w.data.length / a.out, w.scale ? scaleAt : 0, p.algo === 'direct' ? 1 : 0);
    }
  });

  /** Byte address of node `id`'s first value in image 0, and the floats between images. */
  const addr = (id: number) => {
    const p = place(id);
    return { at: arenaAt + placedAt.get(p.root)! + p.channelOffset * hwOf(id) * 4, bstride: per(p.root) };
  };
  const dense = (id: number): number => {
    const p = place(id);
    if (p.channelOffset !== 0 || per(p.root) !== per(id)) throw new Error(`internal: ${graph.nodes[id].path} is read whole but lives in a slice of another buffer`);
    return arenaAt + placedAt.get(p.root)!;
  };
  /** A view of a dense node's values, `[batch, ...shape]` (valid while the memory lives: it never grows). */
  const view = (id: number): Tensor => ({ shape: [batch, ...shapes[id]], data: f32.subarray(dense(id) / 4, dense(id) / 4 + batch * per(id)) });
  /** Writes `[batch, ...shape]` values to node `id`'s place (a slice of a concat's buffer, maybe). */
  const store = (id: number, data: Float32Array) => {
    const { at, bstride } = addr(id);
    const n = per(id);
    for (let b = 0; b < batch; b++) f32.set(data.subarray(b * n, (b + 1) * n), at / 4 + b * bstride);
  };
  /** Applies a JavaScript activation in place on node `id`'s place. */
  const jsAct = (id: number, a: 'sigmoid' | 'tanh') => {
    const { at, bstride } = addr(id);
    const n = per(id);
    for (let b = 0; b < batch; b++) {
      const v = f32.subarray(at / 4 + b * bstride, at / 4 + b * bstride + n);
      v.set(activate({ shape: [n], data: v }, a).data);
    }
  };
  const writeDesc = (at: number, fields: readonly string[], values: Record<string, number>) => writeFields(i32, f32, at, fields, values);

  const planned: PlannedStep[] = steps.map((s, i) => {
    const head = graph.nodes[s.head];
    const a = head.attrs;
    const desc = descAt[i];
    const actNode = s.act !== undefined ? graph.nodes[s.act].attrs : undefined;
    const { act, slope, js } = actCode(actNode);
    const out = addr(s.tail);
    const nodes = [s.head, s.bn, s.add?.node, s.act].filter((n): n is number => n !== undefined);
    const finish = js ? () => jsAct(s.tail, js) : undefined;
    const x = head.inputs[0];
    const t = tensorAt[i];
    let run: () => void;
    switch (a.kind) {
      case 'conv': {
        writeDesc(
          desc,
          CONV_FIELDS,
          convFields(a, shapes[x], shapes[head.id], batch, {
            x: dense(x), x_bstride: per(x), y: out.at, y_bstride: out.bstride, res: s.add ? dense(s.add.other) : 0, res_bstride: s.add ? per(s.add.other) : 0,
            wt: t.weight, bias: t.bias, act, slope, scratch: scratchAt, algo: prepared[i].algo === 'direct' ? 1 : 0,
          }),
        );
        run = () => k.conv2d(desc);
        break;
      }
      case 'linear':
        writeDesc(desc, LINEAR_FIELDS, { batch, in: per(x), out: a.out, x: dense(x), y: out.at, y_bstride: out.bstride, wt: t.weight, bias: t.bias, act, slope });
        run = () => k.linear(desc);
        break;
      case 'bn':
        run = () => k.scale_shift(dense(x), out.at, batch, shapes[x][0], hwOf(x), out.bstride, t.scale, t.shift, act, slope);
        break;
      case 'relu':
      case 'leakyrelu': {
        const own = actCode(a);
        const [xa, ya] = [dense(x), out.at];
        run = () => k.scale_shift(xa, ya, batch, 1, per(x), out.bstride, 0, 0, own.act, own.slope);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [c, h, w] = shapes[x];
        const [, oh, ow] = shapes[head.id];
        writeDesc(desc, POOL_FIELDS, {
          batch, c, h, w, oh, ow, kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1],
          x: dense(x), y: out.at, y_bstride: out.bstride, avg: a.kind === 'avgpool' ? 1 : 0, scratch: scratchAt,
        });
        run = () => k.pool2d(desc);
        break;
      }
      case 'adaptiveavgpool': {
        const [c, h, w] = shapes[x];
        const [oh, ow] = a.size;
        if (h % oh === 0 && w % ow === 0) {
          // Even bins are an average pool with kernel = stride = the bin (the identity when sizes match).
          writeDesc(desc, POOL_FIELDS, { batch, c, h, w, oh, ow, kh: h / oh, kw: w / ow, sh: h / oh, sw: w / ow, ph: 0, pw: 0, x: dense(x), y: out.at, y_bstride: out.bstride, avg: 1, scratch: scratchAt });
          run = () => k.pool2d(desc);
        } else {
          run = () => store(s.tail, runLayerCpu(a, [view(x)]).data);
        }
        break;
      }
      case 'gap':
        run = () => k.gap(dense(x), out.at, batch, shapes[x][0], hwOf(x), out.bstride);
        break;
      case 'add': {
        const list = desc; // room for the input pointers
        head.inputs.forEach((id, j) => (i32[list / 4 + j] = dense(id)));
        run = () => k.add_n(list, head.inputs.length, out.at, batch, per(head.id), out.bstride, act, slope);
        break;
      }
      case 'concat': {
        const here = place(s.head);
        const copies: (() => void)[] = [];
        let offset = 0;
        for (const id of head.inputs) {
          const p = place(id);
          if (!(p.root === here.root && p.channelOffset === here.channelOffset + offset)) {
            const src = dense(id) / 4;
            const n = per(id);
            const dst = out.at / 4 + offset * hwOf(s.head);
            copies.push(() => {
              for (let b = 0; b < batch; b++) f32.copyWithin(dst + b * out.bstride, src + b * n, src + (b + 1) * n);
            });
          }
          offset += shapes[id][0];
        }
        run = () => copies.forEach((c) => c());
        break;
      }
      default: {
        // softmax, lrn, sigmoid, tanh: the reference on views of this memory.
        const ins = head.inputs;
        const w = byNode.get(head.id);
        run = () => store(s.tail, runLayerCpu(a, ins.map(view), w).data);
      }
    }
    const body = run;
    return { step: s, path: head.path, nodes, run: finish ? () => (body(), finish()) : body };
  });

  warmUp(k, i32, f32, arenaAt, arenaBytes, scratchAt, scratchFloats);

  // The input's buffer is written by run(); aliases (flatten, dropout) need no step.
  const inAt = dense(inputNode) / 4;
  const inCount = batch * per(inputNode);
  const outNode = graph.output;
  const load = (input: Float32Array) => {
    if (input.length !== inCount) throw new Error(`input has ${input.length} values, expected [${[batch, ...shapes[inputNode]].join(', ')}] = ${inCount}`);
    f32.set(input, inAt);
  };
  const read = (id: number): Float32Array => {
    const { at, bstride } = addr(id);
    const n = per(id);
    const outArr = new Float32Array(batch * n);
    for (let b = 0; b < batch; b++) outArr.set(f32.subarray(at / 4 + b * bstride, at / 4 + b * bstride + n), b * n);
    return outArr;
  };
  let destroyed = false;
  const alive = () => {
    if (destroyed) throw new Error('the CPU session was destroyed');
  };
  const readable = new Set<number>();
  if (keepAll) graph.nodes.forEach((n) => plan.places[n.id] && readable.add(n.id));
  else for (const o of [outNode, ...graph.auxOutputs]) readable.add(o);

  return {
    backend: 'cpu',
    adapter: opts.adapter ?? 'CPU: WebAssembly SIMD',
    batch,
    memoryBytes: pages * PAGE,
    async run(input) {
      alive();
      load(input);
      for (const p of planned) p.run();
      return read(outNode);
    },
    async profile(input) {
      alive();
      load(input);
      const times: LayerTime[] = [];
      for (const p of planned) {
        const t0 = performance.now();
        p.run();
        times.push({ path: p.path, nodes: p.nodes, ms: performance.now() - t0 });
      }
      return times;
    },
    hasOutput: (id) => readable.has(id),
    readNode(id) {
      alive();
      if (!readable.has(id)) throw new Error(`${graph.nodes[id]?.path ?? `node ${id}`} has no readable output in this CPU session${keepAll ? '' : ' (create it with keepAll)'}`);
      return read(id);
    },
    destroy() {
      destroyed = true;
    },
  };
}
