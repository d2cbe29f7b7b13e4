import type { ParamTensor } from '../../analysis/types';
import type { Graph, GraphNode, LayerAttrs } from '../../graph/types';
import { bnParams, gatherLayerWeights, type LayerWeights, needWeight } from '../params';
import { numel } from '../tensor';
import { type ConvAlgorithm, convKernel, packTiledWeights, planConv } from './conv-kernels';
import { batchNormScaleShift, foldBatchNorm } from './fold';
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
} from './layer-kernels';
import { linearKernel, type LinearChunk } from './linear-kernels';
import { checkFits, formatBytes, type MemoryEstimate } from './memory';
import { type ExecutionPlan, type Place, planExecution, type PlanOptions, type Step } from './plan';
import type { EpilogueAct, Kernel, OutPlace } from './wgsl';

export interface WebGpuNetworkOptions extends PlanOptions {
  /** Refuse to allocate more than this many bytes in total (the estimate); unset: only the device's limits apply. */
  memoryBudgetBytes?: number;
  /** Split linear weights into buffers of at most this many bytes (default: the device's maxStorageBufferBindingSize). */
  maxWeightBindingBytes?: number;
  /** Convolution kernels: see ConvAlgorithm ('auto' by default). */
  convAlgorithm?: ConvAlgorithm;
}

export interface LayerTiming {
  /** The step's head node and every node fused into it. */
  nodes: number[];
  path: string;
  ms: number;
}

export interface Profile {
  /** 'timestamp-query': GPU timestamps around each step's pass; 'fences': wall time of each step submitted alone and awaited. */
  method: 'timestamp-query' | 'fences';
  layers: LayerTiming[];
  totalMs: number;
}

interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

interface CompiledStep {
  step: Step;
  dispatches: Dispatch[];
}

/** Layer weights after load-time rewriting, ready to upload. */
interface PreparedStep {
  step: Step;
  tensors: Record<string, Float32Array>;
  linearChunks?: { row0: number; rows: number }[];
}

function actOf(attrs: LayerAttrs | undefined): EpilogueAct {
  if (!attrs) return { kind: 'none' };
  switch (attrs.kind) {
    case 'relu':
    case 'sigmoid':
    case 'tanh':
      return { kind: attrs.kind };
    case 'leakyrelu':
      return { kind: 'leakyrelu', slope: attrs.slope };
    default:
      throw new Error(`not an activation: ${attrs.kind}`);
  }
}

/** Compiled pipelines per device, keyed by WGSL source: shaders bake shapes in, so equal code means an equal kernel. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/**
 * A network compiled for one device and batch size: buffers, pipelines and bind groups are
 * made once here and reused by every run. Batch norms are folded into their conv or linear,
 * activations and residual adds run in the producer's epilogue, and producers write straight
 * into their concat's buffer, so by default only the tails of fused steps have readable outputs;
 * pass `fuse: false` to read every node (feature maps of every layer).
 */
export class WebGpuNetwork {
  private readonly buffers = new Map<number, GPUBuffer>();
  private readonly owned: GPUBuffer[] = [];
  private compiled: CompiledStep[] = [];
  private outputStaging: GPUBuffer | undefined;

  private constructor(
    private readonly opts: WebGpuNetworkOptions,
    readonly device: GPUDevice,
    readonly graph: Graph,
    readonly shapes: readonly number[][],
    readonly batch: number,
    readonly plan: ExecutionPlan,
    readonly memory: MemoryEstimate,
  ) {}

