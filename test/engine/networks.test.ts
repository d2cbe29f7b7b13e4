/**
 * Whole example networks on both engines: the WebGPU output against the CPU reference, with
 * random weights and batch-norm statistics. Small inputs keep SwiftShader quick; the kernels see
 * every layer kind and merge of the examples all the same.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { createCpuSession, createWebGpuSession, type InferenceSession, type Model } from '../../src/engine/session';
import { tensor } from '../../src/engine/tensor';
import { expectClose, randomTensor, randomWeights, rng } from './helpers';
import { testGpu } from './gpu-device';

function model(file: string, inputShape: number[], seed: number): Model {
  const a = analyzeText(readFileSync(file, 'utf8'), { inputShape });
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const net = a.networks[0];
  return { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights: randomWeights(net.tensors, rng(seed)) };
}

const sessions: InferenceSession[] = [];
afterAll(() => sessions.forEach((s) => s.destroy()));

const cases: [string, number[], number][] = [
  ['examples/resnet18.cnn', [3, 32, 32], 1],
  ['examples/googlenet.cnn', [3, 32, 32], 1],
  ['examples/cifar.cnn', [3, 32, 32], 2],
  ['examples/resnext50_32x4d.cnn', [3, 16, 16], 1],
];

describe('example networks end to end', () => {
  for (const [file, shape, batch] of cases) {
    it(`${file} at ${shape.join('x')}, batch ${batch}: CPU session = forwardCpu; WebGPU within 1e-4`, async () => {
      const m = model(file, shape, 11);
      const x = randomTensor([batch, ...shape], rng(5));
      const ref = forwardCpu(m.graph, m.weights, m.tensors, tensor(x.shape, x.data)).output.data;
      const cpu = createCpuSession(m, batch);
      expect(await cpu.run(x.data)).toEqual(ref);
      const gpu = await testGpu();
      if (!gpu) return;
      const s = await createWebGpuSession(gpu.device, gpu.adapterName, m, batch, { convAlgorithm: gpu.software ? 'direct' : 'auto' });
      sessions.push(s);
      expectClose(await s.run(x.data), ref, 1e-4, file);
    });
  }
});
