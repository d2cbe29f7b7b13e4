/**
 * The fast training kernels (src/engine/train/fast-*.ts, gemm.ts) against the CPU reference they
 * stand in for: the same figures up to the order of summation, for every conv geometry, and for a
 * whole network's loss and gradients. The PyTorch autograd suites run on the fast path too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../../../src/analysis';
import { conv2d, type ConvParams } from '../../../src/engine/cpu/conv';
import { conv2dBackward } from '../../../src/engine/cpu/grad-dense';
import { lossAndGradients } from '../../../src/engine/train/backprop';
import { conv2dBackwardFast, conv2dFast } from '../../../src/engine/train/fast-conv';
import { gemmNT } from '../../../src/engine/train/gemm';
import { expectClose, randomTensor, randomWeights, rng } from '../helpers';

describe('gemmNT', () => {
  it.each([
    [1, 1, 1],
    [4, 4, 3],
    [5, 7, 9],
    [8, 3, 17],
    [13, 10, 33],
  ])('C = A·Bᵀ for %i×%i, reduction %i, edges included', (M, N, L) => {
    const r = rng(M * 100 + N * 10 + L);
    const A = randomTensor([M, L], r).data;
    const B = randomTensor([N, L], r).data;
    const C = new Float32Array(M * N).fill(Number.NaN);
    gemmNT(M, N, L, A, B, C);
    const want = new Float32Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let l = 0; l < L; l++) want[i * N + j] += A[i * L + l] * B[j * L + l];
    expectClose(C, want, 1e-5, 'C');
  });
});

const geometries: { name: string; x: number[]; p: ConvParams; bias: boolean }[] = [
  { name: '3x3 padding 1', x: [3, 4, 7, 6], p: { out: 5, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, bias: true },
  { name: 'stride 2, padding 2, dilation 2', x: [2, 3, 9, 8], p: { out: 6, kernel: [3, 3], stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 1 }, bias: false },
  { name: '2x3 kernel, stride 2x1, groups 2', x: [2, 4, 7, 6], p: { out: 6, kernel: [2, 3], stride: [2, 1], padding: [1, 0], dilation: [1, 1], groups: 2 }, bias: true },
  { name: 'depthwise', x: [3, 3, 5, 5], p: { out: 3, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 3 }, bias: true },
  { name: '1x1', x: [2, 9, 4, 3], p: { out: 7, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }, bias: false },
  { name: 'kernel as large as the padded input', x: [1, 2, 3, 3], p: { out: 2, kernel: [5, 5], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, bias: true },
];

describe('conv2dFast and conv2dBackwardFast equal the reference', () => {
  it.each(geometries)('$name', ({ x: shape, p, bias }) => {
    const r = rng(7);
    const x = randomTensor(shape, r);
    const w = randomTensor([p.out, shape[1] / p.groups, ...p.kernel], r).data;
    const b = bias ? randomTensor([p.out], r).data : undefined;
    const want = conv2d(x, w, b, p);
    const got = conv2dFast(x, w, b, p);
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, 1e-5, 'y');
    const dy = randomTensor(want.shape, r);
    const gw = conv2dBackward(x, w, dy, p, bias);
    const gf = conv2dBackwardFast(x, w, dy, p, bias);
    expectClose(gf.dx.data, gw.dx.data, 1e-5, 'dx');
    expectClose(gf.dw, gw.dw, 1e-5, 'dw');
    if (bias) expectClose(gf.db!, gw.db!, 1e-5, 'db');
    else expect(gf.db).toBeUndefined();
    // One sample per chunk: the scratch bound a large input takes; dW summed over the chunks.
    expectClose(conv2dFast(x, w, b, p, 1).data, want.data, 1e-5, 'y by chunks');
    const gc = conv2dBackwardFast(x, w, dy, p, bias, 1);
    expectClose(gc.dx.data, gw.dx.data, 1e-5, 'dx by chunks');
    expectClose(gc.dw, gw.dw, 1e-5, 'dw by chunks');
  });
});

describe('the fast training path equals the reference on a whole network', () => {
  it('fashion.cnn in train mode, batch 4: loss, every gradient, running statistics and dL/dx', () => {
    const net = analyzeText(readFileSync('examples/fashion-mnist/fashion.cnn', 'utf8')).networks[0];
    const weights = randomWeights(net.tensors, rng(3));
    const x = randomTensor([4, 1, 28, 28], rng(4), 0, 1);
    const target = Float32Array.from([0, 3, 9, 3]);
    const opts = { mode: 'train' as const, loss: { kind: 'cross-entropy' as const }, seed: 5, step: 2 };
    const ref = lossAndGradients(net.graph, weights, net.tensors, x, target, { ...opts, kernels: 'reference' });
    const fast = lossAndGradients(net.graph, weights, net.tensors, x, target, opts);
    expect(Math.abs(fast.loss - ref.loss)).toBeLessThan(1e-5 * Math.abs(ref.loss));
    expect([...fast.grads.keys()]).toEqual([...ref.grads.keys()]);
    for (const [name, g] of ref.grads) expectClose(fast.grads.get(name)!, g, 1e-4, name);
    for (const [name, b] of ref.buffers) expectClose(fast.buffers.get(name)!, b, 1e-5, name);
    expectClose(fast.inputGrad.data, ref.inputGrad.data, 1e-4, 'dL/dx');
  });
});
