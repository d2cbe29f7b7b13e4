/**
 * The engine behind the panel: the project's fast CPU engine (WebAssembly SIMD), its JavaScript
 * reference (where WebAssembly cannot compile) and the WebGPU engine (src/engine), used from the
 * worker (worker.ts) or, where a worker cannot start, from the page itself.
 * Browser-only APIs here are `navigator.gpu` and `performance`.
 */
import { forwardCpu } from '../../../src/engine/cpu/forward';
import { preprocessImage } from '../../../src/engine/input/preprocess';
import { createCpuSession, createFastCpuSession, createWebGpuSession, type FastCpuSession, type InferenceSession, type Model, WasmUnavailableError } from '../../../src/engine/session';
import { tensor, type Tensor } from '../../../src/engine/tensor';
import { WebGpuNetwork } from '../../../src/engine/webgpu/network';
import { initWeights } from '../../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../../src/engine/weights/load';
import type { BackendKind, BenchBackendResult, BenchResult, EngineRequest, FeatureResult, GpuProbe, Progress, RunResult } from './messages';

const CPU_NAME = 'CPU: WebAssembly SIMD';
const CPU_REFERENCE_NAME = 'CPU: JavaScript reference engine';

/** A fast CPU session of the loaded model, and the input its buffers last ran on. */
interface CpuState {
  session: FastCpuSession;
  /** Unfused, every node's output readable (feature maps). */
  keepAll: boolean;
  ranOn?: Float32Array;
}

export interface CoreHooks {
  progress(p: Progress): void;
  cancelled(): boolean;
  deviceLost(message: string): void;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

const pause = () => new Promise<void>((r) => setTimeout(r, 0));

export class EngineCore {
  private gpu?: { device: GPUDevice; adapter: string; probe: GpuProbe };
  private probing?: Promise<GpuProbe>;
  private model?: Model;
  private key = '';
  /** Unfused, so that every node's output can be read as feature maps. */
  private runNet?: WebGpuNetwork;
  private last?: { backend: BackendKind; cpuNodes?: Tensor[]; input: Float32Array };
  /**
   * The fast CPU engine for the loaded model: fused until feature maps are asked for, then
   * replaced by one that keeps every node's output (one copy of the weights either way).
   */
  private cpu?: CpuState;
  /** Why WebAssembly cannot run here (a CSP without 'wasm-unsafe-eval', say): the reference runs instead. */
  private noWasm?: string;

  constructor(private readonly env: { gpu?: GPU | undefined }) {}

  async handle(req: EngineRequest, hooks: CoreHooks): Promise<unknown> {
    switch (req.op) {
      case 'probe':
        return this.probe(hooks);
      case 'load':
        return this.load(req.key, req.model, req.weights);
      case 'run':
        return this.run(req.backend, req);
      case 'features':
        return this.features(req.node);
      case 'bench':
        return this.bench(req.backends, req.iterations, req.warmup, hooks);
    }
  }

  probe(hooks: CoreHooks): Promise<GpuProbe> {
    this.probing ??= this.doProbe(hooks);
    return this.probing;
  }

