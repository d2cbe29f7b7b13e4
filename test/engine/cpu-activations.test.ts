/** The CPU reference's new activations at the points that define them, and its erf (PyTorch compares the rest, in test/layers). */
import { describe, expect, it } from 'vitest';
import { erf } from '../../src/engine/cpu/erf';
import { runLayerCpu } from '../../src/engine/cpu/layers';
import { tensor } from '../../src/engine/tensor';
import type { LayerAttrs } from '../../src/layers';

const X = [-10, -3, -1.5, 0, 1, 3, 7];

function run(attrs: LayerAttrs): number[] {
  return [...runLayerCpu(attrs, [tensor([1, X.length], X)]).data];
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v, `at x = ${X[i]}`).toBeCloseTo(expected[i], 6));
}

describe('the reference activations', () => {
  it('relu6, hardsigmoid and hardswish clip where PyTorch does', () => {
    expectClose(run({ kind: 'relu6' }), [0, 0, 0, 0, 1, 3, 6]);
    expectClose(run({ kind: 'hardsigmoid' }), [0, 0, 0.25, 0.5, 4 / 6, 1, 1]);
    expectClose(run({ kind: 'hardswish' }), [-0, 0, -0.375, 0, 4 / 6, 3, 7]);
  });

  it('silu and both forms of gelu', () => {
    expectClose(run({ kind: 'silu' }), X.map((v) => v / (1 + Math.exp(-v))));
    // Φ(1) = 0.8413447460685429; gelu(-3) = -3·Φ(-3); gelu(-10) = -7.6e-23.
    expectClose(run({ kind: 'gelu', approximate: 'none' }), [0, -0.00404969409489031, -1.5 * 0.0668072012688581, 0, 0.8413447460685429, 3 - 0.00404969409489031, 7]);
    expectClose(run({ kind: 'gelu', approximate: 'tanh' }).slice(4, 5), [0.8411919906082768]);
  });

  it('identity returns its input', () => {
    expectClose(run({ kind: 'identity' }), X);
  });
});

describe('erf', () => {
  it('is within 2e-15 (relative) of libm at a few points, odd, and ±1 far out', () => {
    const known: [number, number][] = [
      [1e-8, 1.1283791670955126e-8],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [-3, -0.9999779095030014],
      [5, 0.9999999999984626],
    ];
    for (const [x, want] of known) expect(Math.abs(erf(x) - want), `erf(${x})`).toBeLessThanOrEqual(2e-15 * Math.abs(want));
    expect(erf(-0.5)).toBe(-erf(0.5));
    expect([erf(6), erf(-40), erf(Infinity)]).toEqual([1, -1, 1]);
    expect(erf(NaN)).toBeNaN();
  });
});
