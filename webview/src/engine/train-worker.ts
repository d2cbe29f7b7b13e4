/**
 * The training worker: runs `Trainer` (src/engine/train/loop.ts) off the panel's thread, its
 * passes on WebGPU (gpu-pass.ts) where a hardware adapter exists, else on the CPU engine's fast
 * training path, one message per step and per epoch, and answers pause, resume
 * and stop between batches. Its own worker, not the engine's: a run takes minutes, and Run and
 * Benchmark keep working meanwhile.
 */
import { defaultNormalization, preprocessImage } from '../../../src/engine/input/preprocess';
import { arrayDataset, byteImageDataset, IdxError, parseIdx, type Dataset } from '../../../src/engine/train/dataset';
import { lossAndGradients } from '../../../src/engine/train/backprop';
import { gpuTrainPass } from '../../../src/engine/train/gpu-pass';
import { Trainer, type TrainPass } from '../../../src/engine/train/loop';
import type { OptimizerConfig } from '../../../src/engine/train/optim';
import { initWeights } from '../../../src/engine/weights/init';
import { adapterName, isSoftwareAdapter } from '../../../src/engine/webgpu/adapter';
import { loadSafetensorsWeights, saveSafetensorsWeights } from '../../../src/engine/weights/load';
import type { IdxPair, ImageSample, TrainBackend, TrainData } from '../protocol';
import type { ModelData, TrainIn, TrainOut, TrainRunConfig } from './messages';

interface WorkerScope {
  postMessage(m: TrainOut, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<TrainIn>) => void) | null;
}

const scope = self as unknown as WorkerScope;

/** Where the passes run, as the 'started' message names it; `release` frees the GPU's part. */
interface Engine {
  pass?: TrainPass;
  on: string;
  release(): void;
}

const CPU_ENGINE = (why: string): Engine => ({ on: `the CPU engine${why ? `: ${why}` : ''}`, release() {} });

/**
 * The engine for a choice. Auto takes WebGPU only on a hardware adapter: on a software one
 * (SwiftShader) WebGPU runs emulated on the CPU, slower than the CPU engine, so it is used only
 * when chosen. An explicit WebGPU without an adapter is an error, auto's is the CPU with why.
 */
