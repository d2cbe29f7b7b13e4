/**
 * The trained example (examples/fashion-mnist, made by scripts/train-fashion-mnist.py) classifies
 * Fashion-MNIST test images in our own engine: at least 90% of the first 1,000 on both backends,
 * and WebGPU gives exactly the CPU's predictions. Data: Debian's dataset-fashion-mnist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/analysis';
import { createCpuSession, createWebGpuSession, type InferenceSession, type Model } from '../../src/engine/session';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { testGpu } from './gpu-device';

const DATA = '/usr/share/datasets/fashion-mnist';
const IMAGES = `${DATA}/t10k-images-idx3-ubyte.gz`;
const LABELS = `${DATA}/t10k-labels-idx1-ubyte.gz`;
const EXAMPLE = 'examples/fashion-mnist';
const CPU_COUNT = 1000;
const GPU_COUNT = 1000;
/** Images per WebGPU run: SwiftShader is slow, so a few batches keep memory and time modest. */
const GPU_BATCH = 250;

/** IDX: a big-endian magic whose third byte is the type (0x08: unsigned byte) and fourth the rank, the sizes, then the data. */
export function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const raw = gunzipSync(readFileSync(file));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (view.getUint16(0) !== 0 || raw[2] !== 0x08) throw new Error(`${file}: not an unsigned-byte IDX file`);
  const rank = raw[3];
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const count = dims.reduce((a, d) => a * d, 1);
  if (raw.byteLength < start + count) throw new Error(`${file}: truncated`);
  return { dims, data: raw.subarray(start, start + count) };
}

const haveData = existsSync(IMAGES) && existsSync(LABELS);
const missing = `Fashion-MNIST test set not found in ${DATA}: install Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist)`;

let model: Model;
let x: Float32Array;
let y: Uint8Array;
let cpuPred: number[] = [];
const sessions: InferenceSession[] = [];

beforeAll(() => {
  if (!haveData) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(missing);
    console.warn(`skipping: ${missing}`);
    return;
  }
  const images = readIdx(IMAGES);
  const labels = readIdx(LABELS);
  expect(images.dims).toEqual([10000, 28, 28]);
  expect(labels.dims).toEqual([10000]);
  // Pixels scaled to [0, 1] and not normalised, as cnn run does for one-channel images.
  x = Float32Array.from(images.data.subarray(0, CPU_COUNT * 784), (v) => v / 255);
  y = labels.data.subarray(0, CPU_COUNT);
  const a = analyzeText(readFileSync(`${EXAMPLE}/fashion.cnn`, 'utf8'));
  const net = a.networks[0];
  model = {
    graph: net.graph,
    shapes: net.layers.map((l) => l.shape!),
    tensors: net.tensors,
    weights: loadSafetensorsWeights(readFileSync(`${EXAMPLE}/fashion.safetensors`), net.tensors),
  };
});
afterAll(() => sessions.forEach((s) => s.destroy()));

function argmaxRows(out: Float32Array, classes: number): number[] {
  const pred: number[] = [];
  for (let r = 0; r < out.length / classes; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (out[r * classes + c] > out[r * classes + best]) best = c;
    pred.push(best);
  }
  return pred;
}

const accuracy = (pred: number[]) => pred.filter((p, i) => p === y[i]).length / pred.length;

describe('Fashion-MNIST example', () => {
  it(`CPU: at least 90% on the first ${CPU_COUNT} test images`, async () => {
    if (!haveData) return;
    const batch = 100;
    const s = createCpuSession(model, batch);
    for (let i = 0; i < CPU_COUNT; i += batch) cpuPred.push(...argmaxRows(await s.run(x.subarray(i * 784, (i + batch) * 784)), 10));
    const acc = accuracy(cpuPred);
    console.log(`Fashion-MNIST, CPU: ${(100 * acc).toFixed(1)}% of ${CPU_COUNT}`);
    expect(acc).toBeGreaterThanOrEqual(0.9);
  });

  it(`WebGPU: at least 90% and the CPU's predictions on the first ${GPU_COUNT}`, async () => {
    if (!haveData) return;
    const gpu = await testGpu();
    if (!gpu) return;
    const s = await createWebGpuSession(gpu.device, gpu.adapterName, model, GPU_BATCH, { convAlgorithm: gpu.software ? 'direct' : 'auto' });
    sessions.push(s);
    const pred: number[] = [];
    for (let i = 0; i < GPU_COUNT; i += GPU_BATCH) pred.push(...argmaxRows(await s.run(x.subarray(i * 784, (i + GPU_BATCH) * 784)), 10));
    const acc = accuracy(pred);
    console.log(`Fashion-MNIST, WebGPU (${gpu.adapterName}): ${(100 * acc).toFixed(1)}% of ${GPU_COUNT}`);
    if (cpuPred.length) expect(pred).toEqual(cpuPred.slice(0, GPU_COUNT));
    expect(acc).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});
