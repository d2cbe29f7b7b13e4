/**
 * The examples against torchvision's own networks (torchvision 0.14, through python3 and torch),
 * data-driven over EXAMPLES:
 *   - totals at the network's size: parameters, and MACs as conv and linear multiply-accumulates
 *     counted by hooks in PyTorch (a linear at every position it is applied to);
 *   - `cnn params --json` equals torchvision's state_dict: names, order and shapes (the
 *     num_batches_tracked counters aside: our batch norms keep none, and ignore one on load);
 *   - the exported PyTorch module loads torchvision's state_dict as it is with strict=True and
 *     gives torchvision's output;
 *   - `cnn run --backend cpu` (the WebAssembly engine), the JavaScript reference and, for a few,
 *     WebGPU (SwiftShader here) equal torchvision within 1e-3 relative, with random weights and
 *     batch-norm statistics that make ReLU6, hardswish and hardsigmoid clip (torchvision_check.py);
 *     a ReLU standing in for ReLU6, or a sigmoid for hardsigmoid, fails by far.
 * Forward passes run at a small input (the totals at full size are analysis only); AlexNet and
 * VGG-16 (relabelled, 61 M and 138 M parameters) and Wide ResNet-50-2 (68 M) are checked in
 * PyTorch only: their layers run on our engines in test/engine, and their weights alone would be
 * 1.1 GB of files here. One Python process runs every job. Under CI a missing torch fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../src/analysis';
import { forwardCpu } from '../../src/engine/cpu/forward';
import { readNpy, writeNpy } from '../../src/engine/input/npy';
import { createFastCpuSession, createWebGpuSession, type InferenceSession, type Model } from '../../src/engine/session';
import { tensor } from '../../src/engine/tensor';
import { loadSafetensorsWeights } from '../../src/engine/weights/load';
import { exportPytorch, pythonClassName } from '../../src/export/pytorch';
import { testGpu } from '../engine/gpu-device';
import { randomTensor, rng } from '../engine/helpers';
import { isCI, torchPython } from '../export/helpers';
import { ROOT, cli } from '../helpers';

interface Example {
  file: string;
  /** torchvision.models.<model>(**kwargs) */
  model: string;
  kwargs?: Record<string, unknown>;
  /** Totals are compared at 3 x size x size. */
  size?: number;
  /** The forward passes' input size: as small as the network allows. */
  small: number;
  /** Also on WebGPU. */
  webgpu?: boolean;
  /** false: checked in PyTorch only (the reason is in the file's comment). */
  engines?: boolean;
  /** Also the JavaScript reference (slow: only where the network is small). */
  reference?: boolean;
  /** Statements swapped for a look-alike that must then miss torchvision's output. */
  mutants?: [from: string, to: string][];
}

const EXAMPLES: Example[] = [
  { file: 'mobilenet_v2.cnn', model: 'mobilenet_v2', small: 32, reference: true, mutants: [['relu6', 'relu']] },
  { file: 'mobilenet_v3_small.cnn', model: 'mobilenet_v3_small', small: 32, reference: true, webgpu: true, mutants: [['hardsigmoid', 'sigmoid'], ['hardswish', 'relu']] },
  { file: 'efficientnet_b0.cnn', model: 'efficientnet_b0', small: 32 },
  { file: 'shufflenet_v2_x1_0.cnn', model: 'shufflenet_v2_x1_0', small: 32 },
  { file: 'regnet_y_400mf.cnn', model: 'regnet_y_400mf', small: 32 },
  { file: 'convnext_tiny.cnn', model: 'convnext_tiny', small: 32, webgpu: true },
  { file: 'densenet121.cnn', model: 'densenet121', small: 32 },
  { file: 'squeezenet1_1.cnn', model: 'squeezenet1_1', small: 32 },
  { file: 'mnasnet1_0.cnn', model: 'mnasnet1_0', small: 32 },
  { file: 'inception_v3.cnn', model: 'inception_v3', kwargs: { aux_logits: false, init_weights: false }, size: 299, small: 75 },
  { file: 'wide_resnet50_2.cnn', model: 'wide_resnet50_2', small: 32, engines: false },
  { file: 'alexnet.cnn', model: 'alexnet', small: 63, engines: false },
  { file: 'vgg16.cnn', model: 'vgg16', small: 32, engines: false },
];

const TOLERANCE = 1e-3;

interface TorchResult {
  params: number;
  macs: number;
  names: string[];
  shapes: number[][];
  strict: string | null;
  relDiff: number | null;
  maxOutput: number;
}

interface Job {
  ex: Example;
  net: NetworkAnalysis;
  text: string;
  x: { shape: number[]; data: Float32Array };
  stem: string;
}

function analyse(text: string, size: number, what: string): NetworkAnalysis {
  const a = analyzeText(text, { inputShape: [3, size, size] });
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${what}: ${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('; ')}`);
  return a.networks[0];
}

/** max |a - b| / max |b| */
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

function expectNear(actual: Float32Array, expected: Float32Array, what: string): void {
  const rel = relative(actual, expected);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} over ${TOLERANCE}`).toBeLessThanOrEqual(TOLERANCE);
}

const python = torchPython();
const dir = mkdtempSync(join(tmpdir(), 'cnn-torchvision-'));
const jobs: Job[] = EXAMPLES.map((ex, i) => {
  const text = readFileSync(join(ROOT, 'examples', ex.file), 'utf8');
  const net = analyse(text, ex.small, ex.file);
  const x = randomTensor([2, 3, ex.small, ex.small], rng(40 + i), -2, 2);
  return { ex, net, text, x, stem: join(dir, ex.file.replace(/\.cnn$/, '')) };
});
let torch: TorchResult[] | undefined;
const sessions: InferenceSession[] = [];

