import type { ParamTensor } from '../../analysis/types';
import type { Graph } from '../../graph/types';
import { isActivation } from '../../layers';
import { gatherLayerWeights, type LayerWeights } from '../params';
import { type ExecutionPlan, type Place, planExecution, type PlanOptions, type Step } from '../plan';
import { numel } from '../tensor';
import type { ConvAlgorithm } from './conv-kernels';
import { epilogueOf, type GpuStep, gpuStep } from './kernels';
import { checkFits, formatBytes, type MemoryEstimate } from './memory';
import type { Kernel, OutPlace } from './wgsl';

export interface WebGpuNetworkOptions extends PlanOptions {
  /** Refuse to allocate more than this many bytes in total (the estimate); unset: only the device's limits apply. */
  memoryBudgetBytes?: number;
  /** Split linear weights into buffers of at most this many bytes (default: the device's maxStorageBufferBindingSize). */
  maxWeightBindingBytes?: number;
  /** Convolution kernels: see ConvAlgorithm ('auto' by default). */
  convAlgorithm?: ConvAlgorithm;
  /** Told as creation goes: weights uploaded (steps done of all), then shader pipelines compiled (of the distinct ones). */
  onProgress?: (stage: 'weights' | 'shaders', done: number, total: number) => void;
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

/** A step with its weights rewritten at load (folded, split), ready to upload. */
interface PreparedStep {
  step: Step;
  entry: GpuStep;
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

    const progress = this.opts.onProgress;
    const kernels = prepared.map((p, i) => {
      const k = { step: p.step, kernels: this.stepKernels(p) };
      progress?.('weights', i + 1, prepared.length);
      return k;
    });
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
    const distinct = new Set(kernels.flatMap(({ kernels: ks }) => ks.map((k) => k.code))).size;
    for (const { kernels: ks } of kernels) {
      for (const k of ks) {
        if (ready.has(k.code)) continue;
        ready.set(k.code, await pipelines.get(k.code)!);
        progress?.('shaders', ready.size, distinct);
      }
    }
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
    const { step, entry } = p;
    const g = this.graph;
    const head = g.nodes[step.head];
    const actNode = step.act !== undefined ? g.nodes[step.act].attrs : undefined;
    if (actNode && !isActivation(actNode)) throw new Error(`internal: ${g.nodes[step.act!].path} fused as an activation`);
    const x = head.inputs[0];
    const inShape = x === undefined ? [] : this.shapes[x];
    return entry.kernels({
      label: head.path || `${head.attrs.kind}#${head.id}`,
      batch: this.batch,
      act: epilogueOf(actNode),
      place: this.outPlace(step.tail),
      output: this.buffers.get(this.place(step.tail).root)!,
      x,
      inShape,
      outShape: this.shapes[step.head],
      spatial: () => ({ batch: this.batch, channels: inShape[0], h: inShape[1], w: inShape[2] }),
      dense: (id) => this.dense(id),
      placeOf: (id) => this.place(id),
      channels: (id) => this.nodeChannels(id),
      hw: (id) => this.nodeHw(id),
      upload: (data, label) => this.upload(data, label),
      convAlgorithm: this.opts.convAlgorithm,
    });
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

/** Rewrites a step's weights for its kernels (the head kind's entry): bn folded, standalone bn as scale and shift, linear rows split to fit a binding. */
function prepareStep(graph: Graph, shapes: readonly number[][], step: Step, byNode: Map<number, LayerWeights>, maxChunkBytes: number): PreparedStep {
  return { step, entry: gpuStep({ graph, shapes, step, head: graph.nodes[step.head], weights: byNode, maxChunkBytes }) };
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
    const chunks = p.entry.linearChunks;
    for (const [name, t] of Object.entries(p.entry.tensors)) {
      weightBytes += t.byteLength;
      if (chunks && name === 'weight') {
        const perRow = t.length / chunks.reduce((s, c) => s + c.rows, 0);
        for (const c of chunks) consider(c.rows * perRow * 4, `${path}.weight (one split of it)`);
      } else {
        consider(t.byteLength, `${path}.${name}`);
      }
    }
  }
  const out = plan.places[graph.output]!;
  const stagingBytes = batch * numel(shapes[out.root]) * 4;
  return { activationBytes, weightBytes, stagingBytes, totalBytes: activationBytes + weightBytes + stagingBytes, largestBinding: largest };
}
