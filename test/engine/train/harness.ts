/**
 * Data-driven gradient tests: each case is a small network around one layer kind, its loss and
 * gradients on the CPU reference's training pass (src/engine/train/backprop.ts) against PyTorch's
 * autograd on our PyTorch export, run in float64 so that PyTorch's figures are exact to the
 * digits compared. Dropout gets the same seeded masks on both sides. One Python process runs
 * every case of a file. Under CI=true a missing torch is a failure, else a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../../src/analysis';
import { dropoutMask, type PassMode } from '../../../src/engine/cpu/backward';
import { writeNpy } from '../../../src/engine/input/npy';
import { numel, tensor, type Tensor } from '../../../src/engine/tensor';
import { lossAndGradients, type LossSpec, type PassOptions, type PassResult } from '../../../src/engine/train/backprop';
import { saveSafetensorsWeights } from '../../../src/engine/weights/load';
import { parseSafetensors, toFloat32 } from '../../../src/engine/weights/safetensors';
import { exportPytorch, pythonClassName } from '../../../src/export/pytorch';
import { givesProbabilities } from '../../../src/layers';
import { isCI, torchPython } from '../../export/helpers';
import { randomTensor, randomWeights, rng } from '../helpers';

export interface GradCase {
  name: string;
  /** The network body after `input`, one statement per line. */
  body: string;
  input: number[];
  batch?: number;
  range?: [number, number];
  /** Both modes by default. */
  modes?: PassMode[];
  /** Cross-entropy (labels) by default; mse compares with a random target of the output's shape. */
  loss?: 'cross-entropy' | 'mse';
  labelSmoothing?: number;
  auxWeight?: number;
  blocks?: string;
  /** Relative to each tensor's largest value; 1e-4 by default. */
  tolerance?: number;
  weights?: (net: NetworkAnalysis, w: Map<string, Float32Array>) => void;
}

interface Prepared {
  c: GradCase;
  mode: PassMode;
  net: NetworkAnalysis;
  weights: Map<string, Float32Array>;
  x: { shape: number[]; data: Float32Array };
  target: Float32Array;
  targetShape: number[];
  masks: Float32Array[];
  maskShapes: number[][];
  /** Undefined with an engine until its beforeAll has run it (and where it had no device). */
  ours: PassResult | undefined;
  opts: PassOptions;
}

const SEED = 11;

/** What a suite may run instead of the CPU reference (the WebGPU pass): the same inputs, the same seed for the masks. */
export type GradEngine = (net: NetworkAnalysis, weights: Map<string, Float32Array>, x: Tensor, target: Float32Array, opts: PassOptions) => Promise<PassResult | undefined>;

