/** `cnn train`: trains a network on Fashion-MNIST or an image folder on the CPU reference, and saves its weights. */
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { DEFAULT_AUX_WEIGHT, lossAndGradients } from '../../engine/train/backprop';
import { gpuTrainPass } from '../../engine/train/gpu-pass';
import { Trainer, type EpochReport, type TrainPass } from '../../engine/train/loop';
import type { OptimizerConfig, OptimizerKind, Schedule } from '../../engine/train/optim';
import { saveSafetensorsWeights } from '../../engine/weights/load';
import { CliError, onlyFile, UsageError, type Command, type Io } from '../command';
import { STDIN, writeErrorReason } from '../load';
import { progressReporter } from './bench';
import { loadWeights, modelOptions, planModel } from './model';
import { intOption } from './options';
import { loadTrainData } from './train-data';
import { trainingGpu } from './train-gpu';
import { checkTrainingBudget, clashingOutput, numberOption, trainBackend } from './train-options';

const DEFAULT_LR: Record<OptimizerKind, number> = { sgd: 0.01, adam: 1e-3, adamw: 1e-3 };

/** The exit status after Ctrl-C, as a shell reports a process ended by SIGINT. */
export const INTERRUPTED = 130;

/** `--schedule constant|cosine|step:N[:G]` over `epochs`. */
export function parseSchedule(text: string | undefined, epochs: number): Schedule {
  if (text === undefined || text === 'constant') return { kind: 'constant' };
  if (text === 'cosine') return { kind: 'cosine', total: epochs };
  const m = /^step:(\d+)(?::([0-9.eE+-]+))?$/.exec(text);
  const every = m ? Number(m[1]) : NaN;
  const gamma = m?.[2] !== undefined ? Number(m[2]) : 0.1;
  if (!m || every < 1 || !Number.isFinite(gamma) || gamma <= 0) throw new UsageError(`--schedule ${text}: choose constant, cosine or step:N[:GAMMA] (the rate times GAMMA, 0.1 by default, every N epochs)`);
  return { kind: 'step', every, gamma };
}

