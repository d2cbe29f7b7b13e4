import { describe, expect, it } from 'vitest';
import { conv2d } from '../../src/engine/cpu/conv';
import { flatten, linear } from '../../src/engine/cpu/dense';
import { runLayerCpu } from '../../src/engine/cpu/layers';
import { add, concat } from '../../src/engine/cpu/merge';
import { batchNorm, localResponseNorm } from '../../src/engine/cpu/norm';
import { softmax } from '../../src/engine/cpu/pointwise';
import { adaptiveAvgPool2d, avgpool2d, globalAvgPool, maxpool2d } from '../../src/engine/cpu/pool';
import { windowOut as windowOutSize } from '../../src/layers/window';
import { tensor } from '../../src/engine/tensor';
import { expectValues } from './helpers';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
/** 1..16 as a 1x1x4x4 image. */
const img4 = () => tensor([1, 1, 4, 4], range(16, 1));
const conv = (k: number, s = 1, p = 0, d = 1, groups = 1, out = 1) => ({
  out,
  kernel: [k, k] as [number, number],
  stride: [s, s] as [number, number],
  padding: [p, p] as [number, number],
  dilation: [d, d] as [number, number],
  groups,
});

describe('conv2d', () => {
  it('a 2x2 difference kernel on 4x4 gives x[i][j] - x[i+1][j+1] = -5', () => {
    const y = conv2d(img4(), Float32Array.from([1, 0, 0, -1]), undefined, conv(2));
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expectValues(y.data, Array(9).fill(-5));
  });

  it('3x3 box, stride 2, padding 1, bias 1', () => {
    const y = conv2d(img4(), new Float32Array(9).fill(1), Float32Array.from([1]), conv(3, 2, 1));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y.data, [15, 31, 58, 100]);
  });

  it('2x2 kernel with dilation 2 reads every other pixel', () => {
    const y = conv2d(img4(), new Float32Array(4).fill(1), undefined, conv(2, 1, 0, 2));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y.data, [24, 28, 40, 44]);
  });

  it('groups keep channels apart; groups=1 mixes them', () => {
    const x = tensor([1, 2, 1, 2], [1, 2, 10, 20]);
    const grouped = conv2d(x, Float32Array.from([2, 3]), Float32Array.from([0.5, -0.5]), conv(1, 1, 0, 1, 2, 2));
    expectValues(grouped.data, [2.5, 4.5, 29.5, 59.5]);
    const mixed = conv2d(x, Float32Array.from([1, 1, 1, -1]), undefined, conv(1, 1, 0, 1, 1, 2));
    expectValues(mixed.data, [11, 22, -9, -18]);
  });

  it('batch items are independent', () => {
    const x = tensor([2, 1, 4, 4], [...range(16, 1), ...range(16, 1).map((v) => -v)]);
    const y = conv2d(x, new Float32Array(9).fill(1), undefined, conv(3, 2, 1));
    expectValues(y.data, [14, 30, 57, 99, -14, -30, -57, -99]);
  });
});

describe('pool output size', () => {
  it('ceil mode drops a last window that would start in the right padding', () => {
    expect(windowOutSize(5, 3, 3, 1, 1, true)).toBe(2);
    expect(windowOutSize(5, 2, 2, 0, 1, true)).toBe(3);
    expect(windowOutSize(5, 2, 2, 0, 1, false)).toBe(2);
    // AlexNet / GoogLeNet sizes: 55 -> 27 (k3 s2), 112 -> 56 (k3 s2 ceil)
    expect(windowOutSize(55, 3, 2, 0, 1, false)).toBe(27);
    expect(windowOutSize(112, 3, 2, 0, 1, true)).toBe(56);
  });
});

