/**
 * The effective receptive field (src/engine/train/erf.ts): against PyTorch's autograd on our
 * PyTorch export (a one-hot gradient at the centre unit of a layer, backpropagated to the input
 * in float64), on a plain stack, strides and dilation with even sizes, and a residual block
 * (a layer inside the body, the merge itself, the layer after it, batch norm in both modes);
 * then its properties: it is zero outside the theoretical receptive field of the same unit and
 * fills that field's bounding box in a linear stack, and k 3×3 convs of uniform weights give the
 * trinomial profile in closed form.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeText, type NetworkAnalysis } from '../../../src/analysis';
import type { PassMode } from '../../../src/engine/cpu/backward';
import { writeNpy } from '../../../src/engine/input/npy';
import { centreUnit, effectiveReceptiveField, noiseInputs, type ErfResult } from '../../../src/engine/train/erf';
import type { TrainKernels } from '../../../src/engine/train/fast-pass';
import { saveSafetensorsWeights } from '../../../src/engine/weights/load';
import { parseSafetensors, toFloat32 } from '../../../src/engine/weights/safetensors';
import { exportPytorch, pythonClassName } from '../../../src/export/pytorch';
import { fieldGeometry } from '../../../webview/src/rf-view';
import { isCI, torchPython } from '../../export/helpers';
import { randomWeights, rng } from '../helpers';
import { relative } from './harness';

function analyse(body: string, input: string): NetworkAnalysis {
  const a = analyzeText(`network E {\n  input ${input}\n  ${body.trim().split('\n').join('\n  ')}\n}\n`);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('; '));
  return a.networks[0];
}

const PLAIN = analyse('c1: conv 4 k=3 p=1\nr1: relu\nc2: conv 4 k=3 p=1\nb2: bn\nr2: relu\nc3: conv 5 k=3', '3x15x15');
const STRIDED = analyse('c1: conv 4 k=3 s=2 p=1\nr1: relu\nc2: conv 4 k=3 d=2 p=2\np2: maxpool k=2\nc3: conv 3 k=5 p=2 d=1\ngap\nflatten\nfc: linear 4', '2x20x18');
const RESIDUAL = analyse(
  'c1: conv 4 k=3 p=1 bias=false\nb1: bn\nr1: relu\nresidual {\n  rc1: conv 4 k=3 p=1 bias=false\n  rb1: bn\n  rr1: relu\n  rc2: conv 4 k=3 p=1 bias=false\n}\nr2: relu\nc3: conv 6 k=3 s=2 p=1',
  '3x12x12',
);

interface ErfCase {
  name: string;
  net: NetworkAnalysis;
  layer: string;
  channel?: number;
  mode: PassMode;
  kernels: TrainKernels;
  seed: number;
}

const CASES: ErfCase[] = [
  { name: 'plain stack, last conv, every channel', net: PLAIN, layer: 'c3', mode: 'eval', kernels: 'reference', seed: 1 },
  { name: 'plain stack, last conv, every channel (fast kernels)', net: PLAIN, layer: 'c3', mode: 'eval', kernels: 'fast', seed: 1 },
  { name: 'plain stack, a relu after a batch norm, channel 1', net: PLAIN, layer: 'r2', channel: 1, mode: 'eval', kernels: 'reference', seed: 2 },
  { name: 'stride 2, dilation 2, a pool, even sizes: the last conv', net: STRIDED, layer: 'c3', mode: 'eval', kernels: 'reference', seed: 3 },
  { name: 'stride 2, dilation 2: the pool, channel 1 (fast kernels)', net: STRIDED, layer: 'p2', channel: 1, mode: 'eval', kernels: 'fast', seed: 4 },
  { name: 'residual: a conv inside the body', net: RESIDUAL, layer: 'rc1', mode: 'eval', kernels: 'reference', seed: 5 },
  { name: 'residual: the merge itself', net: RESIDUAL, layer: 'add', mode: 'eval', kernels: 'reference', seed: 6 },
  { name: 'residual: the strided conv after it', net: RESIDUAL, layer: 'c3', mode: 'eval', kernels: 'fast', seed: 7 },
  { name: 'residual: the strided conv, batch norms in train mode (batch statistics)', net: RESIDUAL, layer: 'c3', mode: 'train', kernels: 'reference', seed: 8 },
];

/** Where PyTorch sees a node's output: a module's output, or, for a merge (no module), the input of the single layer reading it. */
function hookOf(net: NetworkAnalysis, path: string): { layer: string; at: 'output' | 'input' } {
  const node = net.graph.nodes.find((n) => n.path === path)!;
  if (node.inputs.length === 1) return { layer: path, at: 'output' };
  const readers = net.graph.nodes.filter((n) => n.inputs.includes(node.id));
  if (readers.length !== 1 || readers[0].inputs.length !== 1) throw new Error(`${path}: no single reader to hook`);
  return { layer: readers[0].path, at: 'input' };
}