function prepare(c: GradCase, mode: PassMode, seed: number, engine?: GradEngine): Prepared {
  const text = `network K {\n  input ${c.input.join('x')}\n  ${c.body.split('\n').join('\n  ')}\n}\n${c.blocks ? `${c.blocks}\n` : ''}`;
  const a = analyzeText(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${c.name}: ${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`).join('; ')}`);
  const net = a.networks[0];
  const weights = randomWeights(net.tensors, rng(seed));
  c.weights?.(net, weights);
  const batch = c.batch ?? 3;
  const range = c.range ?? [-1, 1];
  const x = randomTensor([batch, ...c.input], rng(seed + 1), range[0], range[1]);
  const outShape = net.layers[net.graph.output].shape!;
  const r = rng(seed + 2);
  let target: Float32Array;
  let targetShape: number[];
  if (c.loss === 'mse') {
    targetShape = [batch, ...outShape];
    target = randomTensor(targetShape, r).data;
  } else {
    targetShape = [batch];
    target = Float32Array.from({ length: batch }, () => Math.floor(r() * outShape[0]));
  }
  const masks: Float32Array[] = [];
  const maskShapes: number[][] = [];
  if (mode === 'train') {
    for (const n of net.graph.nodes) {
      if (n.attrs.kind !== 'dropout' || n.attrs.p === 0) continue;
      const shape = [batch, ...net.layers[n.inputs[0]].shape!];
      masks.push(dropoutMask(SEED, n.path, 0, numel(shape), n.attrs.p));
      maskShapes.push(shape);
    }
  }
  const loss: LossSpec = c.loss === 'mse' ? { kind: 'mse' } : { kind: 'cross-entropy', labelSmoothing: c.labelSmoothing };
  const opts: PassOptions = { mode, loss, auxWeight: c.auxWeight, seed: SEED, step: 0 };
  const ours = engine ? undefined : lossAndGradients(net.graph, weights, net.tensors, tensor(x.shape, x.data), target, opts);
  return { c, mode, net, weights, x, target, targetShape, masks, maskShapes, ours, opts };
}

interface TorchResult {
  loss: number;
  grads: Map<string, Float32Array>;
  state: Map<string, Float32Array>;
}

function readAll(file: string): Map<string, Float32Array> {
  const { tensors } = parseSafetensors(readFileSync(file));
  return new Map([...tensors].map(([k, e]) => [k, toFloat32(e)]));
}

function runTorch(python: string, cases: Prepared[]): TorchResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-grads-'));
  const jobs = cases.map((p, i) => {
    const stem = join(dir, `g${i}`);
    writeFileSync(`${stem}.py`, exportPytorch(p.net, { source: p.c.name }));
    writeFileSync(`${stem}.safetensors`, saveSafetensorsWeights(p.net.tensors, p.weights));
    writeFileSync(`${stem}-x.npy`, writeNpy(p.x.shape, p.x.data));
    writeFileSync(`${stem}-t.npy`, writeNpy(p.targetShape, p.target));
    const masks = p.masks.map((m, k) => {
      writeFileSync(`${stem}-m${k}.npy`, writeNpy(p.maskShapes[k], m));
      return `${stem}-m${k}.npy`;
    });
    const outputs = [p.net.graph.output, ...p.net.graph.auxOutputs];
    return {
      module: `${stem}.py`,
      class: pythonClassName(p.net.graph.network),
      weights: `${stem}.safetensors`,
      input: `${stem}-x.npy`,
      target: `${stem}-t.npy`,
      loss: p.c.loss ?? 'cross-entropy',
      labelSmoothing: p.c.labelSmoothing ?? 0,
      auxWeight: p.c.auxWeight ?? 0.3,
      probabilities: outputs.map((o) => givesProbabilities(p.net.graph.nodes[o].attrs)),
      mode: p.mode,
      masks,
      double: true,
      out: stem,
    };
  });
  const r = spawnSync(python, [join(__dirname, 'torch_grad.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  const losses = JSON.parse(r.stdout) as { loss: number }[];
  return jobs.map((j, i) => ({ loss: losses[i].loss, grads: readAll(`${j.out}-grads.safetensors`), state: readAll(`${j.out}-state.safetensors`) }));
}

/**
 * max |a − b| / max(max |b|, floor). The floor (a thousandth of the case's largest gradient) is
 * for gradients that are zero in exact arithmetic, such as a bias before a batch norm in train
 * mode: PyTorch's are 1e-17, ours float32 rounding, and neither is a figure to compare digits of.
 */
export function relative(actual: Float32Array, expected: Float32Array, floor = 0): number {
  expect(actual.length).toBe(expected.length);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= abs)) abs = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  scale = Math.max(scale, floor);
  return scale === 0 ? abs : abs / scale;
}

function largest(ts: Iterable<Float32Array>): number {
  let m = 0;
  for (const t of ts) for (const v of t) m = Math.max(m, Math.abs(v));
  return m;
}

function expectNear(actual: Float32Array | undefined, expected: Float32Array | undefined, tol: number, what: string, floor = 0): void {
  expect(actual, `${what}: ours is missing`).toBeDefined();
  expect(expected, `${what}: PyTorch's is missing`).toBeDefined();
  const rel = relative(actual!, expected!, floor);
  expect(rel, `${what}: relative error ${rel.toExponential(2)} over ${tol}`).toBeLessThanOrEqual(tol);
}

/** Declares the tests of one file of gradient cases. */
export function gradSuite(title: string, cases: GradCase[], engine?: GradEngine): void {
  const python = torchPython();
  describe(title, () => {
    const prepared = cases.flatMap((c, i) => (c.modes ?? (['eval', 'train'] as PassMode[])).map((m) => prepare(c, m, 300 + i, engine)));
    let torch: TorchResult[] | undefined;
    beforeAll(async () => {
      if (python) torch = runTorch(python, prepared);
      if (engine) for (const p of prepared) p.ours = await engine(p.net, p.weights, tensor(p.x.shape, p.x.data), p.target, p.opts);
    }, 600_000);

    it('PyTorch is there to be the oracle', () => {
      if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
      if (!python) console.warn(`skipping the PyTorch comparisons of ${title}: no python3 with torch`);
    });

    for (const [i, p] of prepared.entries()) {
      const tol = p.c.tolerance ?? 1e-4;
      it(`${p.c.name} (${p.mode}): loss and every gradient equal PyTorch's autograd`, () => {
        const want = torch?.[i];
        const ours = p.ours;
        if (!want || !ours) return;
        const rel = Math.abs(ours.loss - want.loss) / Math.max(Math.abs(want.loss), 1e-12);
        expect(rel, `loss ${ours.loss} against ${want.loss}`).toBeLessThanOrEqual(1e-5);
        expectNear(ours.inputGrad.data, want.grads.get('__input__'), tol, 'input gradient');
        const floor = 1e-3 * largest(want.grads.values());
        for (const t of p.net.tensors) {
          if (t.kind === 'param') expectNear(ours.grads.get(t.name), want.grads.get(t.name), tol, `gradient of ${t.name}`, floor);
          else if (p.mode === 'train') expectNear(ours.buffers.get(t.name) ?? p.weights.get(t.name), want.state.get(t.name), tol, `${t.name} after the step`);
        }
      });
    }
  });
}