beforeAll(() => {
  if (!python) return;
  const input = jobs.map((j) => {
    writeFileSync(`${j.stem}.py`, exportPytorch(j.net, { source: `examples/${j.ex.file}` }));
    writeFileSync(`${j.stem}-x.npy`, writeNpy(j.x.shape, j.x.data));
    return {
      model: j.ex.model,
      kwargs: j.ex.kwargs ?? {},
      size: j.ex.size ?? 224,
      module: `${j.stem}.py`,
      class: pythonClassName(j.net.graph.network),
      input: `${j.stem}-x.npy`,
      out: j.stem,
      weights: j.ex.engines !== false,
    };
  });
  const r = spawnSync(python, [join(__dirname, 'torchvision_check.py')], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  torch = JSON.parse(r.stdout) as TorchResult[];
}, 240_000);

afterAll(() => {
  sessions.forEach((s) => s.destroy());
  rmSync(dir, { recursive: true, force: true }); // about 300 MB of weights
});

describe('the examples are torchvision\'s networks', () => {
  it('PyTorch and torchvision are there to be the oracle', () => {
    if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
    if (!python) console.warn('skipping the torchvision comparisons: no python3 with torch and torchvision');
  });

  for (const [i, job] of jobs.entries()) {
    const { ex } = job;
    const size = ex.size ?? 224;
    const theirs = () => torch?.[i];
    const weights = () => loadSafetensorsWeights(new Uint8Array(readFileSync(`${job.stem}.safetensors`)), job.net.tensors);
    const expected = () => readNpy(readFileSync(`${job.stem}-y.npy`)).data;
    const model = (): Model => ({ graph: job.net.graph, shapes: job.net.layers.map((l) => l.shape!), tensors: job.net.tensors, weights: weights() });

    describe(ex.file, () => {
      it(`parameters and MACs at ${size}x${size} equal torchvision.models.${ex.model}'s`, () => {
        const t = theirs();
        if (!t) return;
        const n = analyse(job.text, size, ex.file);
        expect({ params: n.totals.params, macs: n.totals.macs, output: n.output }).toEqual({ params: t.params, macs: t.macs, output: [1000] });
      });

      it("cnn params --json lists torchvision's state_dict: names, order and shapes", async () => {
        const t = theirs();
        if (!t) return;
        const r = await cli('params', join(ROOT, 'examples', ex.file), '--json');
        expect(r.code).toBe(0);
        const ours = (JSON.parse(r.out) as { params: { name: string; shape: number[] }[] }).params;
        expect(ours.map((p) => p.name)).toEqual(t.names);
        expect(ours.map((p) => p.shape)).toEqual(t.shapes);
      });

      it("the exported PyTorch module loads torchvision's state_dict (strict) and gives its output", () => {
        const t = theirs();
        if (!t) return;
        expect(t.strict).toBeNull();
        expect(t.relDiff, 'the two modules\' outputs differ').not.toBeNull();
        expect(t.relDiff!).toBeLessThanOrEqual(1e-5);
      });

      if (ex.engines === false) return;

      it(`cnn run --backend cpu equals torchvision at ${ex.small}x${ex.small}`, async () => {
        if (!theirs()) return;
        const want = expected();
        // `cnn run` takes one image: the batch's first.
        writeFileSync(`${job.stem}-x0.npy`, writeNpy([3, ex.small, ex.small], job.x.data.subarray(0, job.x.data.length / 2)));
        const s = `${ex.small}`;
        const r = await cli('run', join(ROOT, 'examples', ex.file), '--shape', `3x${s}x${s}`, '--weights', `${job.stem}.safetensors`, '--input', `${job.stem}-x0.npy`, '--backend', 'cpu', '--out', `${job.stem}-run.npy`);
        expect(r.code, r.err).toBe(0);
        expectNear(readNpy(readFileSync(`${job.stem}-run.npy`)).data, want.subarray(0, want.length / 2), 'cnn run --backend cpu');
      });

      it(`the CPU engine on a batch of 2${ex.reference ? ' and the JavaScript reference' : ''} equal torchvision at ${ex.small}x${ex.small}`, async () => {
        if (!theirs()) return;
        const s = await createFastCpuSession(model(), 2);
        expectNear(await s.run(job.x.data), expected(), 'the CPU engine');
        s.destroy();
        if (ex.reference) expectNear(forwardCpu(job.net.graph, weights(), job.net.tensors, tensor(job.x.shape, job.x.data)).output.data, expected(), 'the JavaScript reference');
      });

      for (const [from, to] of ex.mutants ?? []) {
        it(`with ${to} in place of ${from}, the output misses torchvision's: the clipping is tested`, async () => {
          if (!theirs()) return;
          const text = job.text.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
          expect(text).not.toBe(job.text);
          const net = analyse(text, ex.small, `${ex.file} with ${to}`);
          const s = await createFastCpuSession({ graph: net.graph, shapes: net.layers.map((l) => l.shape!), tensors: net.tensors, weights: weights() }, 2);
          expect(relative(await s.run(job.x.data), expected())).toBeGreaterThan(10 * TOLERANCE);
          s.destroy();
        });
      }

      if (!ex.webgpu) return;
      it(`WebGPU equals torchvision at ${ex.small}x${ex.small}`, async () => {
        if (!theirs()) return;
        const gpu = await testGpu();
        if (!gpu) return;
        const s = await createWebGpuSession(gpu.device, gpu.adapterName, model(), 2, { convAlgorithm: gpu.software ? 'direct' : 'auto' });
        sessions.push(s);
        expectNear(await s.run(job.x.data), expected(), 'WebGPU');
      }, 300_000); // SwiftShader compiles a pipeline per layer: a minute or two for 150 layers
    });
  }
});
