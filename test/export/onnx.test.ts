/**
 * The ONNX export run in onnxruntime-node against our CPU reference: example networks at small
 * inputs, the trained Fashion-MNIST network with its weights, and one network per layer kind
 * (test/export/zoo.cnn), each at batch 2 through the symbolic batch dimension.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { exportOnnx } from '../../src/export/onnx';
import { expectClose } from '../engine/helpers';
import { makeCase, networks, relativeError, ROOT, ZOO, type Case } from './helpers';

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function runOnnx(c: Case): Promise<Float32Array[]> {
  const bytes = exportOnnx(c.net, c.weights);
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  sessions.push(s);
  const outNames = ['output', ...c.net.graph.auxOutputs.map((_, i) => `aux${i + 1}`)];
  expect(s.inputNames).toEqual(['input']);
  expect(s.outputNames).toEqual(outNames);
  const r = await s.run({ input: new ort.Tensor('float32', c.x.data, c.x.shape) });
  return outNames.map((n, i) => {
    const t = r[n];
    expect(t.dims[0]).toBe(c.x.shape[0]);
    expect(t.dims.slice(1)).toEqual(c.net.layers[[c.net.graph.output, ...c.net.graph.auxOutputs][i]].shape);
    return t.data as Float32Array;
  });
}

async function check(c: Case, what: string): Promise<number> {
  const got = await runOnnx(c);
  let worst = 0;
  got.forEach((g, i) => {
    expectClose(g, c.expected[i], 1e-4, `${what} output ${i}`);
    worst = Math.max(worst, relativeError(g, c.expected[i]).rel);
  });
  return worst;
}

describe('ONNX export in onnxruntime against the CPU reference', () => {
  for (const [file, shape] of [
    ['examples/resnet18.cnn', [3, 64, 64]],
    ['examples/googlenet.cnn', [3, 64, 64]],
  ] as const) {
    it(`${file} at ${shape.join('x')}, batch 2`, async () => {
      const [net] = networks(join(ROOT, file), [...shape]);
      const rel = await check(makeCase(net), file);
      expect(rel).toBeLessThan(1e-4);
    });
  }

  const FASHION = join(ROOT, 'examples/fashion-mnist');
  it.skipIf(!existsSync(join(FASHION, 'fashion.safetensors')))('the trained Fashion-MNIST network with its weights', async () => {
    const [net] = networks(join(FASHION, 'fashion.cnn'));
    const weights = loadSafetensorsWeights(readFileSync(join(FASHION, 'fashion.safetensors')), net.tensors);
    await check(makeCase(net, { batch: 4, weights, range: [0, 1] }), 'fashion');
  });

  for (const net of networks(ZOO)) {
    it(`zoo: ${net.graph.network}`, async () => {
      await check(makeCase(net, { seed: 11 }), net.graph.network);
    });
  }
});