  private async doProbe(hooks: CoreHooks): Promise<GpuProbe> {
    const gpu = this.env.gpu;
    if (!gpu) return { status: 'missing', reason: 'navigator.gpu is missing: WebGPU is turned off in this webview (it needs a WebGPU-enabled VS Code / Chromium; on Linux Chromium enables it only with --enable-unsafe-webgpu).' };
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    } catch (e) {
      return { status: 'error', reason: `requestAdapter() failed: ${(e as Error).message}` };
    }
    if (!adapter) return { status: 'no-adapter', reason: 'requestAdapter() returned null: no GPU adapter is available (the GPU or its driver is blocklisted, there is no Vulkan/Metal/D3D12 driver, or WebGPU is disabled).' };
    const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
    const text = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ');
    const name = text || 'unknown WebGPU adapter';
    const software = Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || SOFTWARE.test(text));
    try {
      const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({
        requiredFeatures: features,
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
          maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        },
      });
      const probe: GpuProbe = software
        ? { status: 'software', adapter: name, reason: `the adapter is a software renderer (${name}): WebGPU runs on the CPU there, slower than the CPU engine.` }
        : { status: 'ok', adapter: name };
      this.gpu = { device, adapter: name, probe };
      void device.lost.then((l) => {
        if (this.gpu?.device !== device) return;
        this.gpu = undefined;
        this.probing = undefined;
        this.runNet = undefined;
        hooks.deviceLost(`The GPU device was lost (${l.reason}): ${l.message || 'no details'}. The next run asks for a new one.`);
      });
      return probe;
    } catch (e) {
      return { status: 'error', adapter: name, reason: `requestDevice() failed: ${(e as Error).message}` };
    }
  }

  private async device(hooks?: CoreHooks): Promise<{ device: GPUDevice; adapter: string }> {
    if (!this.gpu) {
      const noop: CoreHooks = { progress() {}, cancelled: () => false, deviceLost() {} };
      const p = await this.probe(hooks ?? noop);
      if (!this.gpu) throw new Error(`WebGPU is not available: ${p.reason ?? p.status}`);
    }
    return this.gpu!;
  }

  load(key: string, data: { graph: Model['graph']; shapes: number[][]; tensors: Model['tensors'] }, weights: Uint8Array | null): { key: string; tensors: number } {
    if (key === this.key && this.model) return { key, tensors: this.model.tensors.length };
    this.runNet?.destroy();
    this.runNet = undefined;
    this.cpu?.session.destroy();
    this.cpu = undefined;
    this.last = undefined;
    this.model = undefined;
    this.key = '';
    const w = weights ? loadSafetensorsWeights(weights, data.tensors) : initWeights(data.tensors, 0);
    this.model = { graph: data.graph, shapes: data.shapes, tensors: data.tensors, weights: w };
    this.key = key;
    return { key, tensors: data.tensors.length };
  }

  private need(): Model {
    if (!this.model) throw new Error('no network is loaded');
    return this.model;
  }

  async run(backend: BackendKind, r: { pixels: Parameters<typeof preprocessImage>[0]; channels: number; height: number; width: number }): Promise<RunResult> {
    const model = this.need();
    const input = preprocessImage(r.pixels, { channels: r.channels, height: r.height, width: r.width });
    const shape = [1, r.channels, r.height, r.width];
    if (backend === 'cpu') {
      const fast = await this.cpuSession(model, this.cpu?.keepAll ?? false);
      if (!fast) {
        const t0 = performance.now();
        const res = forwardCpu(model.graph, model.weights, model.tensors, tensor(shape, input), { keep: 'all' });
        const ms = performance.now() - t0;
        this.last = { backend, cpuNodes: res.nodes, input };
        return { backend, adapter: CPU_REFERENCE_NAME, input, output: res.output.data, ms };
      }
      const t0 = performance.now();
      const output = await fast.session.run(input);
      const ms = performance.now() - t0;
      fast.ranOn = input;
      this.last = { backend, input };
      return { backend, adapter: fast.session.adapter, input, output, ms };
    }
    const { device, adapter } = await this.device();
    if (!this.runNet) this.runNet = await WebGpuNetwork.create(device, model.graph, model.shapes, model.tensors, model.weights, 1, { fuse: false });
    const t0 = performance.now();
    const output = await this.runNet.run(input);
    const ms = performance.now() - t0;
    this.last = { backend, input };
    return { backend, adapter, input, output, ms };
  }

  async features(node: number): Promise<FeatureResult> {
    const model = this.need();
    if (!this.last) throw new Error('run the network first');
    const shape = model.shapes[node];
    if (this.last.backend === 'cpu') {
      if (this.last.cpuNodes) {
        const t = this.last.cpuNodes[node];
        if (!t) throw new Error(`no output kept for ${model.graph.nodes[node].path}`);
        return { node, shape, data: t.data };
      }
      const all = await this.cpuSession(model, true);
      if (!all) throw new Error('the CPU engine is not available');
      if (all.ranOn !== this.last.input) {
        await all.session.run(this.last.input);
        all.ranOn = this.last.input;
      }
      return { node, shape, data: all.session.readNode(node) };
    }
    if (!this.runNet || !this.runNet.hasOutput(node)) throw new Error(`${model.graph.nodes[node].path} has no readable output on the GPU`);
    return { node, shape, data: await this.runNet.readNode(node) };
  }

  /** The fast CPU session of the loaded model (fused, or keeping every output); undefined where WebAssembly cannot run. */
  private async cpuSession(model: Model, keepAll: boolean): Promise<CpuState | undefined> {
    if (this.noWasm) return undefined;
    if (this.cpu && (this.cpu.keepAll || !keepAll)) return this.cpu;
    try {
      const session = await createFastCpuSession(model, 1, { adapter: CPU_NAME, keepAll });
      this.cpu?.session.destroy();
      this.cpu = { session, keepAll };
      return this.cpu;
    } catch (e) {
      // Only a module that cannot compile sends every later run to the reference; other errors are the network's.
      if (!(e instanceof WasmUnavailableError)) throw e;
      this.noWasm = e.message;
      return undefined;
    }
  }

  async bench(backends: BackendKind[], iterations: number, warmup: number, hooks: CoreHooks): Promise<BenchResult> {
    const model = this.need();
    const input = this.last?.input ?? deterministicInput(model);
    const total = backends.length * (iterations + warmup + 1);
    let done = 0;
    const results: BenchBackendResult[] = [];
    for (const backend of backends) {
      let session: InferenceSession;
      let owned = true;
      if (backend === 'cpu') {
        const fast = await this.cpuSession(model, this.cpu?.keepAll ?? false);
        // A session that keeps every node's output is unfused: time a fused one (the CLI's).
        if (fast && !fast.keepAll) {
          session = fast.session;
          owned = false;
        } else session = fast ? await createFastCpuSession(model, 1, { adapter: CPU_NAME }) : createCpuSession(model, 1, CPU_REFERENCE_NAME);
      } else {
        const { device, adapter } = await this.device(hooks);
        session = await createWebGpuSession(device, adapter, model, 1);
      }
      try {
        const times: number[] = [];
        for (let i = 0; i < warmup + iterations; i++) {
          if (hooks.cancelled()) return { results, cancelled: true };
          const t0 = performance.now();
          await session.run(input);
          const ms = performance.now() - t0;
          if (i >= warmup) times.push(ms);
          hooks.progress({ done: ++done, total, label: `${backend === 'cpu' ? 'CPU' : 'WebGPU'}: ${i < warmup ? 'warm-up' : 'run'} ${i < warmup ? i + 1 : i - warmup + 1}/${i < warmup ? warmup : iterations}` });
          await pause();
        }
        if (hooks.cancelled()) return { results, cancelled: true };
        const layers = await session.profile(input);
        hooks.progress({ done: ++done, total, label: `${backend === 'cpu' ? 'CPU' : 'WebGPU'}: per-layer profile` });
        const method = backend === 'cpu' ? (session.adapter === CPU_REFERENCE_NAME ? 'wall time per layer' : 'wall time per fused step') : session.adapter && this.gpu?.device.features.has('timestamp-query') ? 'GPU timestamps per step' : 'wall time per step (fences)';
        results.push({ backend, adapter: session.adapter, times, layers, method });
        await pause();
      } finally {
        if (owned) session.destroy();
      }
    }
    return { results, cancelled: false };
  }
}

/** A fixed input when nothing has been run yet: values in [-1, 1] from a simple LCG. */
function deterministicInput(model: Model): Float32Array {
  const input = model.graph.nodes.find((n) => n.attrs.kind === 'input');
  const n = input ? model.shapes[input.id].reduce((a, d) => a * d, 1) : 0;
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
