/**
 * The activation kinds of issue 12 through the data-driven harness: each standalone and fused
 * into every producer the engines have (a 1x1 conv's GEMM, a depthwise conv's direct kernel, a
 * conv's residual add, an add of three, a lone batch norm, a linear with and without a folded
 * batch norm), against PyTorch's own modules. Inputs span [-8, 8] and batch norms scale by about
 * 2, so that the clipping activations clip: each case also asserts that its output reaches every
 * piece of its function.
 */
import { expect } from 'vitest';
import type { NetworkAnalysis } from '../../src/analysis';
import { kindSuite, type KindCase } from './harness';

/**
 * Batch norms that widen: |gamma| 1.5 to 2.5 with alternating signs, running variances halved
 * (0.25 to 0.75), so that even a hardsigmoid's narrow output comes out of the next linear + bn
 * past ±3.
 */
function wideBatchNorms(net: NetworkAnalysis, w: Map<string, Float32Array>): void {
  for (const t of net.tensors) {
    if (net.graph.nodes[t.node].attrs.kind !== 'bn') continue;
    if (t.role === 'weight') w.set(t.name, Float32Array.from({ length: t.shape[0] }, (_, c) => (c % 2 ? -1 : 1) * (1.5 + (c % 3) * 0.5)));
    if (t.role === 'running_var') w.set(t.name, w.get(t.name)!.map((v) => v / 2));
  }
}

/** The share of values in each named region of the function's output must be at least its minimum. */
function regions(parts: [string, (v: number) => boolean, number][]): (y: Float32Array) => void {
  return (y) => {
    for (const [what, inRegion, least] of parts) {
      const share = y.filter(inRegion).length / y.length;
      expect(share, `share of outputs ${what}`).toBeGreaterThanOrEqual(least);
    }
  };
}

const SMOOTH = regions([
  ['below 0 (inputs below 0)', (v) => v < 0, 0.1],
  ['in (0, 4)', (v) => v > 0 && v < 4, 0.1],
  ['above 4 (the function is nearly x)', (v) => v > 4, 0.05],
]);

const KINDS: { stmt: string; expectOutput: (y: Float32Array) => void }[] = [
  {
    stmt: 'relu6',
    expectOutput: regions([
      ['at 0', (v) => v === 0, 0.05],
      ['at 6', (v) => v === 6, 0.05],
      ['in (0, 6)', (v) => v > 0 && v < 6, 0.2],
    ]),
  },
  {
    stmt: 'hardsigmoid',
    expectOutput: regions([
      ['at 0', (v) => v === 0, 0.05],
      ['at 1', (v) => v === 1, 0.05],
      ['in (0, 1)', (v) => v > 0 && v < 1, 0.2],
    ]),
  },
  {
    stmt: 'hardswish',
    expectOutput: regions([
      ['at 0 (inputs at or below -3)', (v) => v === 0, 0.05],
      ['in [-0.375, 0) (inputs in (-3, 0))', (v) => v < 0, 0.05],
      ['in (0, 3)', (v) => v > 0 && v < 3, 0.05],
      ['at or above 3 (the function is x)', (v) => v >= 3, 0.05],
    ]),
  },
  { stmt: 'silu', expectOutput: SMOOTH },
  { stmt: 'gelu', expectOutput: SMOOTH },
  { stmt: 'gelu approximate=tanh', expectOutput: SMOOTH },
];

const cases: KindCase[] = KINDS.flatMap(({ stmt, expectOutput }): KindCase[] => [
  {
    name: `${stmt}: standalone, after a 1x1 conv + bn, a depthwise conv + bn, a residual add, a three-way add and a lone bn`,
    input: [4, 7, 9],
    range: [-8, 8],
    weights: wideBatchNorms,
    body: [
      stmt,
      `conv 8 k=1 bias=false; bn; ${stmt}`,
      `conv 8 k=3 p=1 g=8 bias=false; bn; ${stmt}`,
      `residual { conv 8 k=3 p=1 }; ${stmt}`,
      // Three inputs: an add step of its own, with the activation in its epilogue.
      `add { branch { conv 8 k=1 } branch { } branch { } }; ${stmt}`,
      `bn; ${stmt}`,
    ].join('\n'),
    expectOutput,
  },
  {
    name: `${stmt}: after a linear, and after a linear + bn`,
    input: [24],
    batch: 16,
    range: [-8, 8],
    weights: wideBatchNorms,
    // swish is silu's alias.
    body: [`linear 13; ${stmt === 'silu' ? 'swish' : stmt}`, `linear 12; bn; ${stmt}`].join('\n'),
    expectOutput,
  },
]);

kindSuite('the activation kinds against PyTorch', [
  ...cases,
  // Far past where exp overflows f32 (e^88.7) and x³ does (|x| > 7e12): finite, and PyTorch's values.
  ...['silu', 'gelu', 'gelu approximate=tanh'].map((stmt) => ({ name: `${stmt} on [-1e13, 1e13]`, input: [1, 16, 16], range: [-1e13, 1e13] as [number, number], body: stmt })),
  ...['silu', 'gelu', 'gelu approximate=tanh'].map((stmt) => ({ name: `${stmt} on [-300, 300]`, input: [1, 16, 16], range: [-300, 300] as [number, number], body: stmt })),
  // The tanh form is within 5e-4 of the exact one (at x = ±2.7): only a tight bound tells them apart.
  ...['gelu', 'gelu approximate=tanh'].map((stmt) => ({ name: `${stmt} to 2e-5, apart from the other form`, input: [2, 16, 16], range: [-4, 4] as [number, number], tolerance: 2e-5, body: stmt })),
  {
    name: 'identity: at the input, between a conv and its bn (no fusion across it), and as the output',
    input: [3, 6, 5],
    range: [-8, 8],
    body: 'identity\nconv 4 k=3 p=1\nidentity\nbn\nrelu6\nidentity',
  },
]);
