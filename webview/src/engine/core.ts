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
import { runErf } from './erf-job';
import type { BackendKind, BenchBackendResult, BenchDecision, BenchEstimate, BenchResult, EngineRequest, FeatureResult, GpuProbe, Progress, RunResult } from './messages';

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
  /** Asks the panel whether to go on after a backend's first pass (a Cancel meanwhile answers 'cancel'). */
  ask(q: BenchEstimate): Promise<BenchDecision>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

const pause = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * A CPU pass gives the event loop a turn this often, so that a Cancel (a message) is seen within
 * about this time plus one layer; the turns themselves are not timed.
 */
const YIELD_MS = 100;

/** The clock's finest step: performance.now() is coarsened (100 µs in Chromium) where a page is not cross-origin isolated, as webviews are not. */
function clockStep(): number {
  let best = Infinity;
  let last = performance.now();
  const end = last + 5;
  for (;;) {
    const t = performance.now();
    if (t !== last) {
      best = Math.min(best, t - last);
      last = t;
    }
    if (t > end) return best;
  }
}

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
        return this.bench(req, hooks);
      case 'erf':
        return runErf(this.need(), this.key, this.last?.input, req, hooks);
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
      const noop: CoreHooks = { progress() {}, cancelled: () => false, deviceLost() {}, ask: async () => ({ go: 'continue' }) };
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

  /**
   * Timed forward passes on each backend in turn. Each backend reports its setup as steps (the
   * CPU engine's compile and weight packing; WebGPU's device, weight upload and shader
   * compilation), then runs one pass and, if the rest would take longer than `askAboveMs`, asks
   * the panel whether to go on, with fewer runs, or stop. CPU passes run step by step, timing
   * each step and yielding every YIELD_MS so that a Cancel lands within about that; WebGPU stops
   * at the next pass. The CPU's per-layer times are means over every timed pass (the clock's
   * step over the passes is their resolution); WebGPU's come from one profiled pass.
   */
  async bench(req: { backends: BackendKind[]; iterations: number; warmup: number; askAboveMs: number }, hooks: CoreHooks): Promise<BenchResult> {
    const model = this.need();
    const input = this.last?.input ?? deterministicInput(model);
    const clock = clockStep();
    // Progress in passes: each backend's setup counts as one, and WebGPU's profiled pass.
    const total = req.backends.reduce((n, b) => n + 1 + (req.warmup === 0 ? req.iterations : req.warmup + req.iterations) + (b === 'webgpu' ? 1 : 0), 0);
    let done = 0;
    const results: BenchBackendResult[] = [];
    for (const backend of req.backends) {
      if (hooks.cancelled()) return { results, cancelled: true };
      const name = backend === 'cpu' ? 'CPU' : 'WebGPU';
      const tell = (label: string, at = done) => hooks.progress({ done: at, total, label: `${name}: ${label}` });
      let session: InferenceSession;
      let fast: FastCpuSession | undefined;
      let owned = true;
      if (backend === 'cpu') {
        tell('compiling the WebAssembly kernels and packing the weights…');
        await pause();
        const mine = await this.cpuSession(model, this.cpu?.keepAll ?? false);
        // A session that keeps every node's output is unfused: time a fused one (the CLI's).
        if (mine && !mine.keepAll) {
          fast = mine.session;
          owned = false;
        } else if (mine) fast = await createFastCpuSession(model, 1, { adapter: CPU_NAME });
        session = fast ?? createCpuSession(model, 1, CPU_REFERENCE_NAME);
      } else {
        tell('requesting the GPU device…');
        const { device, adapter } = await this.device(hooks);
        tell('uploading the weights…');
        const at = done;
        session = await createWebGpuSession(device, adapter, model, 1, {
          onProgress: (stage, d, n) =>
            stage === 'weights' ? tell(`uploading the weights: layer ${d} of ${n}`, at + (0.5 * d) / n) : tell(`compiling shaders: ${d} of ${n}`, at + 0.5 + (0.5 * d) / n),
        });
      }
      done += 1;
      try {
        const steps = fast ? fast.stepwise(input).steps : [];
        const acc = new Float64Array(steps.length);
        /** One pass; its time, or undefined where a Cancel stopped it. */
        const pass = async (timed: boolean): Promise<number | undefined> => {
          if (!fast) {
            if (hooks.cancelled()) return undefined;
            const t0 = performance.now();
            await session.run(input);
            return performance.now() - t0;
          }
          let ms = 0;
          let seg = performance.now();
          const p = fast.stepwise(input);
          for (let i = 0; i < p.steps.length; i++) {
            const t0 = performance.now();
            p.run(i);
            const t1 = performance.now();
            if (timed) acc[i] += t1 - t0;
            if (t1 - seg > YIELD_MS) {
              ms += t1 - seg;
              await pause();
              if (hooks.cancelled()) return undefined;
              seg = performance.now();
            }
          }
          p.output();
          return ms + performance.now() - seg;
        };
        // The first pass carries one-time costs: a warm-up, unless there are none (then it is run 1).
        const firstTimed = req.warmup === 0;
        tell('first pass…');
        const first = await pass(firstTimed);
        if (first === undefined) return { results, cancelled: true };
        done += 1;
        const times: number[] = firstTimed ? [first] : [];
        let warmLeft = firstTimed ? 0 : req.warmup - 1;
        let runsLeft = req.iterations - times.length;
        const estimateMs = first * (warmLeft + runsLeft);
        if (estimateMs > req.askAboveMs) {
          const d = await hooks.ask({ backend, firstPassMs: first, warmupLeft: warmLeft, iterations: req.iterations, estimateMs });
          if (d.go === 'cancel') return { results, cancelled: true };
          if (d.go === 'fewer') {
            // The passes dropped count as done, so that the bar still ends at its total.
            done += warmLeft - d.warmupLeft + runsLeft - Math.max(0, d.iterations - times.length);
            warmLeft = d.warmupLeft;
            runsLeft = Math.max(0, d.iterations - times.length);
          }
        }
        const warmups = (firstTimed ? 0 : 1) + warmLeft;
        const runs = times.length + runsLeft;
        let stopped = false;
        for (let k = 0; k < warmLeft + runsLeft && !stopped; k++) {
          const warm = k < warmLeft;
          tell(warm ? `warm-up ${warmups - warmLeft + k + 1} of ${warmups}` : `run ${times.length + 1} of ${runs}`);
          const ms = await pass(!warm);
          if (ms === undefined) stopped = true;
          else {
            if (!warm) times.push(ms);
            done += 1;
            await pause();
            stopped = hooks.cancelled();
          }
        }
        const base = { backend, adapter: session.adapter, times, clockMs: clock, warmups, ...(stopped ? { partial: true } : {}) };
        if (fast) {
          if (times.length) {
            const layers = steps.map((st, i) => ({ path: st.path, nodes: st.nodes, ms: acc[i] / times.length }));
            results.push({ ...base, layers, layerPasses: times.length, method: `wall time per fused step, the mean of ${times.length} pass${times.length > 1 ? 'es' : ''}` });
          }
          if (stopped) return { results, cancelled: true };
        } else {
          if (stopped) {
            if (times.length) results.push({ ...base, layers: [], layerPasses: 0, method: 'not profiled (cancelled)' });
            return { results, cancelled: true };
          }
          tell('profiling the layers…');
          const layers = await session.profile(input);
          done += 1;
          const method =
            backend === 'cpu' ? 'wall time per layer, one pass' : this.gpu?.device.features.has('timestamp-query') ? 'GPU timestamps per step, one pass' : 'wall time per step (fences), one pass';
          results.push({ ...base, layers, layerPasses: 1, method, clockMs: backend === 'webgpu' && /timestamps/.test(method) ? 1e-6 : clock });
        }
        tell('done', done);
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