describe('maxpool2d', () => {
  const x5 = () => tensor([1, 1, 5, 5], range(25));
  const p = (k: number, s: number, pad: number, ceil: boolean) => ({
    kernel: [k, k] as [number, number],
    stride: [s, s] as [number, number],
    padding: [pad, pad] as [number, number],
    ceil,
  });
  it('floor mode drops the partial window', () => {
    const y = maxpool2d(x5(), p(2, 2, 0, false));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y.data, [6, 8, 16, 18]);
  });
  it('ceil mode keeps the partial window', () => {
    const y = maxpool2d(x5(), p(2, 2, 0, true));
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expectValues(y.data, [6, 8, 9, 16, 18, 19, 21, 23, 24]);
  });
  it('ceil mode with padding: no window starts in the right padding', () => {
    const y = maxpool2d(x5(), p(3, 3, 1, true));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y.data, [6, 9, 21, 24]);
  });
  it('padding is -infinity, not zero', () => {
    const y = maxpool2d(tensor([1, 1, 2, 2], [-1, -2, -3, -4]), p(2, 1, 1, false));
    expectValues(y.data, [-1, -1, -2, -1, -1, -2, -3, -3, -4]);
  });
});

describe('avgpool2d', () => {
  const p = (k: number, s: number, pad: number, ceil: boolean) => ({
    kernel: [k, k] as [number, number],
    stride: [s, s] as [number, number],
    padding: [pad, pad] as [number, number],
    ceil,
  });
  const x3 = () => tensor([1, 1, 3, 3], range(9, 1));
  it('padding counts in the divisor', () => {
    const y = avgpool2d(x3(), p(2, 2, 1, false));
    expectValues(y.data, [0.25, 1.25, 2.75, 7]);
  });
  it('ceil mode divides by the window clipped to the input when there is no padding', () => {
    const y = avgpool2d(x3(), p(2, 2, 0, true));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectValues(y.data, [3, 4.5, 7.5, 9]);
  });
  it('ceil mode with padding: k3 s2 p1 on 3x3 (PyTorch: 1.3333, 1.7778, 2.6667, 3.1111)', () => {
    const y = avgpool2d(x3(), p(3, 2, 1, true));
    expectValues(y.data, [12 / 9, 16 / 9, 24 / 9, 28 / 9]);
  });
  it('ceil mode with padding: a window past input+padding is clipped to it', () => {
    const y = avgpool2d(img4(), p(3, 2, 1, true));
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(y.data[0]).toBeCloseTo(14 / 9, 6);
    expect(y.data[2]).toBeCloseTo(12 / 6, 6); // rows -1..1, cols 3..4: (4 + 8) / (3 * 2)
    expect(y.data[8]).toBeCloseTo(16 / 4, 6); // rows 3..4, cols 3..4: 16 / (2 * 2)
  });
});

describe('adaptive and global average pool', () => {
  it('5x5 -> 3x3 uses overlapping bins [0,2) [1,4) [3,5)', () => {
    const y = adaptiveAvgPool2d(tensor([1, 1, 5, 5], range(25)), [3, 3]);
    expect(y.data[0]).toBeCloseTo(3, 6);
    expect(y.data[1]).toBeCloseTo(4.5, 6);
    expect(y.data[4]).toBeCloseTo(12, 6);
    expect(y.data[8]).toBeCloseTo(21, 6);
  });
  it('1x7 -> 1x3', () => {
    expectValues(adaptiveAvgPool2d(tensor([1, 1, 1, 7], range(7)), [1, 3]).data, [1, 3, 5]);
  });
  it('upsampling bins repeat pixels: 2 -> 3', () => {
    expectValues(adaptiveAvgPool2d(tensor([1, 1, 1, 2], [2, 4]), [1, 3]).data, [2, 3, 4]);
  });
  it('gap averages each channel', () => {
    const y = globalAvgPool(tensor([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]));
    expect(y.shape).toEqual([1, 2, 1, 1]);
    expectValues(y.data, [2.5, 25]);
  });
});

