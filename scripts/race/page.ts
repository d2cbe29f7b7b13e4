/**
 * The race page (bundled by scripts/race/harness.ts into dist/race/page.js): our engine through
 * src/engine/session.ts and ONNX Runtime Web, loaded from the served dist folder, in one page.
 * The Node side drives it through `window.race`: setup one network on one side (GPU or CPU),
 * then one timed pass at a time, so that it can alternate the engines and print progress.
 */
import * as sessions from '../../src/engine/session';
import type { InferenceSession, Model } from '../../src/engine/session';
import { isSoftwareAdapter } from '../../src/engine/webgpu/adapter';
import type { ConvAlgorithm } from '../../src/engine/webgpu/conv-kernels';
import { mulberry32 } from '../../src/engine/weights/init';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';

export type Side = 'gpu' | 'cpu';
export type Engine = 'ours' | 'ort';

export interface SetupRequest {
  /** Served paths of the network's files. */
  modelJson: string;
  onnx: string;
  safetensors: string;
  side: Side;
  /** ORT's wasm threads (ort.env.wasm.numThreads). */
  threads: number;
  /** Which ORT build runs the WebGPU side: `webgpu` (ort.webgpu.min.mjs, the native WebGPU EP) or `jsep` (ort.min.mjs, the JS EP). */
  ortGpuBuild: 'webgpu' | 'jsep';
  seed: number;
  /** Our convolution kernels on WebGPU; 'cli': as `cnn run/bench` pick them ('direct' on a software adapter, else 'auto'). */
  conv: 'cli' | ConvAlgorithm;
}

export interface SetupResult {
  ours: { engine: string; adapter: string; setupMs: number; conv?: string; software?: boolean } | { error: string };
  ort: { build: string; provider: string; setupMs: number; threads: number } | { error: string };
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  crossOriginIsolated: boolean;
  inputShape: number[];
  outputLength: number;
}

export interface PassResult {
  ms?: number;
  error?: string;
}

export interface CompareResult {
  maxAbsDiff: number;
  maxAbsOurs: number;
  maxAbsOrt: number;
  top1Ours: number;
  top1Ort: number;
  /** The first few outputs of each, for a reader's eye. */
  head: { ours: number[]; ort: number[] };
}

// The parts of onnxruntime-web's API the page uses (its types are not in this program's scope).
interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
  endProfiling?(): void;
}
interface Ort {
  env: { wasm: { wasmPaths?: string; numThreads?: number; proxy?: boolean; simd?: boolean }; logLevel?: string; webgpu?: Record<string, unknown>; versions?: Record<string, string> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
}

type FastCpu = (model: Model, batch: number) => InferenceSession | Promise<InferenceSession>;

/** The fast CPU engine when session.ts has one (another change brings it), else the JavaScript reference. */
export function cpuEngine(): { name: string; create: FastCpu } {
  const fast = (sessions as unknown as Record<string, unknown>)['createFastCpuSession'];
  if (typeof fast === 'function') return { name: 'createFastCpuSession', create: fast as FastCpu };
  return { name: 'createCpuSession', create: (m, b) => sessions.createCpuSession(m, b) };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 500);

async function fetchBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Uniform in [-1, 1) from the engine's mulberry32: the same input for both engines, every run. */
function makeInput(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * rand() - 1;
  return x;
}

const ortModules = new Map<string, Promise<Ort>>();
function loadOrt(file: string, threads: number): Promise<Ort> {
  let p = ortModules.get(file);
  if (!p) {
    const url = `/ort/${file}`;
    p = (import(url) as Promise<Ort & { default?: Ort }>).then((m) => {
      const ort = (m.InferenceSession ? m : m.default) as Ort;
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      return ort;
    });
    ortModules.set(file, p);
  }
  return p;
}

class RacePage {
  private ours?: InferenceSession;
  private ortSession?: OrtSession;
  private ort?: Ort;
  private device?: GPUDevice;
  private input: Float32Array = new Float32Array(0);
  private inputShape: number[] = [];
  private last: { ours?: Float32Array<ArrayBufferLike>; ort?: Float32Array<ArrayBufferLike> } = {};

  async setup(req: SetupRequest): Promise<SetupResult> {
    const [json, weightBytes, onnx] = await Promise.all([fetch(req.modelJson).then((r) => r.json()), fetchBytes(req.safetensors), fetchBytes(req.onnx)]);
    const data = json as Pick<Model, 'graph' | 'shapes' | 'tensors'>;
    const model: Model = { ...data, weights: loadSafetensorsWeights(weightBytes, data.tensors) };
    this.inputShape = [1, ...sessions.inputShapeOf(model)];
    const outputLength = sessions.outputShapeOf(model).reduce((a, d) => a * d, 1);
    this.input = makeInput(this.inputShape.reduce((a, d) => a * d, 1), req.seed);
    const result: SetupResult = { ours: { error: 'not run' }, ort: { error: 'not run' }, crossOriginIsolated: globalThis.crossOriginIsolated === true, inputShape: this.inputShape, outputLength };

    // Ours.
    let t0 = performance.now();
    try {
      if (req.side === 'gpu') {
        if (!navigator.gpu) throw new Error('navigator.gpu is missing (start chromium with --enable-unsafe-webgpu)');
        const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) throw new Error('requestAdapter() returned null');
        const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
        result.adapter = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
        const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown WebGPU adapter';
        this.device = await adapter.requestDevice({
          requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
          requiredLimits: {
            maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
            maxBufferSize: adapter.limits.maxBufferSize,
            maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
          },
        });
        const software = isSoftwareAdapter(adapter);
        const conv: ConvAlgorithm = req.conv === 'cli' ? (software ? 'direct' : 'auto') : req.conv;
        this.ours = await sessions.createWebGpuSession(this.device, name, model, 1, { convAlgorithm: conv });
        result.ours = { engine: 'createWebGpuSession', adapter: name, setupMs: performance.now() - t0, conv, software };
      } else {
        const cpu = cpuEngine();
        this.ours = await cpu.create(model, 1);
        result.ours = { engine: cpu.name, adapter: this.ours.adapter, setupMs: performance.now() - t0 };
      }
    } catch (e) {
      result.ours = { error: message(e) };
    }

