/**
 * The training loop on the CPU reference: shuffled mini-batches, one training pass and one
 * optimiser step each, batch norms' running statistics carried over, and a test pass in eval
 * mode after every epoch. Everything random comes from the seed (the shuffle of each epoch,
 * dropout's masks by layer and step), so a run repeats bit for bit. Plain TypeScript: the CLI
 * and a worker drive it, and may stop it between batches.
 */
import type { ParamTensor } from '../../analysis/types';
import type { Graph } from '../../graph/types';
import { forwardCpu } from '../cpu/forward';
import { inferShapes } from '../shapes';
import { numel, tensor, type Tensor } from '../tensor';
import { createFastCpuSession, type FastCpuSession, WasmUnavailableError } from '../wasm/session';
import { mulberry32 } from '../weights/init';
import { lossAndGradients, type LossSpec, type PassOptions, type PassResult } from './backprop';
import type { Dataset } from './dataset';
import { learningRate, Optimizer, type OptimizerConfig, type Schedule } from './optim';

export interface TrainConfig {
  epochs: number;
  batch: number;
  optimizer: OptimizerConfig;
  /** Stepped once per epoch, as PyTorch's schedulers usually are. */
  schedule: Schedule;
  seed: number;
  loss?: LossSpec;
  auxWeight?: number;
  /**
   * The test pass on the fast CPU engine (WebAssembly, batch norms folded: eval mode), true by
   * default: about a hundred times the reference's speed, and the test set is large. False, or
   * no WebAssembly SIMD, runs it on the reference.
   */
  fastEval?: boolean;
  /** The training pass: the CPU's lossAndGradients by default; `cnn train --backend webgpu` gives WebGPU's (gpu-pass.ts). */
  pass?: TrainPass;
}

export type TrainPass = (graph: Graph, weights: ReadonlyMap<string, Float32Array>, tensors: readonly ParamTensor[], x: Tensor, y: Float32Array, opts: PassOptions) => PassResult | Promise<PassResult>;

export interface EpochReport {
  epoch: number;
  /** The mean training loss over the epoch's samples. */
  loss: number;
  /** Of the training batches as they were trained on (train mode), over the epoch. */
  trainAccuracy: number;
  /** In eval mode after the epoch; null without a test set. */
  testAccuracy: number | null;
  seconds: number;
  /** Training samples per second (the test pass not counted). */
  samplesPerSecond: number;
  lr: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  /** Mean over the epoch's samples so far, as `loss`. */
  loss: number;
  /** Training accuracy over the epoch's samples so far (train mode, as trained on). */
  accuracy: number;
  /** The epoch's samples so far. */
  samples: number;
  samplesPerSecond: number;
}

export interface TrainHooks {
  onBatch?(p: BatchProgress): void;
  /** Awaited between batches: where the caller's event loop runs (Ctrl-C, a pause). */
  between?(): Promise<void>;
  /** Checked between batches: true ends the run; the epoch under way is dropped. */
  stopped?(): boolean;
}

/** The index of the largest score of each row. */
function argmaxRows(data: Float32Array, rows: number): number[] {
  const k = data.length / rows;
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (data[r * k + c] > data[r * k + best]) best = c;
    return best;
  });
}

