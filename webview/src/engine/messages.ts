/** Requests and replies between the panel and the engine worker (webview/src/engine/worker.ts). */
import type { ParamTensor } from '../../../src/analysis/types';
import type { BackendKind, LayerTime } from '../../../src/engine/session';
import type { ErfResult } from '../../../src/engine/train/erf';
import type { Graph } from '../../../src/graph/types';
import type { RgbaPixels } from '../../../src/engine/input/preprocess';
import type { TrainBackend, TrainData } from '../protocol';

export type { BackendKind, LayerTime };

export interface ModelData {
  graph: Graph;
  shapes: number[][];
  tensors: ParamTensor[];
}

export interface GpuProbe {
  /** 'ok': a hardware adapter; 'software': a fallback adapter such as SwiftShader; the rest: no WebGPU. */
  status: 'ok' | 'software' | 'missing' | 'no-adapter' | 'error';
  adapter?: string;
  /** Why there is no (fast) WebGPU, in a sentence. */
  reason?: string;
}

export type EngineRequest =
  | { op: 'probe' }
  /** Makes the network current; `weights` null: the seeded default (He normal, seed 0). */
  | { op: 'load'; key: string; model: ModelData; weights: Uint8Array | null }
  | { op: 'run'; backend: BackendKind; pixels: RgbaPixels; channels: number; height: number; width: number }
  /** A node's output from the last run. */
  | { op: 'features'; node: number }
  /** Timed passes per backend; past `askAboveMs` of estimated time after the first pass, the panel is asked whether to go on. */
  | { op: 'bench'; backends: BackendKind[]; iterations: number; warmup: number; askAboveMs: number }
  /** The effective receptive field of a node's centre unit (src/engine/train/erf.ts), with the loaded weights. */
  | ErfRequest;

/** `source` 'noise': `count` seeded standard-normal inputs; 'image': the last run's input, as the network saw it. */
export interface ErfRequest {
  op: 'erf';
  node: number;
  /** One channel's centre unit; absent: every channel's (the gradient of their sum). */
  channel?: number;
  source: 'noise' | 'image';
  count: number;
  seed?: number;
}

/** The engine's map (src/engine/train/erf.ts) as the worker posts it. */
export interface ErfMapResult extends Omit<ErfResult, 'path'> {
  /** The load key of the network and weights it was computed with. */
  key: string;
  source: 'noise' | 'image';
  max: number;
  ms: number;
}

export interface RunResult {
  backend: BackendKind;
  adapter: string;
  /** The preprocessed input, [C, H, W]: what the network sees. */
  input: Float32Array;
  output: Float32Array;
  ms: number;
}

export interface FeatureResult {
  node: number;
  shape: number[];
  data: Float32Array;
}

export interface BenchBackendResult {
  backend: BackendKind;
  adapter: string;
  /** Wall time of each timed forward pass (input upload to output read back), ms. */
  times: number[];
  /** Per layer (or fused step): the mean over `layerPasses` passes. */
  layers: LayerTime[];
  /** How the per-layer times were taken. */
  method: string;
  /** Passes the per-layer times are means of. */
  layerPasses: number;
  /** The finest step of the clock the times come from, ms (performance.now() is coarsened where the page is not cross-origin isolated). */
  clockMs: number;
  /** Warm-ups run, the first pass included. */
  warmups: number;
  /** Cancelled before its runs were done: `times` has those that were. */
  partial?: boolean;
}

export interface BenchResult {
  results: BenchBackendResult[];
  cancelled: boolean;
}

/** After a backend's first pass: what the rest would take. */
export interface BenchEstimate {
  backend: BackendKind;
  /** The first pass, ms (it includes one-time costs: a high estimate). */
  firstPassMs: number;
  /** Warm-ups and runs still to go. */
  warmupLeft: number;
  iterations: number;
  estimateMs: number;
}

export type BenchDecision = { go: 'continue' } | { go: 'fewer'; warmupLeft: number; iterations: number } | { go: 'cancel' };

export interface Progress {
  /** Of `total`, in passes; a backend's setup counts as one. */
  done: number;
  total: number;
  label: string;
  /** Set when the worker waits for the panel's decision (answered with WorkerIn `answer`). */
  ask?: BenchEstimate;
}

/** Panel → worker. */
export type WorkerIn = { id: number; req: EngineRequest } | { cancel: number } | { answer: number; decision: BenchDecision };

/** Worker → panel. */
export type WorkerOut =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { id: number; progress: Progress }
  | { event: 'device-lost'; message: string };

// ---- the training worker (webview/src/engine/train-worker.ts) --------------------------------

/** How a training run goes: `cnn train`'s options that the Train tab offers. */
export interface TrainRunConfig {
  epochs: number;
  batch: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  seed: number;
  /** Where the passes run: the CPU engine's fast training path, WebGPU's (gpu-pass.ts), or auto's pick (train-worker.ts). */
  backend: TrainBackend;
}

/** Panel → training worker. */
export type TrainIn =
  /** `weights` null: the seeded initialisation (He normal, from `config.seed`); the samples as the extension sent them. */
  | { op: 'start'; model: ModelData; input: number[]; weights: Uint8Array | null; data: TrainData; config: TrainRunConfig }
  | { op: 'pause' }
  | { op: 'resume' }
  /** Ends the run between batches; the epoch under way is dropped, as `cnn train` does on Ctrl-C. */
  | { op: 'stop' }
  /** The weights as they are now (mid-epoch), after a stop that finished no epoch. */
  | { op: 'current' };

/** One training step's figures: `loss` and `accuracy` are this batch's, the `epoch*` ones the epoch's so far. */
export interface TrainStep {
  epoch: number;
  batch: number;
  batches: number;
  /** Steps over the whole run so far. */
  step: number;
  loss: number;
  accuracy: number;
  epochLoss: number;
  epochAccuracy: number;
  samplesPerSecond: number;
}

export interface TrainEpoch {
  epoch: number;
  step: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy: number | null;
  seconds: number;
  samplesPerSecond: number;
}

/** Training worker → panel. */
export type TrainOut =
  /** `on`: the engine the passes run on, and why that one ("WebGPU (adapter)", "the CPU engine: …"). */
  | { event: 'started'; train: number; test: number; batches: number; on: string }
  /** Auto mode left WebGPU before its first pass ended (a kind it cannot train yet): the rest runs on the CPU engine. */
  | { event: 'engine'; on: string }
  | { event: 'step'; step: TrainStep }
  | { event: 'testing'; epoch: number }
  | { event: 'epoch'; epoch: TrainEpoch }
  | { event: 'paused' }
  | { event: 'resumed' }
  /** The run ended: `weights` (a safetensors file) hold `epochs` finished epochs, null when none finished. */
  | { event: 'done'; stopped: boolean; epochs: number; weights: Uint8Array | null; stoppedAt?: { epoch: number; batch: number; batches: number } }
  | { event: 'current'; weights: Uint8Array; epoch: number; batch: number }
  | { event: 'error'; message: string };