async function engineFor(choice: TrainBackend): Promise<Engine> {
  if (choice === 'cpu') return CPU_ENGINE('');
  const auto = choice === 'auto';
  const none = (why: string): Engine => {
    if (auto) return CPU_ENGINE(`no hardware WebGPU adapter (${why})`);
    throw new Error(`training on WebGPU: ${why}; choose CPU or Auto`);
  };
  const gpu = (self as unknown as { navigator: { gpu?: GPU } }).navigator.gpu;
  if (!gpu) return none('navigator.gpu is missing: WebGPU is turned off in this webview');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return none(`requestAdapter() failed: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!adapter) return none('requestAdapter() returned none');
  const name = adapterName(adapter);
  const software = isSoftwareAdapter(adapter);
  if (software && auto) return CPU_ENGINE(`no hardware WebGPU adapter (${name} is a software adapter, slower than the CPU engine; choose WebGPU to use it anyway)`);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      },
    });
  } catch (e) {
    return none(`requestDevice() on ${name} failed: ${(e as Error).message.split('\n')[0]}`);
  }
  let gpuPass: ReturnType<typeof gpuTrainPass> | undefined = gpuTrainPass(device);
  const release = () => {
    gpuPass?.destroy();
    gpuPass = undefined;
    device.destroy();
  };
  let passed = false;
  const engine: Engine = {
    on: `WebGPU (${name})${software ? ': a software adapter, much slower than the CPU engine' : ''}`,
    release,
    pass: async (graph, weights, tensors, x, y, opts) => {
      if (gpuPass) {
        try {
          const r = await gpuPass.pass(graph, weights, tensors, x, y, opts);
          passed = true;
          return r;
        } catch (e) {
          // A first pass that fails (a network GpuTrainer cannot build) has changed nothing: auto goes on on the CPU, and says why.
          const why = (e as Error).message.split('\n')[0];
          if (passed) throw e;
          if (!auto) throw new Error(`WebGPU (${name}): ${why}; choose CPU or Auto to train it on the CPU engine`);
          release();
          engine.on = `the CPU engine: WebGPU (${name}) cannot train this network: ${why}`;
          post({ event: 'engine', on: engine.on });
        }
      }
      return lossAndGradients(graph, weights, tensors, x, y, opts);
    },
  };
  return engine;
}

let paused: (() => void) | undefined;
let pausing = false;
let stopping = false;
let running: { trainer: Trainer; tensors: ModelData['tensors']; seed: number; epoch: number; batch: number; weights: Map<string, Float32Array> } | undefined;

function post(m: TrainOut): void {
  const transfer = 'weights' in m && m.weights ? [m.weights.buffer as ArrayBuffer] : [];
  scope.postMessage(m, transfer);
}

function idxDataset(pair: IdxPair, what: string, shape: number[], classes: number): Dataset {
  return byteImageDataset(parseIdx(pair.images, `${what} images`), parseIdx(pair.labels, `${what} labels`), shape, classes);
}

/** Image files decoded as Run decodes them (createImageBitmap, no colour conversion) and preprocessed as `cnn run` does. */
async function imageDataset(samples: ImageSample[], shape: number[], classes: number): Promise<Dataset> {
  const [channels, height, width] = shape;
  const size = channels * height * width;
  const data = new Float32Array(samples.length * size);
  const normalization = defaultNormalization(channels);
  for (const [i, s] of samples.entries()) {
    let bmp: ImageBitmap;
    try {
      bmp = await createImageBitmap(new Blob([s.bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch {
      throw new Error(`${s.name}: cannot decode the image (PNG and JPEG work)`);
    }
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height);
    data.set(preprocessImage({ width: px.width, height: px.height, data: px.data }, { channels, height, width, normalization }), i * size);
  }
  return arrayDataset(data, samples.map((s) => s.label), shape, classes);
}

async function datasets(data: TrainData, shape: number[], classes: number): Promise<{ train: Dataset; test: Dataset | null }> {
  if (data.kind === 'idx') return { train: idxDataset(data.train, 'training', shape, classes), test: data.test ? idxDataset(data.test, 'test', shape, classes) : null };
  if (data.classes.length !== classes) throw new Error(`${data.source}: train/ has ${data.classes.length} class folders; the network's output has ${classes} classes`);
  return { train: await imageDataset(data.train, shape, classes), test: data.test?.length ? await imageDataset(data.test, shape, classes) : null };
}

function optimizerOf(c: TrainRunConfig): OptimizerConfig {
  // `cnn train`'s defaults: SGD with momentum 0.9, Adam and AdamW as torch.optim's.
  return c.optimizer === 'sgd' ? { kind: 'sgd', lr: c.lr, momentum: 0.9 } : { kind: c.optimizer, lr: c.lr };
}

const copy = (w: Map<string, Float32Array>) => new Map([...w].map(([k, v]) => [k, Float32Array.from(v)]));

async function start(m: Extract<TrainIn, { op: 'start' }>): Promise<void> {
  const { graph, shapes, tensors } = m.model;
  const input = m.input;
  const out = shapes[graph.output];
  if (out.length !== 1) throw new Error(`the network's output is ${out.join('×')} per sample: training with cross-entropy needs a flat vector of class scores`);
  const { train, test } = await datasets(m.data, input, out[0]);
  const weights = m.weights ? loadSafetensorsWeights(m.weights, tensors) : initWeights(tensors, m.config.seed);
  const engine = await engineFor(m.config.backend);
  try {
    await trainOn(m, engine, train, test, weights);
  } finally {
    engine.release();
  }
}

async function trainOn(m: Extract<TrainIn, { op: 'start' }>, engine: Engine, train: Dataset, test: Dataset | null, weights: Map<string, Float32Array>): Promise<void> {
  const { graph, tensors } = m.model;
  const { epochs, batch, seed } = m.config;
  const trainer = new Trainer(graph, tensors, weights, { epochs, batch, optimizer: optimizerOf(m.config), schedule: { kind: 'constant' }, seed, loss: { kind: 'cross-entropy' }, pass: engine.pass });
  running = { trainer, tensors, seed, epoch: 1, batch: 0, weights };
  const usable = train.count % batch === 1 && train.count > 1 ? train.count - 1 : train.count;
  post({ event: 'started', train: train.count, test: test?.count ?? 0, batches: Math.ceil(usable / batch), on: engine.on });
  let saved: Map<string, Float32Array> | null = null;
  let step = 0;
  let stoppedAt: { epoch: number; batch: number; batches: number } | undefined;
  for (let e = 0; e < epochs && !stopping; e++) {
    let prev = { loss: 0, correct: 0, samples: 0 };
    let last = { epoch: e + 1, batch: 0, batches: 0 };
    const report = await trainer.epoch(train, test, {
      between: async () => {
        // A macrotask turn: pause and stop arrive here.
        await new Promise((r) => setTimeout(r, 0));
        if (pausing && !stopping) {
          post({ event: 'paused' });
          await new Promise<void>((r) => (paused = r));
          if (!stopping) post({ event: 'resumed' });
        }
      },
      stopped: () => stopping,
      onBatch: (p) => {
        step++;
        // The epoch's running means give this batch's own figures.
        const n = p.samples - prev.samples;
        const lossSum = p.loss * p.samples;
        const correct = Math.round(p.accuracy * p.samples);
        const s = { epoch: p.epoch, batch: p.batch, batches: p.batches, step, loss: (lossSum - prev.loss) / n, accuracy: (correct - prev.correct) / n, epochLoss: p.loss, epochAccuracy: p.accuracy, samplesPerSecond: p.samplesPerSecond };
        prev = { loss: lossSum, correct, samples: p.samples };
        last = { epoch: p.epoch, batch: p.batch, batches: p.batches };
        running!.epoch = p.epoch;
        running!.batch = p.batch;
        post({ event: 'step', step: s });
        if (p.batch === p.batches && test) post({ event: 'testing', epoch: p.epoch });
      },
    });
    if (!report) {
      stoppedAt = last;
      break;
    }
    saved = copy(weights);
    post({ event: 'epoch', epoch: { epoch: report.epoch, step, loss: report.loss, trainAccuracy: report.trainAccuracy, testAccuracy: report.testAccuracy, seconds: report.seconds, samplesPerSecond: report.samplesPerSecond } });
  }
  const done = trainer.epochsDone;
  post({
    event: 'done',
    stopped: stopping,
    epochs: done,
    weights: saved ? saveSafetensorsWeights(tensors, saved, { epochs: String(done), seed: String(seed) }) : null,
    stoppedAt,
  });
}

scope.onmessage = (e) => {
  const m = e.data;
  switch (m.op) {
    case 'start':
      pausing = false;
      stopping = false;
      start(m).catch((err: unknown) => {
        const message = err instanceof IdxError || err instanceof Error ? err.message : String(err);
        post({ event: 'error', message: message.split('\n')[0] });
      });
      break;
    case 'pause':
      pausing = true;
      break;
    case 'resume':
      pausing = false;
      paused?.();
      paused = undefined;
      break;
    case 'stop':
      stopping = true;
      paused?.();
      paused = undefined;
      break;
    case 'current':
      if (running) {
        const { tensors, seed, epoch, batch, weights } = running;
        post({ event: 'current', weights: saveSafetensorsWeights(tensors, weights, { epochs: String(running.trainer.epochsDone), seed: String(seed), midEpoch: `${epoch}:${batch}` }), epoch, batch });
      }
      break;
  }
};
