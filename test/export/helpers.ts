import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { tensor } from '../../src/engine/tensor';
import { randomTensor, randomWeights, rng } from '../engine/helpers';

export const ROOT = join(__dirname, '..', '..');
export const ZOO = join(__dirname, 'zoo.cnn');

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

/** Every network of a file, analysed (at `inputShape` where given), with no errors. */
export function networks(file: string, inputShape?: number[]): NetworkAnalysis[] {
  const a = analyzeText(readFileSync(file, 'utf8'), { inputShape });
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return a.networks;
}

export interface Case {
  net: NetworkAnalysis;
  weights: Map<string, Float32Array>;
  /** `[batch, ...input shape]` */
  x: { shape: number[]; data: Float32Array };
  /** The CPU reference: the main output, then each aux output. */
  expected: Float32Array[];
}

export interface CaseOptions {
  batch?: number;
  seed?: number;
  /** Instead of random weights with random batch-norm statistics. */
  weights?: Map<string, Float32Array>;
  /** The input's values are uniform in this range; [-1, 1] by default. */
  range?: [number, number];
}

/** Random weights (batch-norm statistics too) and a random batch, run through our CPU reference. */
export function makeCase(net: NetworkAnalysis, opts: CaseOptions = {}): Case {
  const { batch = 2, seed = 7, range = [-1, 1] } = opts;
  const w = opts.weights ?? randomWeights(net.tensors, rng(seed));
  const inShape = net.layers[net.graph.nodes.findIndex((n) => n.attrs.kind === 'input')].shape!;
  const x = randomTensor([batch, ...inShape], rng(seed + 1), range[0], range[1]);
  const nodes = forwardCpu(net.graph, w, net.tensors, tensor(x.shape, x.data), { keep: 'all' }).nodes!;
  const expected = [net.graph.output, ...net.graph.auxOutputs].map((o) => nodes[o].data);
  return { net, weights: w, x, expected };
}

/** max |a - b| / max |b|: the figure the docs report. */
export function relativeError(actual: Float32Array, expected: Float32Array): { abs: number; rel: number } {
  expect(actual.length).toBe(expected.length);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    abs = Math.max(abs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { abs, rel: scale === 0 ? abs : abs / scale };
}

/** A Python that imports torch and numpy: $CNN_PYTHON, python3 on the PATH, or Debian's /usr/bin/python3 (python3-torch). */
export function torchPython(): string | null {
  const candidates = [process.env.CNN_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}
