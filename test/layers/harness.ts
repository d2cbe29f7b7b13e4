/**
 * Data-driven layer tests (ONNX Runtime Web's style): each case is a small network around one
 * layer kind, run with the same seeded weights and input on
 *   - PyTorch, through our PyTorch export (the oracle: PyTorch's own modules define the kind),
 *   - the CPU reference, the WebAssembly CPU engine (fused and unfused) and WebGPU,
 *   - onnxruntime-node, through our ONNX export,
 * each within `tolerance` of PyTorch relative to the output's largest value. One Python process
 * runs every case of a file. Under CI=true a missing torch or WebGPU is a failure, else a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { readNpy, writeNpy } from '../../src/engine/input/npy';
import { createFastCpuSession, createWebGpuSession, type Model } from '../../src/engine/session';
import { tensor } from '../../src/engine/tensor';
import { saveSafetensorsWeights } from '../../src/engine/weights/load';
import { exportOnnx } from '../../src/export/onnx';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { testGpu } from '../engine/gpu-device';
import { randomTensor, randomWeights, rng } from '../engine/helpers';
import { isCI, torchPython } from '../export/helpers';

export interface KindCase {
  name: string;
  /** The network body after `input`, one statement per line. */
  body: string;
  /** The input shape, without the batch. */
  input: number[];
  batch?: number;
  /** Input values are uniform in this range ([-1, 1] by default): wide enough that clipping activations clip. */
  range?: [number, number];
  /** Replaces the seeded weights of some tensors (by name), e.g. batch-norm statistics that push values past a clip. */
  weights?: (net: NetworkAnalysis, w: Map<string, Float32Array>) => void;
  /** Relative to the largest output value; 1e-3 by default (the issue's bound). */
  tolerance?: number;
  /** Backends the kind cannot run on yet, with the reason (shown in the test name). */
  skip?: Partial<Record<'webgpu' | 'onnx', string>>;
  /** Block definitions written after the network. */
  blocks?: string;
  /** Asserts that PyTorch's output shows what the case is for (values that reach a clip, say), so that it stays a test when its numbers change. */
  expectOutput?: (output: Float32Array) => void;
}

interface Prepared {
  c: KindCase;
  net: NetworkAnalysis;
  weights: Map<string, Float32Array>;
  x: { shape: number[]; data: Float32Array };
  model: Model;
}

function prepare(c: KindCase, seed: number): Prepared {
  const text = `network K {\n  input ${c.input.join('x')}\n  ${c.body.split('\n').join('\n  ')}\n}\n${c.blocks ? `${c.blocks}\n` : ''}`;
  const a = analyzeText(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${c.name}: ${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('; ')}`);
  const net = a.networks[0];
  const weights = randomWeights(net.tensors, rng(seed));
  c.weights?.(net, weights);
  const range = c.range ?? [-1, 1];
  const x = randomTensor([c.batch ?? 2, ...c.input], rng(seed + 1), range[0], range[1]);
  const model: Model = { graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights };
  return { c, net, weights, x, model };
}

/** max |a - b| / max |b|. */
function relative(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= abs)) abs = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? abs : abs / scale;
}

function expectNear(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  const rel = relative(actual, expected);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} over ${tolerance}`).toBeLessThanOrEqual(tolerance);
}

/** Runs every case's exported module in one PyTorch process; the main output of each. */
function runTorch(python: string, cases: Prepared[]): Float32Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-kinds-'));
  const jobs = cases.map((p, i) => {
    const stem = join(dir, `k${i}`);
    writeFileSync(`${stem}.py`, exportPytorch(p.net, { source: p.c.name }));
    writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(p.net.tensors, p.weights));
    writeFileSync(`${stem}-x.npy`, writeNpy(p.x.shape, p.x.data));
    return { module: `${stem}.py`, class: pythonClassName(p.net.graph.network), weights: `${stem}.safetensors`, input: `${stem}-x.npy`, out: `${stem}-y` };
  });
  const r = spawnSync(python, [join(__dirname, '..', 'export', 'torch_check.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return jobs.map((j) => readNpy(readFileSync(`${j.out}0.npy`)).data);
}

/** Declares the tests of one file of kind cases. */
export function kindSuite(title: string, cases: KindCase[]): void {
  const python = torchPython();
  describe(title, () => {
    const prepared = cases.map((c, i) => prepare(c, 100 + i));
    let torch: Float32Array[] | undefined;
    const sessions: ort.InferenceSession[] = [];
    beforeAll(() => {
      if (python) torch = runTorch(python, prepared);
    }, 120_000);
    afterAll(async () => {
      for (const s of sessions) await s.release();
    });

    it('PyTorch is there to be the oracle', () => {
      if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
      if (!python) console.warn(`skipping the PyTorch comparisons of ${title}: no python3 with torch`);
    });

    for (const [i, p] of prepared.entries()) {
      const tol = p.c.tolerance ?? 1e-3;
      const oracle = () => torch?.[i];
      const reference = () => forwardCpu(p.net.graph, p.weights, p.net.tensors, tensor(p.x.shape, p.x.data)).output.data;

      if (p.c.expectOutput) {
        const check = p.c.expectOutput;
        it(`${p.c.name}: the output reaches what the case is for`, () => check(oracle() ?? reference()));
      }

      it(`${p.c.name}: the CPU reference equals PyTorch`, () => {
        const want = oracle();
        if (!want) return;
        expectNear(reference(), want, tol, 'CPU reference');
      });

      it(`${p.c.name}: the WebAssembly CPU engine, fused and not, equals PyTorch`, async () => {
        const want = oracle() ?? reference();
        for (const keepAll of [false, true]) {
          const s = await createFastCpuSession(p.model, p.x.shape[0], { keepAll });
          expectNear(await s.run(p.x.data), want, tol, `WebAssembly (keepAll ${keepAll})`);
          s.destroy();
        }
      });

      it(`${p.c.name}: WebGPU equals PyTorch${p.c.skip?.webgpu ? ` (skipped: ${p.c.skip.webgpu})` : ''}`, async () => {
        if (p.c.skip?.webgpu) return;
        const gpu = await testGpu();
        if (!gpu) return;
        const want = oracle() ?? reference();
        for (const fuse of [true, false]) {
          const s = await createWebGpuSession(gpu.device, gpu.adapterName, p.model, p.x.shape[0], { fuse });
          expectNear(await s.run(p.x.data), want, tol, `WebGPU (fuse ${fuse})`);
          s.destroy();
        }
      });

      it(`${p.c.name}: the ONNX export in onnxruntime equals PyTorch${p.c.skip?.onnx ? ` (skipped: ${p.c.skip.onnx})` : ''}`, async () => {
        if (p.c.skip?.onnx) return;
        const want = oracle() ?? reference();
        const s = await ort.InferenceSession.create(exportOnnx(p.net, p.weights), { graphOptimizationLevel: 'disabled' });
        sessions.push(s);
        const r = await s.run({ input: new ort.Tensor('float32', p.x.data, p.x.shape) });
        expectNear(r.output.data as Float32Array, want, tol, 'ONNX');
      });
    }
  });
}