/** Fisher–Yates from the seed. */
export function shuffled(count: number, seed: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

export class Trainer {
  readonly optimizer: Optimizer;
  private step = 0;
  epochsDone = 0;

  constructor(
    readonly graph: Graph,
    readonly tensors: readonly ParamTensor[],
    /** Updated in place: parameters by the optimiser, buffers by the training passes. */
    readonly weights: Map<string, Float32Array>,
    readonly config: TrainConfig,
  ) {
    this.optimizer = new Optimizer(config.optimizer);
  }

  private gather(data: Dataset, order: ArrayLike<number>, from: number, to: number) {
    const size = numel(data.shape);
    const x = tensor([to - from, ...data.shape]);
    const y = new Float32Array(to - from);
    for (let k = from; k < to; k++) {
      data.read(order[k], x.data, (k - from) * size);
      y[k - from] = data.label(order[k]);
    }
    return { x, y };
  }

  /** One epoch over `train`, then the accuracy on `test`; null when stopped before its end. */
  async epoch(train: Dataset, test: Dataset | null, hooks: TrainHooks = {}): Promise<EpochReport | null> {
    const { batch, seed } = this.config;
    const epoch = this.epochsDone + 1;
    const lr = learningRate(this.config.optimizer.lr, this.config.schedule, this.epochsDone);
    const order = shuffled(train.count, (seed ^ Math.imul(epoch, 0x9e3779b1)) >>> 0);
    // A last batch of one sample is dropped: batch norm cannot take its statistics (PyTorch refuses it too).
    const usable = train.count % batch === 1 && train.count > 1 ? train.count - 1 : train.count;
    const batches = Math.ceil(usable / batch);
    const t0 = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      await hooks.between?.();
      if (hooks.stopped?.()) return null;
      const from = b * batch;
      const to = Math.min(from + batch, usable);
      const { x, y } = this.gather(train, order, from, to);
      const r = await (this.config.pass ?? lossAndGradients)(this.graph, this.weights, this.tensors, x, y, {
        mode: 'train',
        loss: this.config.loss ?? { kind: 'cross-entropy' },
        auxWeight: this.config.auxWeight,
        seed,
        step: this.step++,
      });
      this.optimizer.step(this.weights, r.grads, lr);
      for (const [name, v] of r.buffers) this.weights.set(name, v);
      const n = to - from;
      lossSum += r.mainLoss * n;
      seen += n;
      argmaxRows(r.output.data, n).forEach((p, i) => (correct += p === y[i] ? 1 : 0));
      hooks.onBatch?.({ epoch, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen, samples: seen, samplesPerSecond: seen / ((performance.now() - t0) / 1000) });
    }
    const seconds = (performance.now() - t0) / 1000;
    const testAccuracy = test ? await this.accuracy(test, hooks) : null;
    if (testAccuracy === undefined) return null;
    this.epochsDone = epoch;
    return { epoch, loss: lossSum / seen, trainAccuracy: correct / seen, testAccuracy, seconds, samplesPerSecond: seen / seconds, lr };
  }

  private async fastSession(batch: number): Promise<FastCpuSession | null> {
    if (this.config.fastEval === false) return null;
    try {
      return await createFastCpuSession({ graph: this.graph, shapes: inferShapes(this.graph), tensors: this.tensors, weights: this.weights }, batch);
    } catch (e) {
      if (e instanceof WasmUnavailableError) return null;
      throw e;
    }
  }

  /** The share of `data` classified right in eval mode; undefined when stopped. */
  async accuracy(data: Dataset, hooks: TrainHooks = {}, batch = 100): Promise<number | undefined> {
    const order = Uint32Array.from({ length: data.count }, (_, i) => i);
    const n = Math.min(batch, data.count);
    // Made anew for each test pass: the session packs the weights as they are now.
    const session = n ? await this.fastSession(n) : null;
    const classes = numel(inferShapes(this.graph)[this.graph.output]);
    let correct = 0;
    try {
      for (let from = 0; from < data.count; from += n) {
        await hooks.between?.();
        if (hooks.stopped?.()) return undefined;
        const to = Math.min(from + n, data.count);
        const { x, y } = this.gather(data, order, from, to);
        let out: Float32Array;
        if (session) {
          // The session's batch is fixed: a short last batch is padded with zeros, and only its rows are read.
          const full = new Float32Array(n * numel(data.shape));
          full.set(x.data);
          out = (await session.run(full)).subarray(0, (to - from) * classes);
        } else {
          out = forwardCpu(this.graph, this.weights, this.tensors, x).output.data;
        }
        argmaxRows(out, to - from).forEach((p, i) => (correct += p === y[i] ? 1 : 0));
      }
    } finally {
      session?.destroy();
    }
    return data.count ? correct / data.count : 0;
  }
}
