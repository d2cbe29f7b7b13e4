/** `cnn grad`: one batch's loss and the gradient of every parameter, the contract the training tests check against PyTorch. */
import { writeFileSync } from 'node:fs';
import type { NetworkAnalysis } from '../../analysis';
import { readNpy } from '../../engine/input/npy';
import { tensor, type Tensor } from '../../engine/tensor';
import { lossAndGradients, DEFAULT_AUX_WEIGHT } from '../../engine/train/backprop';
import { GpuTrainer } from '../../engine/train/gpu-pass';
import { readTargetNpy } from '../../engine/train/targets';
import { saveSafetensorsWeights } from '../../engine/weights/load';
import { CliError, onlyFile, UsageError, type Command } from '../command';
import { STDIN, writeErrorReason } from '../load';
import { loadWeights, modelOptions, planModel, readBytes } from './model';
import { trainingGpu } from './train-gpu';
import { checkTrainingBudget, clashingOutput, numberOption, trainBackend } from './train-options';

/** The batch in an .npy of the input's shape with a leading batch, or of the input's shape alone (a batch of one). */
export function batchOf(file: string, bytes: Uint8Array, inShape: readonly number[]): Tensor {
  let arr: ReturnType<typeof readNpy>;
  try {
    arr = readNpy(bytes);
  } catch (e) {
    throw new CliError(`input ${file}: ${(e as Error).message}`);
  }
  const same = (a: readonly number[]) => a.length === inShape.length && a.every((d, i) => d === inShape[i]);
  if (same(arr.shape)) return tensor([1, ...inShape], arr.data);
  if (arr.shape.length === inShape.length + 1 && same(arr.shape.slice(1)) && arr.shape[0] > 0) return tensor(arr.shape, arr.data);
  throw new CliError(`input ${file}: the array is (${arr.shape.join(', ')}); the network takes (B, ${inShape.join(', ')}) or (${inShape.join(', ')})`);
}

function targetOf(file: string, bytes: Uint8Array, batch: number, net: NetworkAnalysis): Float32Array {
  let arr: ReturnType<typeof readTargetNpy>;
  try {
    arr = readTargetNpy(bytes);
  } catch (e) {
    throw new CliError(`target ${file}: ${(e as Error).message}`);
  }
  const out = net.output as number[];
  if (out.length !== 1) throw new CliError(`the network's output is [${out.join(', ')}] per sample: cross-entropy needs a flat vector of class scores`);
  if (arr.data.length !== batch || arr.shape.length > 1) throw new CliError(`target ${file}: the array is (${arr.shape.join(', ')}); give one class label per sample, (${batch},)`);
  for (let i = 0; i < batch; i++) {
    const y = arr.data[i];
    if (!Number.isInteger(y) || y < 0 || y >= out[0]) throw new CliError(`target ${file}: label ${i} is ${y}; a class is an integer from 0 to ${out[0] - 1}`);
  }
  return arr.data;
}