describe('norms', () => {
  it('batch norm in inference mode, spatial and flat', () => {
    const p = {
      weight: Float32Array.from([2, 1]),
      bias: Float32Array.from([1, 0]),
      runningMean: Float32Array.from([1, 0]),
      runningVar: Float32Array.from([0, 3]),
      eps: 0.25,
    };
    // channel 0: scale 2/0.5 = 4, y = (x-1)*4+1; channel 1: scale 1/sqrt(3.25)
    const y = batchNorm(tensor([1, 2, 1, 2], [1, 2, 3, 4]), p);
    expectValues(y.data, [1, 5, 3 / Math.sqrt(3.25), 4 / Math.sqrt(3.25)]);
    expectValues(batchNorm(tensor([1, 2], [2, 3]), p).data, [5, 3 / Math.sqrt(3.25)]);
  });
  it('LRN, even size: window c-1..c, divided by size', () => {
    const y = localResponseNorm(tensor([1, 3, 1, 1], [1, 2, 3]), { size: 2, alpha: 1, beta: 1, k: 1 });
    expectValues(y.data, [1 / 1.5, 2 / 3.5, 3 / 7.5]);
  });
  it('LRN, odd size: centred window, zero beyond the ends', () => {
    const y = localResponseNorm(tensor([1, 3, 1, 1], [1, 2, 3]), { size: 3, alpha: 1, beta: 1, k: 1 });
    expectValues(y.data, [0.375, 6 / 17, 9 / 16]);
  });
  it('LRN with AlexNet constants', () => {
    const y = localResponseNorm(tensor([1, 1, 1, 2], [10, -4]), { size: 5, alpha: 1e-4, beta: 0.75, k: 2 });
    expectValues(y.data, [10 / Math.pow(2 + (1e-4 / 5) * 100, 0.75), -4 / Math.pow(2 + (1e-4 / 5) * 16, 0.75)]);
  });
});

describe('pointwise', () => {
  const x = tensor([1, 4], [-2, -0.5, 0, 3]);
  it('relu, leakyrelu, sigmoid, tanh', () => {
    expectValues(runLayerCpu({ kind: 'relu' }, [x]).data, [0, 0, 0, 3]);
    expectValues(runLayerCpu({ kind: 'leakyrelu', slope: 0.1 }, [x]).data, [-0.2, -0.05, 0, 3]);
    expectValues(runLayerCpu({ kind: 'sigmoid' }, [x]).data, [-2, -0.5, 0, 3].map((v) => 1 / (1 + Math.exp(-v))));
    expectValues(runLayerCpu({ kind: 'tanh' }, [x]).data, [-2, -0.5, 0, 3].map(Math.tanh));
  });
  it('softmax over features is stable for large values', () => {
    const y = softmax(tensor([2, 2], [1000, 1000, 0, Math.log(3)]));
    expectValues(y.data, [0.5, 0.5, 0.25, 0.75]);
  });
  it('softmax over channels of a spatial tensor', () => {
    const y = softmax(tensor([1, 2, 1, 2], [0, 5, Math.log(3), 5]));
    expectValues(y.data, [0.25, 0.5, 0.75, 0.5]);
  });
});

describe('dense and merges', () => {
  it('linear: y = x W^T + b', () => {
    const y = linear(tensor([2, 3], [1, 2, 3, -1, 0, 1]), Float32Array.from([1, 0, 0, 1, 1, 1]), Float32Array.from([0, 10]), 2);
    expectValues(y.data, [1, 16, -1, 10]);
  });
  it('flatten shares data', () => {
    const x = tensor([2, 2, 1, 2], range(8));
    const y = flatten(x);
    expect(y.shape).toEqual([2, 4]);
    expect(y.data).toBe(x.data);
  });
  it('add sums any number of inputs', () => {
    expectValues(add([tensor([1, 2], [1, 2]), tensor([1, 2], [10, 20]), tensor([1, 2], [100, 200])]).data, [111, 222]);
  });
  it('concat joins channels per batch item', () => {
    const a = tensor([2, 1, 1, 2], [1, 2, 3, 4]);
    const b = tensor([2, 2, 1, 2], [5, 6, 7, 8, 9, 10, 11, 12]);
    const y = concat([a, b]);
    expect(y.shape).toEqual([2, 3, 1, 2]);
    expectValues(y.data, [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
  });
  it('dispatcher: dropout is identity, missing weights are named', () => {
    const x = tensor([1, 2], [1, 2]);
    expect(runLayerCpu({ kind: 'dropout', p: 0.5 }, [x])).toBe(x);
    expect(() => runLayerCpu({ kind: 'linear', out: 2, bias: true }, [x], {})).toThrow(/missing weight/);
  });
});