interface Prepared {
  c: ErfCase;
  weights: Map<string, Float32Array>;
  x: ReturnType<typeof noiseInputs>;
  ours: ErfResult;
}

function prepare(c: ErfCase): Prepared {
  const weights = randomWeights(c.net.tensors, rng(100 + c.seed));
  const x = noiseInputs(c.net.input!, 3, c.seed);
  const ours = effectiveReceptiveField(c.net.graph, weights, c.net.tensors, c.layer, { inputs: x, mode: c.mode, channel: c.channel, kernels: c.kernels });
  return { c, weights, x, ours };
}

function runTorch(python: string, cases: Prepared[]): Float32Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-erf-'));
  const jobs = cases.map((p, i) => {
    const stem = join(dir, `e${i}`);
    writeFileSync(`${stem}.py`, exportPytorch(p.c.net, { source: p.c.name }));
    writeFileSync(`${stem}-w.safetensors`, saveSafetensorsWeights(p.c.net.tensors, p.weights));
    writeFileSync(`${stem}-x.npy`, writeNpy(p.x.shape, p.x.data));
    return {
      module: `${stem}.py`,
      class: pythonClassName(p.c.net.graph.network),
      weights: `${stem}-w.safetensors`,
      input: `${stem}-x.npy`,
      ...hookOf(p.c.net, p.c.layer),
      channel: p.c.channel ?? null,
      centre: p.ours.centre,
      mode: p.c.mode,
      perSample: p.c.mode === 'eval',
      out: stem,
    };
  });
  const r = spawnSync(python, [join(__dirname, 'erf_torch.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return jobs.map((j) => toFloat32(parseSafetensors(readFileSync(`${j.out}.safetensors`)).tensors.get('map')!));
}

describe('the effective receptive field against PyTorch autograd', () => {
  const python = torchPython();
  const prepared = CASES.map(prepare);
  let torch: Float32Array[] | undefined;
  beforeAll(() => {
    if (python) torch = runTorch(python, prepared);
  }, 120_000);

  it('PyTorch is there to be the oracle', () => {
    if (!python && isCI) throw new Error("no python3 with torch: .ci/run installs Debian's python3-torch");
    if (!python) console.warn('skipping the PyTorch comparisons of the effective receptive field: no python3 with torch');
  });

  for (const [i, p] of prepared.entries()) {
    it(`${p.c.name} (${p.c.mode}, ${p.c.kernels}): the map equals PyTorch's within 1e-4`, () => {
      const want = torch?.[i];
      if (!want) return;
      expect(p.ours.inputs).toBe(3);
      expect([p.ours.height, p.ours.width]).toEqual(p.c.net.input!.slice(1));
      // A map of zeros would match a map of zeros: the case must light some pixels.
      expect(p.ours.max).toBeGreaterThan(0);
      const rel = relative(p.ours.map, want);
      expect(rel, `relative error ${rel.toExponential(2)}`).toBeLessThanOrEqual(1e-4);
    });
  }
});

/** The bounding box [y0, y1) × [x0, x1) of the map's nonzero pixels. */
function support(r: ErfResult): [number, number, number, number] {
  let [y0, y1, x0, x1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let y = 0; y < r.height; y++)
    for (let x = 0; x < r.width; x++) {
      if (r.map[y * r.width + x] === 0) continue;
      [y0, y1, x0, x1] = [Math.min(y0, y), Math.max(y1, y + 1), Math.min(x0, x), Math.max(x1, x + 1)];
    }
  return [y0, y1, x0, x1];
}

describe('the effective receptive field and the theoretical one', () => {
  const LINEAR = analyse('c1: conv 3 k=3 s=2 p=1\nc2: conv 3 k=3 d=2 p=2\nap: avgpool k=2\nc3: conv 2 k=5 s=2 p=2\nc4: conv 2 k=2', '2x33x30');
  const nets: [string, NetworkAnalysis, boolean][] = [
    ['the plain stack', PLAIN, false],
    ['the strided and dilated stack', STRIDED, false],
    ['the residual block', RESIDUAL, false],
    ['a linear stack (strides, dilation, an average pool, even kernels)', LINEAR, true],
  ];
  for (const [name, net, linear] of nets) {
    it(`${name}: every layer's map is zero outside the field of its centre unit${linear ? ', and fills its bounding box' : ''}`, () => {
      const weights = randomWeights(net.tensors, rng(42));
      const x = noiseInputs(net.input!, 2, 9);
      const [, H, W] = net.input!;
      let checked = 0;
      for (const n of net.graph.nodes) {
        const shape = net.layers[n.id].shape!;
        if (n.attrs.kind === 'input' || shape.length !== 3) continue;
        const r = effectiveReceptiveField(net.graph, weights, net.tensors, n.id, { inputs: x });
        expect(r.centre).toEqual(centreUnit(shape[1], shape[2]));
        const g = fieldGeometry(net.layers[n.id].rf!, [H, W], [shape[1], shape[2]], r.centre[0], r.centre[1]);
        const [y0, y1, x0, x1] = support(r);
        expect(y0, `${n.path}: nonzero above its field`).toBeGreaterThanOrEqual(g.inside.y0);
        expect(x0, `${n.path}: nonzero left of its field`).toBeGreaterThanOrEqual(g.inside.x0);
        expect(y1, `${n.path}: nonzero below its field`).toBeLessThanOrEqual(g.inside.y1);
        expect(x1, `${n.path}: nonzero right of its field`).toBeLessThanOrEqual(g.inside.x1);
        // Random weights and no ReLU to cut paths: the theoretical field is reached exactly.
        if (linear) expect([y0, y1, x0, x1], n.path).toEqual([g.inside.y0, g.inside.y1, g.inside.x0, g.inside.x1]);
        checked++;
      }
      expect(checked).toBeGreaterThan(3);
    });
  }

  const choose = (n: number, k: number): number => {
    if (k < 0 || k > n) return 0;
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  };
  /** The coefficient of z^m in (1 + z + z²)^k: j factors give z², m − 2j give z, the rest 1. */
  const trinomial = (k: number, m: number): number => {
    let s = 0;
    for (let j = 0; 2 * j <= m; j++) s += choose(k, j) * choose(k - j, m - 2 * j);
    return s;
  };

  for (const [k, C] of [
    [1, 1],
    [2, 1],
    [3, 2],
    [5, 2],
  ]) {
    it(`${k} 3×3 convs of ${C} channel${C > 1 ? 's' : ''}, uniform weights w: the map is (C·w)^k · T(k, a) · T(k, b), the trinomial coefficients of (1 + z + z²)^k`, () => {
      const net = analyse(Array.from({ length: k }, (_, i) => `c${i}: conv ${C} k=3 p=1 bias=false`).join('\n'), `${C}x21x19`);
      const w = 0.25;
      const weights = new Map(net.tensors.map((t) => [t.name, new Float32Array(t.shape.reduce((a, d) => a * d, 1)).fill(w)]));
      const r = effectiveReceptiveField(net.graph, weights, net.tensors, `c${k - 1}`, { inputs: noiseInputs(net.input!, 2, 1) });
      const [ci, cj] = r.centre;
      expect([ci, cj]).toEqual([10, 9]);
      const want = new Float32Array(r.map.length);
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++) {
          const a = y - ci + k;
          const b = x - cj + k;
          want[y * r.width + x] = (C * w) ** k * trinomial(k, a) * trinomial(k, b);
        }
      expect(relative(r.map, want)).toBeLessThanOrEqual(1e-6);
      // The profile peaks at the centre with T(k, k)², the central trinomial coefficient squared.
      expect(r.max).toBeCloseTo((C * w) ** k * trinomial(k, k) ** 2, 6);
    });
  }
});

describe('the effective receptive field: what it refuses', () => {
  const x = noiseInputs(STRIDED.input!, 1);
  const weights = randomWeights(STRIDED.tensors, rng(1));
  const erf = (layer: string, channel?: number) => () => effectiveReceptiveField(STRIDED.graph, weights, STRIDED.tensors, layer, { inputs: x, channel });
  it('a flat layer has no spatial centre: one line that names it', () => {
    expect(erf('fc')).toThrow(/^fc \(linear\): its output \[4\] is flat, with no spatial centre/);
  });
  it('a channel the layer lacks, a layer the network lacks', () => {
    expect(erf('c3', 3)).toThrow(/^c3: channel 3 is not one of its 0…2$/);
    expect(erf('nope')).toThrow(/^no layer 'nope' in E$/);
  });
  it('inputs of the wrong shape', () => {
    expect(() => effectiveReceptiveField(STRIDED.graph, weights, STRIDED.tensors, 'c3', { inputs: noiseInputs([2, 20, 17], 1) })).toThrow(/^E: inputs must be \[B, 2, 20, 18\], not \[1, 2, 20, 17\]$/);
  });
});