  static async create(
    device: GPUDevice,
    graph: Graph,
    shapes: readonly number[][],
    paramNames: readonly ParamTensor[],
    weights: ReadonlyMap<string, Float32Array>,
    batch: number,
    opts: WebGpuNetworkOptions = {},
  ): Promise<WebGpuNetwork> {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
    if (shapes.length !== graph.nodes.length) throw new Error(`got ${shapes.length} shapes for ${graph.nodes.length} nodes`);
    const plan = planExecution(graph, shapes, opts);
    const byNode = gatherLayerWeights(paramNames, weights);
    const maxChunk = Math.min(opts.maxWeightBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const prepared = plan.steps.map((s) => prepareStep(graph, shapes, s, byNode, maxChunk));
    const memory = estimate(graph, shapes, plan, prepared, batch);
    checkFits(memory, device.limits, opts.memoryBudgetBytes);

    const net = new WebGpuNetwork(opts, device, graph, shapes, batch, plan, memory);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    try {
      await net.build(prepared);
    } finally {
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (oom) {
        net.destroy();
        throw new Error(`out of GPU memory while allocating about ${formatBytes(memory.totalBytes)}: ${oom.message}`);
      }
      if (validation) {
        net.destroy();
        throw new Error(`WebGPU rejected the network: ${validation.message}`);
      }
    }
    return net;
  }

  private nodeChannels(id: number): number {
    return this.shapes[id][0];
  }

  private nodeHw(id: number): number {
    return numel(this.shapes[id].slice(1));
  }

  private place(id: number): Place {
    const p = this.plan.places[id];
    if (!p) throw new Error(`${this.graph.nodes[id].path} was fused into another layer and has no output of its own`);
    return p;
  }

  private outPlace(id: number): OutPlace {
    const p = this.place(id);
    return { channels: this.nodeChannels(id), hw: this.nodeHw(id), totalChannels: this.nodeChannels(p.root), channelOffset: p.channelOffset };
  }

  /** The buffer holding node `id` as a dense tensor; inputs of kernels are always dense (only concat members are not, and only the concat reads them). */
  private dense(id: number): GPUBuffer {
    const p = this.place(id);
    if (p.channelOffset !== 0 || numel(this.shapes[p.root]) !== numel(this.shapes[id])) {
      throw new Error(`internal: ${this.graph.nodes[id].path} is read as a whole but lives in a slice of another buffer`);
    }
    return this.buffers.get(p.root)!;
  }

  private upload(data: Float32Array, label: string): GPUBuffer {
    const buf = this.device.createBuffer({ label, size: Math.max(4, data.byteLength), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
    new Float32Array(buf.getMappedRange()).set(data);
    buf.unmap();
    this.owned.push(buf);
    return buf;
  }

  private async build(prepared: PreparedStep[]): Promise<void> {
    for (const root of this.plan.roots) {
      const buf = this.device.createBuffer({
        label: `out ${this.graph.nodes[root].path}`,
        size: Math.max(4, this.batch * numel(this.shapes[root]) * 4),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.buffers.set(root, buf);
      this.owned.push(buf);
    }
    const out = this.place(this.graph.output);
    this.outputStaging = this.device.createBuffer({
      label: 'output staging',
      size: Math.max(4, this.batch * numel(this.shapes[out.root]) * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.owned.push(this.outputStaging);

    const kernels = prepared.map((p) => ({ step: p.step, kernels: this.stepKernels(p) }));
    // Kernels with the same code share a pipeline, within this network and with earlier ones on the device.
    let pipelines = pipelineCache.get(this.device);
    if (!pipelines) pipelineCache.set(this.device, (pipelines = new Map()));
    for (const { kernels: ks } of kernels) {
      for (const k of ks) {
        if (!pipelines.has(k.code)) {
          const module = this.device.createShaderModule({ label: k.label, code: k.code });
          pipelines.set(k.code, this.device.createComputePipelineAsync({ label: k.label, layout: 'auto', compute: { module, entryPoint: 'main' } }));
        }
      }
    }
    const ready = new Map<string, GPUComputePipeline>();
    for (const { kernels: ks } of kernels) for (const k of ks) if (!ready.has(k.code)) ready.set(k.code, await pipelines.get(k.code)!);
    this.compiled = kernels.map(({ step, kernels: ks }) => ({
      step,
      dispatches: ks.map((k) => {
        const pipeline = ready.get(k.code)!;
        const bindGroup = this.device.createBindGroup({
          label: k.label,
          layout: pipeline.getBindGroupLayout(0),
          entries: k.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
        return { label: k.label, pipeline, bindGroup, workgroups: k.workgroups };
      }),
    }));
  }

  private stepKernels(p: PreparedStep): Kernel[] {
    const { step, tensors } = p;
    const g = this.graph;
    const head = g.nodes[step.head];
    const label = head.path || `${head.attrs.kind}#${head.id}`;
    const act = actOf(step.act !== undefined ? g.nodes[step.act].attrs : undefined);
    const outBuf = this.buffers.get(this.place(step.tail).root)!;
    const place = this.outPlace(step.tail);
    const x = head.inputs[0];
    const inShape = x === undefined ? [] : this.shapes[x];
    const outShape = this.shapes[step.head];
    const spatial = () => ({ batch: this.batch, channels: inShape[0], h: inShape[1], w: inShape[2] });
    const a = head.attrs;
    switch (a.kind) {
      case 'conv': {
        const plan = planConv(a.out / a.groups, this.opts.convAlgorithm);
        const weight = plan.kind === 'direct' && plan.shape.packed ? packTiledWeights(tensors.weight, a.out, plan.shape.channels) : tensors.weight;
        return [
          convKernel(
            label,
            { batch: this.batch, inC: inShape[0], inH: inShape[1], inW: inShape[2], outC: a.out, outH: outShape[1], outW: outShape[2], ...a },
            place,
            act,
            {
              input: this.dense(x),
              weight: this.upload(weight, `${label}.weight`),
              bias: tensors.bias ? this.upload(tensors.bias, `${label}.bias`) : undefined,
              residual: step.add ? this.dense(step.add.other) : undefined,
              output: outBuf,
            },
            plan,
          ),
        ];
      }
      case 'linear':
        return p.linearChunks!.map((c, j) => {
          const chunk: LinearChunk = {
            ...c,
            weight: this.upload(tensors.weight.subarray(c.row0 * inShape[0], (c.row0 + c.rows) * inShape[0]), `${label}.weight[${j}]`),
            bias: tensors.bias ? this.upload(tensors.bias.subarray(c.row0, c.row0 + c.rows), `${label}.bias[${j}]`) : undefined,
          };
          return linearKernel(label, this.batch, inShape[0], chunk, place, act, this.dense(x), outBuf);
        });
      case 'bn':
        return [
          scaleShiftKernel(label, this.batch, inShape[0], this.nodeHw(x), act, place, this.dense(x), this.upload(tensors.scale, `${label}.scale`), this.upload(tensors.shift, `${label}.shift`), outBuf),
        ];
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'leakyrelu':
        return [activationKernel(label, this.batch * numel(inShape), actOf(a), place, this.dense(x), outBuf)];
      case 'softmax':
        return [softmaxKernel(label, this.batch, inShape[0], this.nodeHw(x), place, this.dense(x), outBuf)];
      case 'maxpool':
      case 'avgpool':
        return [poolKernel(label, a.kind, spatial(), [outShape[1], outShape[2]], a, place, this.dense(x), outBuf)];
      case 'gap':
        return [gapKernel(label, spatial(), place, this.dense(x), outBuf)];
      case 'adaptiveavgpool':
        return [adaptivePoolKernel(label, spatial(), a.size, place, this.dense(x), outBuf)];
      case 'lrn':
        return [lrnKernel(label, spatial(), a, place, this.dense(x), outBuf)];
      case 'add': {
        const count = this.batch * numel(outShape);
        const ks: Kernel[] = [];
        for (let i = 0; i < head.inputs.length; i += ADD_INPUTS_PER_DISPATCH) {
          const part = head.inputs.slice(i, i + ADD_INPUTS_PER_DISPATCH).map((id) => this.dense(id));
          const last = i + ADD_INPUTS_PER_DISPATCH >= head.inputs.length;
          ks.push(addKernel(label, count, i > 0, last ? act : { kind: 'none' }, place, part, outBuf));
        }
        return ks;
      }
      case 'concat': {
        const here = this.place(step.head);
        const ks: Kernel[] = [];
        let offset = 0;
        for (const id of head.inputs) {
          const p = this.place(id);
          const inPlace = p.root === here.root && p.channelOffset === here.channelOffset + offset;
          if (!inPlace) {
            const dst: OutPlace = { channels: this.nodeChannels(id), hw: this.nodeHw(id), totalChannels: place.totalChannels, channelOffset: here.channelOffset + offset };
            ks.push(copyKernel(`${label} <- ${g.nodes[id].path}`, this.batch * numel(this.shapes[id]), dst, this.dense(id), outBuf));
          }
          offset += this.nodeChannels(id);
        }
        return ks;
      }
      case 'input':
      case 'dropout':
      case 'flatten':
        return [];
    }
  }

  private encode(encoder: GPUCommandEncoder, steps: CompiledStep[], timestamps?: { querySet: GPUQuerySet; first: number }): void {
    steps.forEach((s, j) => {
      const pass = encoder.beginComputePass(
        timestamps ? { timestampWrites: { querySet: timestamps.querySet, beginningOfPassWriteIndex: timestamps.first + 2 * j, endOfPassWriteIndex: timestamps.first + 2 * j + 1 } } : {},
      );
      for (const d of s.dispatches) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(...d.workgroups);
      }
      pass.end();
    });
  }

  private writeInput(input: Float32Array): void {
    const inputs = this.graph.nodes.filter((n) => n.attrs.kind === 'input');
    if (inputs.length !== 1) throw new Error(`expected one input layer, found ${inputs.length}`);
    const want = this.batch * numel(this.shapes[inputs[0].id]);
    if (input.length !== want) throw new Error(`input has ${input.length} values, expected ${want} (batch ${this.batch} x [${this.shapes[inputs[0].id].join(', ')}])`);
    this.device.queue.writeBuffer(this.dense(inputs[0].id), 0, input.buffer, input.byteOffset, input.byteLength);
  }

  /** One forward pass; returns the network output, `[batch, ...shape]` flattened. */
  async run(input: Float32Array): Promise<Float32Array> {
    this.writeInput(input);
    const encoder = this.device.createCommandEncoder({ label: 'forward' });
    this.encode(encoder, this.compiled);
    const out = this.place(this.graph.output);
    const root = this.buffers.get(out.root)!;
    encoder.copyBufferToBuffer(root, 0, this.outputStaging!, 0, root.size);
    this.device.queue.submit([encoder.finish()]);
    await this.outputStaging!.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(this.outputStaging!.getMappedRange().slice(0));
    this.outputStaging!.unmap();
    return this.slice(this.graph.output, all);
  }

  /** Whether `readNode(id)` can return the node's output (false for nodes fused into another step). */
  hasOutput(id: number): boolean {
    return this.plan.places[id] !== null;
  }

  /** Node `id`'s output from the last run, `[batch, ...shape]` flattened: feature maps. */
  async readNode(id: number): Promise<Float32Array> {
    const root = this.buffers.get(this.place(id).root)!;
    const staging = this.device.createBuffer({ label: 'read node', size: root.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(root, 0, staging, 0, root.size);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const all = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return this.slice(id, all);
    } finally {
      staging.destroy();
    }
  }

  /** Cuts node `id`'s channels out of its root buffer's contents. */
  private slice(id: number, rootData: Float32Array): Float32Array {
    const p = this.place(id);
    const per = numel(this.shapes[id]);
    const rootPer = numel(this.shapes[p.root]);
    if (per === rootPer) return rootData;
    const hw = this.nodeHw(id);
    const out = new Float32Array(this.batch * per);
    for (let b = 0; b < this.batch; b++) {
      const from = b * rootPer + p.channelOffset * hw;
      out.set(rootData.subarray(from, from + per), b * per);
    }
    return out;
  }

  /** Times each step of one forward pass, with GPU timestamps where the device has them. */
  async profile(input: Float32Array): Promise<Profile> {
    this.writeInput(input);
    const layers = this.compiled.map((c) => ({
      nodes: [c.step.head, c.step.bn, c.step.add?.node, c.step.act].filter((n): n is number => n !== undefined),
      path: this.graph.nodes[c.step.head].path,
      ms: 0,
    }));
    if (this.device.features.has('timestamp-query') && this.compiled.length > 0) {
      const count = 2 * this.compiled.length;
      const querySet = this.device.createQuerySet({ type: 'timestamp', count });
      const resolve = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      try {
        const encoder = this.device.createCommandEncoder({ label: 'profile' });
        this.encode(encoder, this.compiled, { querySet, first: 0 });
        encoder.resolveQuerySet(querySet, 0, count, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
        this.device.queue.submit([encoder.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        const ns = new BigUint64Array(read.getMappedRange().slice(0));
        read.unmap();
        layers.forEach((l, j) => (l.ms = Number(ns[2 * j + 1] - ns[2 * j]) / 1e6));
        return { method: 'timestamp-query', layers, totalMs: layers.reduce((s, l) => s + l.ms, 0) };
      } finally {
        querySet.destroy();
        resolve.destroy();
        read.destroy();
      }
    }
    for (let j = 0; j < this.compiled.length; j++) {
      const t0 = performance.now();
      const encoder = this.device.createCommandEncoder();
      this.encode(encoder, [this.compiled[j]]);
      this.device.queue.submit([encoder.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      layers[j].ms = performance.now() - t0;
    }
    return { method: 'fences', layers, totalMs: layers.reduce((s, l) => s + l.ms, 0) };
  }

  /** Number of GPU dispatches in one forward pass. */
  get dispatchCount(): number {
    return this.compiled.reduce((s, c) => s + c.dispatches.length, 0);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
    this.buffers.clear();
    this.compiled = [];
  }
}

/** Rewrites a step's weights for its kernel: bn folded into its conv or linear, standalone bn as scale and shift, linear rows split to fit a binding. */
function prepareStep(graph: Graph, shapes: readonly number[][], step: Step, byNode: Map<number, LayerWeights>, maxChunkBytes: number): PreparedStep {
  const head = graph.nodes[step.head];
  const a = head.attrs;
  const w = byNode.get(head.id);
  if (a.kind === 'conv' || a.kind === 'linear') {
    let weight = needWeight(w, 'weight', head);
    let bias = a.bias ? needWeight(w, 'bias', head) : undefined;
    if (step.bn !== undefined) {
      const bnNode = graph.nodes[step.bn];
      ({ weight, bias } = foldBatchNorm(weight, bias, a.out, bnParams(byNode.get(bnNode.id), bnNode)));
    }
    const tensors: Record<string, Float32Array> = bias ? { weight, bias } : { weight };
    if (a.kind === 'conv') return { step, tensors };
    const rowBytes = shapes[head.inputs[0]][0] * 4;
    const rowsPerChunk = Math.max(1, Math.floor(maxChunkBytes / rowBytes));
    const linearChunks: { row0: number; rows: number }[] = [];
    for (let row0 = 0; row0 < a.out; row0 += rowsPerChunk) linearChunks.push({ row0, rows: Math.min(rowsPerChunk, a.out - row0) });
    return { step, tensors, linearChunks };
  }
  if (a.kind === 'bn') {
    const { scale, shift } = batchNormScaleShift(bnParams(w, head));
    return { step, tensors: { scale, shift } };
  }
  return { step, tensors: {} };
}

function estimate(graph: Graph, shapes: readonly number[][], plan: ExecutionPlan, prepared: PreparedStep[], batch: number): MemoryEstimate {
  let largest = { bytes: 0, what: '' };
  const consider = (bytes: number, what: string) => {
    if (bytes > largest.bytes) largest = { bytes, what };
  };
  let activationBytes = 0;
  for (const r of plan.roots) {
    const bytes = batch * numel(shapes[r]) * 4;
    activationBytes += bytes;
    consider(bytes, `the output of ${graph.nodes[r].path || graph.nodes[r].attrs.kind} at batch ${batch}`);
  }
  let weightBytes = 0;
  for (const p of prepared) {
    const path = graph.nodes[p.step.head].path;
    for (const [name, t] of Object.entries(p.tensors)) {
      weightBytes += t.byteLength;
      if (p.linearChunks && name === 'weight') {
        const perRow = t.length / p.linearChunks.reduce((s, c) => s + c.rows, 0);
        for (const c of p.linearChunks) consider(c.rows * perRow * 4, `${path}.weight (one split of it)`);
      } else {
        consider(t.byteLength, `${path}.${name}`);
      }
    }
  }
  const out = plan.places[graph.output]!;
  const stagingBytes = batch * numel(shapes[out.root]) * 4;
  return { activationBytes, weightBytes, stagingBytes, totalBytes: activationBytes + weightBytes + stagingBytes, largestBinding: largest };
}