    // ONNX Runtime Web.
    t0 = performance.now();
    try {
      const file = req.side === 'cpu' ? 'ort.wasm.min.mjs' : req.ortGpuBuild === 'jsep' ? 'ort.min.mjs' : 'ort.webgpu.min.mjs';
      this.ort = await loadOrt(file, req.threads);
      const provider = req.side === 'gpu' ? 'webgpu' : 'wasm';
      this.ortSession = await this.ort.InferenceSession.create(onnx, { executionProviders: [provider], graphOptimizationLevel: 'all' });
      result.ort = { build: file, provider, setupMs: performance.now() - t0, threads: this.ort.env.wasm.numThreads ?? req.threads };
    } catch (e) {
      result.ort = { error: message(e) };
    }
    return result;
  }

  /** One pass of one engine, timed from the input array to the output array (upload and read-back included). */
  async pass(engine: Engine): Promise<PassResult> {
    try {
      if (engine === 'ours') {
        if (!this.ours) throw new Error('our session did not start');
        const t0 = performance.now();
        const out = await this.ours.run(this.input);
        const ms = performance.now() - t0;
        this.last.ours = out;
        return { ms };
      }
      if (!this.ortSession || !this.ort) throw new Error("ORT's session did not start");
      const t0 = performance.now();
      const feeds = { [this.ortSession.inputNames[0]]: new this.ort.Tensor('float32', this.input, this.inputShape) };
      const outs = await this.ortSession.run(feeds);
      const data = outs[this.ortSession.outputNames[0]].data;
      const ms = performance.now() - t0;
      this.last.ort = data;
      return { ms };
    } catch (e) {
      return { error: message(e) };
    }
  }

  /** Ours against ORT on the last outputs (the same input). */
  compare(): CompareResult | { error: string } {
    const a = this.last.ours;
    const b = this.last.ort;
    if (!a || !b) return { error: `no output from ${!a ? 'ours' : 'ORT'}` };
    if (a.length !== b.length) return { error: `output lengths differ: ours ${a.length}, ORT ${b.length}` };
    let d = 0;
    let ma = 0;
    let mb = 0;
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      ma = Math.max(ma, Math.abs(a[i]));
      mb = Math.max(mb, Math.abs(b[i]));
      if (a[i] > a[ia]) ia = i;
      if (b[i] > b[ib]) ib = i;
    }
    if (Number.isNaN(d) || a.some(Number.isNaN) || b.some(Number.isNaN)) d = NaN;
    return { maxAbsDiff: d, maxAbsOurs: ma, maxAbsOrt: mb, top1Ours: ia, top1Ort: ib, head: { ours: Array.from(a.slice(0, 5)), ort: Array.from(b.slice(0, 5)) } };
  }

  /** Our per-layer times, the median of `passes` profiled passes per layer (largest first), for the doc's "where we're behind". */
  async profile(top = 15, passes = 5): Promise<{ path: string; ms: number }[] | { error: string }> {
    try {
      if (!this.ours) throw new Error('our session did not start');
      const byPath = new Map<string, number[]>();
      for (let i = 0; i < passes; i++) {
        for (const l of await this.ours.profile(this.input)) {
          const list = byPath.get(l.path) ?? [];
          list.push(l.ms);
          byPath.set(l.path, list);
        }
      }
      const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
      const all = [...byPath].map(([path, v]) => ({ path, ms: median(v) }));
      const total = all.reduce((a, l) => a + l.ms, 0);
      return [{ path: '(sum of layer medians)', ms: total }, ...all.sort((x, y) => y.ms - x.ms).slice(0, top)];
    } catch (e) {
      return { error: message(e) };
    }
  }

  /**
   * ORT's own per-node profile: a second session with enableProfiling, one warm pass and
   * `passes` more, then endProfiling (ORT writes the events to the console, where Node reads them).
   */
  async ortProfile(onnxPath: string, side: Side, passes = 5): Promise<{ ok: true } | { error: string }> {
    try {
      if (!this.ort) throw new Error('ORT did not load');
      const onnx = await fetchBytes(onnxPath);
      const s = await this.ort.InferenceSession.create(onnx, { executionProviders: [side === 'gpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all', enableProfiling: true });
      const feeds = () => ({ [s.inputNames[0]]: new this.ort!.Tensor('float32', this.input, this.inputShape) });
      for (let i = 0; i <= passes; i++) await s.run(feeds());
      s.endProfiling?.();
      await s.release();
      return { ok: true };
    } catch (e) {
      return { error: message(e) };
    }
  }

  async teardown(): Promise<void> {
    try {
      this.ours?.destroy();
    } catch {
      /* the page closes next */
    }
    await this.ortSession?.release().catch(() => undefined);
    this.device?.destroy();
    this.ours = undefined;
    this.ortSession = undefined;
    this.device = undefined;
  }
}

(globalThis as unknown as { race: RacePage }).race = new RacePage();
export type { RacePage };
