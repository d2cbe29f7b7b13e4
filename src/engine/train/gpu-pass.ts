/**
 * One training pass on WebGPU: every layer's training forward (nothing fused, every output kept
 * in its own buffer), the loss read back and taken on the CPU (src/engine/train/loss.ts, the
 * same code as the reference's), its gradient uploaded where it enters, then every layer's
 * backward in reverse order (src/engine/webgpu/backward.ts). The result has the shape of
 * lossAndGradients', so the optimiser, `cnn grad` and the tests take either.
 */
import type { ParamTensor } from '../../analysis/types';
import type { Graph } from '../../graph/types';
import { givesProbabilities } from '../../layers';
import { dropoutMask, type PassMode } from '../cpu/backward';
import { gatherLayerWeights, type LayerWeights } from '../params';
import { inferShapes } from '../shapes';
import { numel, tensor, type Tensor } from '../tensor';
import { trainPlan, type TrainBuild, type TrainKernels } from '../webgpu/backward';
import type { Kernel } from '../webgpu/wgsl';
import { DEFAULT_AUX_WEIGHT, type PassOptions, type PassResult } from './backprop';
import { crossEntropy, meanSquaredError } from './loss';

type Role = keyof LayerWeights;

interface Compiled {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

interface Readback {
  src: GPUBuffer;
  staging: GPUBuffer;
}

/** Where each output's loss is taken: a softmax output's on its input's logits, as the reference does. */
function lossNode(graph: Graph, shapes: readonly number[][], node: number, loss: PassOptions['loss']): number {
  const n = graph.nodes[node];
  if (loss.kind === 'cross-entropy' && givesProbabilities(n.attrs) && shapes[node].length === 1) return n.inputs[0];
  return node;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** A network's training pass compiled for one device, batch and mode; buffers and pipelines are made once. */
export class GpuTrainer {
  private readonly owned: GPUBuffer[] = [];
  private readonly values: GPUBuffer[] = [];
  private readonly grads: GPUBuffer[] = [];
  private inputNode = -1;
  private readonly params = new Map<string, GPUBuffer>();
  private readonly paramGrads = new Map<string, GPUBuffer>();
  /** Buffer name → (buffer written by the forward, offset in floats). */
  private readonly replaced = new Map<string, { buffer: GPUBuffer; offset: number }>();
  private readonly masks: { node: number; p: number; count: number; buffer: GPUBuffer }[] = [];
  private forward: Compiled[] = [];
  private backward: Compiled[] = [];
  readonly shapes: number[][];

  private constructor(
    readonly device: GPUDevice,
    readonly graph: Graph,
    readonly tensors: readonly ParamTensor[],
    readonly batch: number,
    readonly mode: PassMode,
  ) {
    this.shapes = inferShapes(graph);
  }

  /** Refuses, with the kind and its line, a network with a layer that has no WebGPU training pass. */
  static async create(device: GPUDevice, graph: Graph, tensors: readonly ParamTensor[], batch: number, mode: PassMode): Promise<GpuTrainer> {
    const t = new GpuTrainer(device, graph, tensors, batch, mode);
    device.pushErrorScope('validation');
    let kernels: { forward: Kernel[]; backward: Kernel[] };
    try {
      kernels = t.plan();
      [t.forward, t.backward] = await Promise.all([t.compile(kernels.forward), t.compile(kernels.backward)]);
    } catch (e) {
      await device.popErrorScope();
      t.destroy();
      throw e;
    }
    const err = await device.popErrorScope();
    if (err) {
      t.destroy();
      throw new Error(`WebGPU rejected the training pass: ${err.message.split('\n')[0]}`);
    }
    return t;
  }

  private buffer(floats: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({ label, size: Math.max(4, floats * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.push(b);
    return b;
  }

  private plan(): { forward: Kernel[]; backward: Kernel[] } {
    const { graph, shapes, batch } = this;
    const byNode = new Map<number, ParamTensor[]>();
    for (const t of this.tensors) byNode.set(t.node, [...(byNode.get(t.node) ?? []), t]);
    const forward: Kernel[] = [];
    const perNode: TrainKernels[] = [];
    for (const node of graph.nodes) {
      const inShapes = node.inputs.map((i) => shapes[i]);
      const load = { node, inShapes, outShape: shapes[node.id], batch, mode: this.mode };
      const plan = trainPlan(node.attrs, load);
      const count = batch * numel(shapes[node.id]);
      if (plan.role === 'alias') {
        this.values.push(this.values[node.inputs[0]]);
        this.grads.push(this.grads[node.inputs[0]]);
        perNode.push({ forward: [], backward: [] });
        continue;
      }
      const label = node.path || `${node.attrs.kind}#${node.id}`;
      this.values.push(this.buffer(count, `${label} value`));
      this.grads.push(this.buffer(count, `${label} grad`));
      if (plan.role === 'input') {
        if (this.inputNode >= 0) throw new Error('training on WebGPU takes a network with one input layer');
        this.inputNode = node.id;
        perNode.push({ forward: [], backward: [] });
        continue;
      }
      const own = byNode.get(node.id) ?? [];
      const named = (role: Role): ParamTensor => {
        const t = own.find((p) => p.role === role);
        if (!t) throw new Error(`${label}: missing ${role}`);
        return t;
      };
      const b: TrainBuild = {
        label,
        x: node.inputs.map((i) => this.values[i]),
        y: this.values[node.id],
        dx: node.inputs.map((i) => this.grads[i]),
        dy: this.grads[node.id],
        param: (role) => {
          const t = named(role);
          let buf = this.params.get(t.name);
          if (!buf) this.params.set(t.name, (buf = this.buffer(numel(t.shape), t.name)));
          return buf;
        },
        grad: (role) => {
          const t = named(role);
          let buf = this.paramGrads.get(t.name);
          if (!buf) this.paramGrads.set(t.name, (buf = this.buffer(numel(t.shape), `d ${t.name}`)));
          return buf;
        },
        replaced: (roles, floats) => {
          const buf = this.buffer(floats, `${label} new buffers`);
          let offset = 0;
          for (const role of roles) {
            const t = named(role);
            this.replaced.set(t.name, { buffer: buf, offset });
            offset += numel(t.shape);
          }
          return buf;
        },
        scratch: (floats, what) => this.buffer(floats, `${label} ${what}`),
        mask: (p) => {
          const n = batch * numel(shapes[node.inputs[0]]);
          const buffer = this.buffer(n, `${label} mask`);
          this.masks.push({ node: node.id, p, count: n, buffer });
          return buffer;
        },
      };
      const k = plan.build(b);
      forward.push(...k.forward);
      perNode.push(k);
    }
    if (this.inputNode < 0) throw new Error('training on WebGPU takes a network with one input layer');
    const backward = perNode.reverse().flatMap((k) => k.backward);
    return { forward, backward };
  }

  private async compile(kernels: Kernel[]): Promise<Compiled[]> {
    let cache = pipelineCache.get(this.device);
    if (!cache) pipelineCache.set(this.device, (cache = new Map()));
    for (const k of kernels) {
      if (!cache.has(k.code)) {
        const module = this.device.createShaderModule({ label: k.label, code: k.code });
        cache.set(k.code, this.device.createComputePipelineAsync({ label: k.label, layout: 'auto', compute: { module, entryPoint: 'main' } }));
      }
    }
    const out: Compiled[] = [];
    for (const k of kernels) {
      const pipeline = await cache.get(k.code)!;
      const bindGroup = this.device.createBindGroup({ label: k.label, layout: pipeline.getBindGroupLayout(0), entries: k.buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
      out.push({ pipeline, bindGroup, workgroups: k.workgroups });
    }
    return out;
  }

  private encode(encoder: GPUCommandEncoder, steps: Compiled[]): void {
    const pass = encoder.beginComputePass();
    for (const s of steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(...s.workgroups);
    }
    pass.end();
  }

  private write(buffer: GPUBuffer, data: Float32Array, offset = 0): void {
    this.device.queue.writeBuffer(buffer, offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  private async readAll(encoder: GPUCommandEncoder, srcs: GPUBuffer[]): Promise<Float32Array[]> {
    const reads: Readback[] = srcs.map((src) => ({ src, staging: this.device.createBuffer({ size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) }));
    for (const r of reads) encoder.copyBufferToBuffer(r.src, 0, r.staging, 0, r.src.size);
    this.device.queue.submit([encoder.finish()]);
    try {
      return await Promise.all(
        reads.map(async (r) => {
          await r.staging.mapAsync(GPUMapMode.READ);
          const data = new Float32Array(r.staging.getMappedRange().slice(0));
          r.staging.unmap();
          return data;
        }),
      );
    } finally {
      for (const r of reads) r.staging.destroy();
    }
  }

  /** Forward and backward of the batch `input` against `target`, as lossAndGradients (opts.mode must be this trainer's). */
  async pass(weights: ReadonlyMap<string, Float32Array>, input: Tensor, target: Float32Array, opts: PassOptions): Promise<PassResult> {
    const { graph, shapes, batch } = this;
    if (opts.mode !== this.mode) throw new Error(`internal: a ${this.mode}-mode trainer asked for ${opts.mode} mode`);
    const want = batch * numel(shapes[this.inputNode]);
    if (input.data.length !== want) throw new Error(`the batch has ${input.data.length} values; this pass takes ${want} (batch ${batch} × [${shapes[this.inputNode].join(', ')}])`);
    for (const t of this.tensors) {
      const buf = this.params.get(t.name);
      const w = weights.get(t.name);
      if (buf && !w) throw new Error(`missing weight ${t.name}`);
      if (buf && w) this.write(buf, w);
    }
    this.write(this.values[this.inputNode], input.data);
    for (const m of this.masks) this.write(m.buffer, dropoutMask(opts.seed ?? 0, graph.nodes[m.node].path, opts.step ?? 0, m.count, m.p));

    // Forward, then the outputs the losses are taken on.
    const outputs = [graph.output, ...graph.auxOutputs];
    const at = outputs.map((o) => lossNode(graph, shapes, o, opts.loss));
    const enc = this.device.createCommandEncoder({ label: 'training forward' });
    for (const g of new Set([...this.grads, ...this.paramGrads.values()])) enc.clearBuffer(g);
    this.encode(enc, this.forward);
    const readIds = [...new Set([graph.output, ...at])];
    const read = await this.readAll(enc, readIds.map((id) => this.values[id]));
    const valueOf = (id: number) => tensor([batch, ...shapes[id]], read[readIds.indexOf(id)].subarray(0, batch * numel(shapes[id])));

    const auxWeight = opts.auxWeight ?? DEFAULT_AUX_WEIGHT;
    const seeds = new Map<GPUBuffer, Float32Array>();
    const losses = outputs.map((_, k) => {
      const v = valueOf(at[k]);
      const value = opts.loss.kind === 'mse' ? meanSquaredError(v, target) : crossEntropy(v, target, opts.loss.labelSmoothing);
      const scale = k === 0 ? 1 : auxWeight;
      const buf = this.grads[at[k]];
      const sum = seeds.get(buf) ?? new Float32Array(value.grad.length);
      for (let i = 0; i < sum.length; i++) sum[i] += scale * value.grad[i];
      seeds.set(buf, sum);
      return value.loss;
    });
    for (const [buf, g] of seeds) this.write(buf, g);

    const back = this.device.createCommandEncoder({ label: 'training backward' });
    this.encode(back, this.backward);
    const params = this.tensors.filter((t) => t.kind === 'param' && this.paramGrads.has(t.name));
    const newBufs = [...new Set([...this.replaced.values()].map((r) => r.buffer))];
    const got = await this.readAll(back, [this.grads[this.inputNode], ...params.map((t) => this.paramGrads.get(t.name)!), ...newBufs]);

    const grads = new Map<string, Float32Array>();
    const buffers = new Map<string, Float32Array>();
    for (const t of this.tensors) {
      const n = numel(t.shape);
      if (t.kind === 'param') {
        const k = params.indexOf(t);
        grads.set(t.name, k >= 0 ? got[1 + k].slice(0, n) : new Float32Array(n));
      } else {
        const r = this.replaced.get(t.name);
        if (r) buffers.set(t.name, got[1 + params.length + newBufs.indexOf(r.buffer)].slice(r.offset, r.offset + n));
      }
    }
    const [mainLoss, ...auxLosses] = losses;
    const inputGrad = tensor([batch, ...shapes[this.inputNode]], got[0].slice(0, want));
    return { loss: mainLoss + auxWeight * auxLosses.reduce((a, b) => a + b, 0), mainLoss, auxLosses, output: valueOf(graph.output), grads, buffers, inputGrad };
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}

/**
 * A training pass (loop.ts's TrainPass) on one device: a trainer per batch size and mode, made on
 * first use (a short last batch gets its own), its pipelines shared through the device's cache.
 */
export function gpuTrainPass(device: GPUDevice): { pass: (graph: Graph, weights: ReadonlyMap<string, Float32Array>, tensors: readonly ParamTensor[], x: Tensor, y: Float32Array, opts: PassOptions) => Promise<PassResult>; destroy(): void } {
  const trainers = new Map<string, Promise<GpuTrainer>>();
  return {
    async pass(graph, weights, tensors, x, y, opts) {
      const key = `${x.shape[0]} ${opts.mode}`;
      let t = trainers.get(key);
      if (!t) trainers.set(key, (t = GpuTrainer.create(device, graph, tensors, x.shape[0], opts.mode)));
      return (await t).pass(weights, x, y, opts);
    },
    destroy() {
      for (const t of trainers.values()) t.then((tr) => tr.destroy(), () => undefined);
      trainers.clear();
    },
  };
}