export const gradCommand: Command = {
  summary: "one batch's mean cross-entropy and the gradient of every parameter",
  usage:
    'cnn grad FILE --input X.npy --target Y.npy --out G.safetensors [--weights W.safetensors] [--mode train|eval] [--backend cpu|reference|webgpu] [--label-smoothing E] [--aux-weight W] [--json] [--seed N] [--network NAME] [--shape CxHxW] [--memory-limit SIZE]',
  options: {
    ...modelOptions,
    input: { type: 'string', value: 'X.npy', help: 'the batch: float32 .npy of shape (B, ...input) or (...input) for one sample' },
    target: { type: 'string', value: 'Y.npy', help: 'one class label per sample, (B,), any integer or float dtype' },
    out: { type: 'string', value: 'G.safetensors', help: "write every parameter's gradient under its cnn params name" },
    mode: { type: 'string', value: 'train|eval', help: 'train (default): batch statistics in bn, dropout masks from --seed; eval: running statistics, no dropout' },
    backend: { type: 'string', value: 'cpu|reference|webgpu', help: 'the engine: cpu is the fast training path (WebAssembly SIMD kernels where they exist), reference the CPU reference alone (the oracle, slow), webgpu the GPU' },
    'label-smoothing': { type: 'string', value: 'E', help: "cross-entropy's label smoothing, as PyTorch's (default 0)" },
    'aux-weight': { type: 'string', value: 'W', help: `how much each aux head's loss counts (default ${DEFAULT_AUX_WEIGHT})` },
    json: { type: 'boolean', help: 'print {"loss": ...} and the details as JSON' },
  },
  async run({ values, positionals }, io) {
    const file = onlyFile(positionals, 'grad', gradCommand.usage, 'one network file');
    const inputFile = values.input as string | undefined;
    const targetFile = values.target as string | undefined;
    const outFile = values.out as string | undefined;
    if (inputFile === undefined) throw new UsageError('grad needs --input X.npy');
    if (targetFile === undefined) throw new UsageError('grad needs --target Y.npy (one class label per sample)');
    if (outFile === undefined) throw new UsageError('grad needs --out G.safetensors for the gradients');
    const mode = (values.mode as string | undefined) ?? 'train';
    if (mode !== 'train' && mode !== 'eval') throw new UsageError(`--mode ${mode}: choose train or eval`);
    const backend = trainBackend(values.backend);
    const labelSmoothing = numberOption(values, 'label-smoothing', 0, 0, 1);
    const auxWeight = numberOption(values, 'aux-weight', DEFAULT_AUX_WEIGHT, 0, Infinity);
    if (file === STDIN) throw new UsageError('grad reads the network from a file; - (standard input) is for check, analyze and params');
    const clash = clashingOutput(outFile, { 'the network file': file, 'the input file': inputFile, 'the target file': targetFile, 'the weights file': values.weights as string | undefined });
    if (clash) throw new CliError(`--out ${outFile}: that is ${clash}; give another name`);

    const inputBytes = readBytes(inputFile, 'input');
    const targetBytes = readBytes(targetFile, 'target');
    // The batch's size is known before the network is planned, so the budget counts all of it.
    const batchGuess = Math.max(1, readNpyBatch(inputBytes));
    const plan = planModel(file, values, 'run', batchGuess, io);
    const x = batchOf(inputFile, inputBytes, plan.net.input as number[]);
    checkTrainingBudget(plan.net, x.shape[0], plan.budget, 0, 0);
    const target = targetOf(targetFile, targetBytes, x.shape[0], plan.net);
    const { model, weightsSource } = loadWeights(plan, values);
    const seed = Number(values.seed ?? 0);
    let result: ReturnType<typeof lossAndGradients>;
    const passOptions = { mode, loss: { kind: 'cross-entropy', labelSmoothing }, auxWeight, seed, step: 0, kernels: backend === 'reference' ? 'reference' : 'fast' } as const;
    const gpu = backend === 'webgpu' ? await trainingGpu() : undefined;
    try {
      if (gpu) {
        const trainer = await GpuTrainer.create(gpu.device, model.graph, model.tensors, x.shape[0], mode);
        result = await trainer.pass(model.weights, x, target, passOptions);
        trainer.destroy();
      } else {
        result = lossAndGradients(model.graph, model.weights, model.tensors, x, target, passOptions);
      }
    } catch (e) {
      throw new CliError((e as Error).message.split('\n')[0]);
    } finally {
      gpu?.device.destroy();
    }
    const params = model.tensors.filter((t) => t.kind === 'param');
    try {
      writeFileSync(outFile, saveSafetensorsWeights(params, result.grads, { loss: String(result.loss), mode }));
    } catch (e) {
      throw new CliError(`--out ${outFile}: cannot write (${writeErrorReason(e)})`);
    }
    if (values.json) {
      io.out(JSON.stringify({ loss: result.loss, mainLoss: result.mainLoss, auxLosses: result.auxLosses, batch: x.shape[0], mode, backend, params: params.length, out: outFile }));
      return 0;
    }
    const aux = result.auxLosses.length ? ` (main ${result.mainLoss.toPrecision(7)}, aux ${result.auxLosses.map((l) => l.toPrecision(5)).join(', ')} × ${auxWeight})` : '';
    io.out(`${plan.net.graph.network}, weights: ${weightsSource}, batch ${x.shape[0]}, ${mode} mode, ${gpu ? `webgpu (${gpu.adapterName})` : backend}`);
    io.out(`loss ${result.loss.toPrecision(7)}${aux}`);
    io.out(`wrote the gradients of ${params.length} parameters to ${outFile}`);
    return 0;
  },
};

/** The leading dimension of an .npy's shape (0 when unreadable: the real read reports it). */
function readNpyBatch(bytes: Uint8Array): number {
  try {
    return readNpy(bytes).shape[0] ?? 1;
  } catch {
    return 0;
  }
}