function optimizerOf(values: Record<string, unknown>): OptimizerConfig {
  const kind = (values.optimizer as string | undefined) ?? 'adam';
  if (kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw new UsageError(`--optimizer ${kind}: choose sgd, adam or adamw`);
  const lr = numberOption(values, 'lr', DEFAULT_LR[kind], Number.MIN_VALUE, Infinity);
  const config: OptimizerConfig = { kind, lr };
  if (values['weight-decay'] !== undefined) config.weightDecay = numberOption(values, 'weight-decay', 0, 0, Infinity);
  if (kind === 'sgd') {
    config.momentum = numberOption(values, 'momentum', 0.9, 0, 1);
    config.nesterov = Boolean(values.nesterov);
    if (config.nesterov && !config.momentum) throw new UsageError('--nesterov needs a --momentum above 0');
  } else if (values.momentum !== undefined || values.nesterov) {
    throw new UsageError(`--momentum and --nesterov are for --optimizer sgd; ${kind} keeps its own moments`);
  }
  return config;
}

function epochLine(r: EpochReport, epochs: number): string {
  const test = r.testAccuracy === null ? '' : `, test accuracy ${(100 * r.testAccuracy).toFixed(2)}%`;
  return `epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, train accuracy ${(100 * r.trainAccuracy).toFixed(2)}%${test}, ${r.seconds.toFixed(1)} s, ${r.samplesPerSecond.toFixed(1)} samples/s`;
}

/** Ctrl-C while training: remembered, and acted on between batches. */
function interruptFlag(io: Io): { stopped(): boolean; dispose(): void } {
  let stopped = false;
  const onSigint = () => {
    if (stopped) process.exit(INTERRUPTED);
    stopped = true;
    io.err('cnn train: interrupted; saving the last finished epoch (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  return { stopped: () => stopped, dispose: () => process.off('SIGINT', onSigint) };
}

export const trainCommand: Command = {
  summary: 'train the network on Fashion-MNIST or an image folder (CPU reference) and save its weights',
  usage:
    'cnn train FILE --data fashion-mnist|DIR [--epochs N] [--batch B] [--lr LR] [--optimizer sgd|adam|adamw] [--momentum M] [--nesterov] [--weight-decay WD] [--schedule constant|cosine|step:N:G] [--label-smoothing E] [--aux-weight W] [--limit N] [--seed N] [--weights START.safetensors] [--out W.safetensors] [--json] [--backend cpu|reference|webgpu] [--network NAME] [--shape CxHxW] [--memory-limit SIZE]',
  options: {
    ...modelOptions,
    weights: { type: 'string', value: 'START.safetensors', help: 'start from these weights (default: seeded He initialisation from --seed)' },
    seed: { type: 'string', value: 'N', help: 'the seed of the initialisation, the shuffles and the dropout masks (default 0): the same seed gives the same weights' },
    data: { type: 'string', value: 'fashion-mnist|DIR', help: "fashion-mnist (Debian's dataset-fashion-mnist), a directory of its IDX files, or an image folder DIR/train/CLASS/*.png with DIR/val/" },
    epochs: { type: 'string', value: 'N', help: 'passes over the training set (default 1)' },
    batch: { type: 'string', value: 'B', help: 'samples per step (default 32)' },
    lr: { type: 'string', value: 'LR', help: 'the learning rate (default 0.01 for sgd, 0.001 for adam and adamw)' },
    optimizer: { type: 'string', value: 'sgd|adam|adamw', help: 'the optimiser, as torch.optim defines it (default adam)' },
    momentum: { type: 'string', value: 'M', help: "sgd's momentum (default 0.9)" },
    nesterov: { type: 'boolean', help: "sgd with Nesterov's momentum" },
    'weight-decay': { type: 'string', value: 'WD', help: "L2 decay for sgd and adam, decoupled for adamw (default 0; adamw's 0.01)" },
    schedule: { type: 'string', value: 'constant|cosine|step:N:G', help: 'the learning rate over the epochs: constant (default), cosine annealing to 0, or times G every N epochs (step:N alone: G = 0.1)' },
    'label-smoothing': { type: 'string', value: 'E', help: "cross-entropy's label smoothing (default 0)" },
    'aux-weight': { type: 'string', value: 'W', help: `how much each aux head's loss counts (default ${DEFAULT_AUX_WEIGHT})` },
    limit: { type: 'string', value: 'N', help: 'use only the first N training samples and at most N test samples' },
    out: { type: 'string', value: 'W.safetensors', help: 'where the weights go (default: FILE with .trained.safetensors for .cnn, beside it)' },
    json: { type: 'boolean', help: 'one JSON line per epoch: epoch, loss, trainAccuracy, testAccuracy, seconds, samplesPerSecond' },
    backend: { type: 'string', value: 'cpu|reference|webgpu', help: 'the engine of the training passes: cpu is the fast training path (WebAssembly SIMD kernels where they exist), reference the CPU reference alone (the oracle, slow), webgpu the GPU' },
  },
  async run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'train', trainCommand.usage, 'one network file');
    const data = values.data as string | undefined;
    if (data === undefined) throw new UsageError('train needs --data fashion-mnist or --data DIR');
    if (file === STDIN) throw new UsageError('train reads the network from a file; - (standard input) is for check, analyze and params');
    const epochs = intOption(values, 'epochs', 1, 1);
    const batch = intOption(values, 'batch', 32, 1);
    const limit = intOption(values, 'limit', Number.MAX_SAFE_INTEGER, 1);
    const seed = intOption(values, 'seed', 0, 0);
    const optimizer = optimizerOf(values);
    const schedule = parseSchedule(values.schedule as string | undefined, epochs);
    const labelSmoothing = numberOption(values, 'label-smoothing', 0, 0, 1);
    const auxWeight = numberOption(values, 'aux-weight', DEFAULT_AUX_WEIGHT, 0, Infinity);
    const backend = trainBackend(values.backend);
    const out = (values.out as string | undefined) ?? join(dirname(file), `${basename(file, extname(file) === '.cnn' ? '.cnn' : '')}.trained.safetensors`);
    const clash = clashingOutput(out, { 'the network file': file, 'the starting weights': values.weights as string | undefined });
    if (clash) throw new CliError(`--out ${out}: that is ${clash}; give another name`);

    const plan = planModel(file, values, 'run', batch, io);
    const { net } = plan;
    checkTrainingBudget(net, batch, plan.budget, optimizer.kind === 'sgd' ? (optimizer.momentum ? 1 : 0) : 2, 1);
    const outShape = net.output as number[];
    if (outShape.length !== 1) throw new CliError(`the network's output is [${outShape.join(', ')}] per sample: training with cross-entropy needs a flat vector of class scores`);
    const { train, test, source } = loadTrainData(data, net.input as number[], outShape[0], limit);
    const { model, weightsSource } = loadWeights(plan, values);
    const weights = new Map(model.weights);
    const gpu = backend === 'webgpu' ? await trainingGpu() : undefined;
    const gpuPass = gpu ? gpuTrainPass(gpu.device) : undefined;
    // `reference` is the oracle alone, without the fast path's kernels (slow; for checking them).
    const referencePass: TrainPass = (g, w, t, x, y, o) => lossAndGradients(g, w, t, x, y, { ...o, kernels: 'reference' });
    const trainer = new Trainer(model.graph, model.tensors, weights, { epochs, batch, optimizer, schedule, seed, loss: { kind: 'cross-entropy', labelSmoothing }, auxWeight, pass: gpuPass?.pass ?? (backend === 'reference' ? referencePass : undefined) });

    if (!values.json) io.out(`${net.graph.network} on ${source}: ${train.count} training, ${test?.count ?? 0} test samples; ${optimizer.kind} lr ${optimizer.lr}, batch ${batch}; weights: ${weightsSource}; ${gpu ? `webgpu (${gpu.adapterName})` : backend}`);
    const progress = progressReporter(io, false, { delayMs: 0 });
    const interrupt = interruptFlag(io);
    let saved: Map<string, Float32Array> | null = null;
    let finished = 0;
    try {
      for (let e = 0; e < epochs; e++) {
        const report = await trainer.epoch(train, test, {
          between: () => new Promise((resolve) => setImmediate(resolve)),
          stopped: interrupt.stopped,
          onBatch: (p) => progress.update(`train: epoch ${p.epoch}/${epochs}, batch ${p.batch}/${p.batches}, loss ${p.loss.toFixed(4)}, ${p.samplesPerSecond.toFixed(1)} samples/s`),
        });
        progress.done();
        if (!report) break;
        finished = report.epoch;
        saved = new Map([...weights].map(([k, v]) => [k, Float32Array.from(v)]));
        const { lr: _lr, ...line } = report;
        io.out(values.json ? JSON.stringify(line) : epochLine(report, epochs));
      }
    } catch (e) {
      // The WebGPU pass refuses a kind it has no backward for, by name and line.
      if (gpu) throw new CliError((e as Error).message.split('\n')[0]);
      throw e;
    } finally {
      interrupt.dispose();
      gpuPass?.destroy();
      gpu?.device.destroy();
    }
    if (saved) {
      try {
        writeFileSync(out, saveSafetensorsWeights(model.tensors, saved, { epochs: String(finished), seed: String(seed) }));
      } catch (e) {
        throw new CliError(`--out ${out}: cannot write (${writeErrorReason(e)})`);
      }
      if (!values.json) io.out(`wrote ${out} (after epoch ${finished})`);
    }
    if (interrupt.stopped()) {
      if (!saved) io.err('cnn train: interrupted before the first epoch finished; nothing saved');
      return INTERRUPTED;
    }
    return 0;
  },
};
