/**
 * WebGPU's training pass against the CPU reference (itself held to PyTorch's autograd by the
 * grad-*.test.ts suites): each case is a small network around one kind, run in eval and train
 * mode with the same weights, batch, target and dropout masks; the loss, the input's gradient,
 * every parameter's gradient and, in train mode, every running statistic after the step must
 * agree within 1e-4 of the reference's, relative to the tensor's largest value.
 */
import { describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../../src/analysis';
import type { PassMode } from '../../../src/engine/cpu/backward';
import { tensor } from '../../../src/engine/tensor';
import { lossAndGradients, type LossSpec, type PassResult } from '../../../src/engine/train/backprop';
import { GpuTrainer } from '../../../src/engine/train/gpu-pass';
import { testGpu } from '../gpu-device';
import { randomTensor, randomWeights, rng } from '../helpers';
import { relative, type GradCase } from './harness';

const SEED = 11;

export function parseCase(c: GradCase): NetworkAnalysis {
  const text = `network K {\n  input ${c.input.join('x')}\n  ${c.body.split('\n').join('\n  ')}\n}\n${c.blocks ? `${c.blocks}\n` : ''}`;
  const a = analyzeText(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${c.name}: ${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('; ')}`);
  return a.networks[0];
}

export interface Inputs {
  net: NetworkAnalysis;
  weights: Map<string, Float32Array>;
  x: ReturnType<typeof randomTensor>;
  target: Float32Array;
  loss: LossSpec;
}

export function inputsOf(c: GradCase, seed: number): Inputs {
  const net = parseCase(c);
  const weights = randomWeights(net.tensors, rng(seed));
  c.weights?.(net, weights);
  const batch = c.batch ?? 3;
  const range = c.range ?? [-1, 1];
  const x = randomTensor([batch, ...c.input], rng(seed + 1), range[0], range[1]);
  const outShape = net.layers[net.graph.output].shape!;
  const r = rng(seed + 2);
  const target = c.loss === 'mse' ? randomTensor([batch, ...outShape], r).data : Float32Array.from({ length: batch }, () => Math.floor(r() * outShape[0]));
  const loss: LossSpec = c.loss === 'mse' ? { kind: 'mse' } : { kind: 'cross-entropy', labelSmoothing: c.labelSmoothing };
  return { net, weights, x, target, loss };
}

export async function gpuPass(device: GPUDevice, inp: Inputs, mode: PassMode, auxWeight?: number): Promise<PassResult> {
  const t = await GpuTrainer.create(device, inp.net.graph, inp.net.tensors, inp.x.shape[0], mode);
  try {
    return await t.pass(inp.weights, tensor(inp.x.shape, inp.x.data), inp.target, { mode, loss: inp.loss, auxWeight, seed: SEED, step: 0 });
  } finally {
    t.destroy();
  }
}

export function expectClose(ours: PassResult, want: PassResult, net: NetworkAnalysis, mode: PassMode, tol: number): void {
  const rel = Math.abs(ours.loss - want.loss) / Math.max(Math.abs(want.loss), 1e-12);
  expect(rel, `loss ${ours.loss} against ${want.loss}`).toBeLessThanOrEqual(tol);
  const check = (a: Float32Array | undefined, b: Float32Array | undefined, what: string, floor = 0) => {
    expect(a, `${what}: ours is missing`).toBeDefined();
    expect(b, `${what}: the reference's is missing`).toBeDefined();
    const r = relative(a!, b!, floor);
    expect(r, `${what}: relative error ${r.toExponential(2)} over ${tol}`).toBeLessThanOrEqual(tol);
  };
  check(ours.inputGrad.data, want.inputGrad.data, 'input gradient');
  let largest = 0;
  for (const g of want.grads.values()) for (const v of g) largest = Math.max(largest, Math.abs(v));
  for (const t of net.tensors) {
    if (t.kind === 'param') {
      const a = ours.grads.get(t.name);
      const b = want.grads.get(t.name);
      let top = 0;
      for (const v of b ?? []) top = Math.max(top, Math.abs(v));
      // A gradient that is zero in exact arithmetic (a bias before a train-mode bn) is float32 noise
      // on both sides: there the difference is held within 1e-5 of the case's largest gradient.
      if (b && top < 1e-3 * largest) check(a, b, `gradient of ${t.name} (zero in exact arithmetic)`, (1e-5 / tol) * largest);
      else check(a, b, `gradient of ${t.name}`);
    }
    else if (mode === 'train') check(ours.buffers.get(t.name), want.buffers.get(t.name), `${t.name} after the step`);
  }
}

/** Declares one file of cases: each on WebGPU against the CPU reference, in both modes unless the case says. */
export function gpuSuite(title: string, cases: GradCase[]): void {
  describe(title, () => {
    let device: GPUDevice | undefined;
    it('has a WebGPU device (SwiftShader here)', async () => {
      device = (await testGpu())?.device;
    }, 120_000);
    cases.forEach((c, i) => {
      for (const mode of c.modes ?? (['eval', 'train'] as PassMode[])) {
        it(`${c.name} (${mode}): WebGPU equals the CPU reference`, async () => {
          device ??= (await testGpu())?.device;
          if (!device) return;
          const inp = inputsOf(c, 300 + i);
          const want = lossAndGradients(inp.net.graph, inp.weights, inp.net.tensors, tensor(inp.x.shape, inp.x.data), inp.target, {
            mode,
            loss: inp.loss,
            auxWeight: c.auxWeight,
            seed: SEED,
            step: 0,
            kernels: 'reference',
          });
          const ours = await gpuPass(device, inp, mode, c.auxWeight);
          expectClose(ours, want, inp.net, mode, c.tolerance ?? 1e-4);
        }, 300_000);
      }
    });
  });
}
