/** Imports a small model and checks it against onnxruntime (batch 2); or checks the refusal's one line. */
import * as ort from 'onnxruntime-node';
import { afterAll, expect } from 'vitest';
import { importOnnx } from '../../src/import';
import { randomTensor, rng } from '../engine/helpers';
import { relativeError } from '../export/helpers';
import { analysed, forward, weightsOf } from './helpers';
import { buildModel, type ModelSpec } from './onnx-builder';

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function ortOutput(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  sessions.push(s);
  const r = await s.run({ input: new ort.Tensor('float32', x, shape) });
  return r[s.outputNames[0]].data as Float32Array;
}

/** Imports the model, checks the text, and runs both. */
export async function same(spec: ModelSpec, text: RegExp[]): Promise<string> {
  const bytes = buildModel(spec);
  const r = importOnnx(bytes, { name: 'T' });
  for (const re of text) expect(r.text).toMatch(re);
  const net = analysed(r.text);
  const shape = [2, ...(spec.input.slice(1) as number[])];
  const x = randomTensor(shape, rng(3)).data;
  const got = await forward(net, weightsOf(net, r.weights), x, 2);
  const want = await ortOutput(bytes, x, shape);
  expect(relativeError(got, want).rel).toBeLessThan(1e-4);
  return r.text;
}

export function refused(spec: ModelSpec, message: RegExp): void {
  const bytes = buildModel(spec);
  expect(() => importOnnx(bytes)).toThrow(message);
  try {
    importOnnx(bytes);
  } catch (e) {
    expect((e as Error).message.split('\n')).toHaveLength(1);
  }
}

