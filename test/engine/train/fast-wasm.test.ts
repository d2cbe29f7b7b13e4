/**
 * The fast training path's WebAssembly kernels (src/engine/wasm/train-kernels.c through
 * src/engine/train/wasm-layers.ts) against the CPU reference they stand in for, kernel by kernel:
 * the same figures up to float32 rounding, for every geometry the reference takes (stride,
 * padding, dilation, groups, odd sizes, products with edges in both dimensions). The PyTorch
 * autograd suites in this folder run on this path as the default of lossAndGradients.
 */
import { describe, expect, it } from 'vitest';
import { conv2d, type ConvParams } from '../../../src/engine/cpu/conv';
import { linear } from '../../../src/engine/cpu/dense';
import { conv2dBackward, linearBackward } from '../../../src/engine/cpu/grad-dense';
import { batchNormTrain, batchNormTrainBackward } from '../../../src/engine/cpu/grad-norm';
import { adaptiveAvgPool2dBackward, avgpool2dBackward, maxpool2dBackward } from '../../../src/engine/cpu/grad-pool';
import { adaptiveAvgPool2d, avgpool2d, maxpool2d, type PoolParams } from '../../../src/engine/cpu/pool';
import { passLayerCpu, type PassContext } from '../../../src/engine/cpu/backward';
import { passLayerFast } from '../../../src/engine/train/fast-pass';
import type { LayerAttrs } from '../../../src/layers';
import { tensor } from '../../../src/engine/tensor';
import { trainWasm, type TrainWasm } from '../../../src/engine/train/wasm-train';
import {
  adaptiveAvgPool2dBackwardWasm,
  adaptiveAvgPool2dWasm,
  avgpool2dBackwardWasm,
  avgpool2dWasm,
  batchNormTrainBackwardWasm,
  batchNormTrainWasm,
  conv2dBackwardWasm,
  conv2dWasm,
  linearBackwardWasm,
  linearWasm,
  maxpool2dBackwardWasm,
  maxpool2dWasm,
  reluBackwardWasm,
  reluWasm,
} from '../../../src/engine/train/wasm-layers';
import { expectClose, randomTensor, rng } from '../helpers';

function kernels(): TrainWasm {
  const m = trainWasm();
  if (!m) throw new Error('WebAssembly SIMD does not compile in this Node');
  return m;
}

/** C = A·B in float64, A(i, k) at a[i·ars + k·acs], B [K, N] row-major. */
function product(M: number, N: number, K: number, a: Float32Array, ars: number, acs: number, b: Float32Array): Float32Array {
  const c = new Float32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * ars + k * acs] * b[k * N + j];
      c[i * N + j] = s;
    }
  return c;
}

describe('gemm_nn and gemm_nt', () => {
  // Sizes around the 4-row panels, 8-column strips, 2×4 tiles and the 2048-term blocks of gemm_nt.
  it.each([
    [1, 1, 1],
    [4, 8, 3],
    [5, 9, 7],
    [3, 17, 1],
    [13, 10, 33],
    [6, 5, 2051],
  ])('%i×%i, reduction %i', (M, N, K) => {
    const m = kernels();
    const r = rng(M * 1000 + N * 10 + K);
    const A = randomTensor([M, K], r).data;
    const B = randomTensor([K, N], r).data;
    const Bt = new Float32Array(N * K);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j];
    const want = product(M, N, K, A, K, 1, B);
    m.reset();
    const ap = m.put(A);
    const bp = m.put(B);
    const btp = m.put(Bt);
    const cp = m.alloc(M * N);
    const pa = m.alloc(Math.ceil(Math.max(M, K) / 4) * 4 * Math.max(M, K));
    m.k.gemm_nn(M, N, K, ap, K, 1, bp, N, cp, N, 0, pa);
    expectClose(m.take(cp, M * N), want, 1e-5, 'A·B');
    // Accumulating into C: C + A·B.
    m.k.gemm_nn(M, N, K, ap, K, 1, bp, N, cp, N, 1, pa);
    expectClose(m.take(cp, M * N), want.map((v) => 2 * v), 1e-5, 'C + A·B');
    m.k.gemm_nt(M, N, K, ap, K, btp, K, cp, N, 0);
    expectClose(m.take(cp, M * N), want, 1e-5, 'A·(Bᵀ)ᵀ');
    // Aᵀ through the strides: (Aᵀ)(k, i) = A(i, k), a [K, M] matrix times [M, N].
    const C = randomTensor([M, N], r).data;
    const ccp = m.put(C);
    const dp = m.alloc(K * N);
    m.k.gemm_nn(K, N, M, ap, 1, K, ccp, N, dp, N, 0, pa);
    expectClose(m.take(dp, K * N), product(K, N, M, A, 1, K, C), 1e-5, 'Aᵀ·C');
  });
});

const convs: { name: string; x: number[]; p: ConvParams; bias: boolean }[] = [
  { name: '3x3 padding 1', x: [3, 4, 7, 6], p: { out: 5, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, bias: true },
  { name: 'stride 2, padding 2, dilation 2', x: [2, 3, 9, 8], p: { out: 6, kernel: [3, 3], stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 1 }, bias: false },
  { name: '2x3 kernel, stride 2x1, groups 2', x: [2, 4, 7, 6], p: { out: 6, kernel: [2, 3], stride: [2, 1], padding: [1, 0], dilation: [1, 1], groups: 2 }, bias: true },
  { name: 'depthwise', x: [3, 3, 5, 5], p: { out: 3, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 3 }, bias: true },
  { name: '1x1, odd channels', x: [2, 9, 4, 3], p: { out: 7, kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }, bias: false },
  { name: 'kernel as large as the padded input', x: [1, 2, 3, 3], p: { out: 2, kernel: [5, 5], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, bias: true },
  { name: 'stride 3, padding past the stride', x: [2, 2, 11, 10], p: { out: 9, kernel: [3, 4], stride: [3, 3], padding: [2, 3], dilation: [1, 1], groups: 1 }, bias: true },
  { name: 'wide rows (vector runs), 16 channels', x: [2, 16, 5, 19], p: { out: 16, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, bias: false },
];

describe('conv2dWasm and conv2dBackwardWasm equal the reference', () => {
  it.each(convs)('$name', ({ x: shape, p, bias }) => {
    const m = kernels();
    const r = rng(11);
    const x = randomTensor(shape, r);
    const w = randomTensor([p.out, shape[1] / p.groups, ...p.kernel], r).data;
    const b = bias ? randomTensor([p.out], r).data : undefined;
    const want = conv2d(x, w, b, p);
    const got = conv2dWasm(m, x, w, b, p);
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, 1e-5, 'y');
    const dy = randomTensor(want.shape, r);
    const ref = conv2dBackward(x, w, dy, p, bias);
    const g = conv2dBackwardWasm(m, x, w, dy, p, bias);
    expectClose(g.dx.data, ref.dx.data, 1e-5, 'dx');
    expectClose(g.dw, ref.dw, 1e-5, 'dw');
    if (bias) expectClose(g.db!, ref.db!, 1e-5, 'db');
    else expect(g.db).toBeUndefined();
    // One sample per chunk (the bound a large input takes): dW summed over the chunks.
    expectClose(conv2dWasm(m, x, w, b, p, undefined, 1).data, want.data, 1e-5, 'y by chunks');
    const gc = conv2dBackwardWasm(m, x, w, dy, p, bias, undefined, 1);
    expectClose(gc.dx.data, ref.dx.data, 1e-5, 'dx by chunks');
    expectClose(gc.dw, ref.dw, 1e-5, 'dw by chunks');
  });
});

describe('linearWasm and linearBackwardWasm equal the reference', () => {
  it.each([
    [1, 1, 1, true],
    [3, 10, 7, false],
    [32, 1024, 10, true],
    [5, 6, 9, true],
  ])('batch %i, %i → %i, bias %s', (B, N, out, bias) => {
    const m = kernels();
    const r = rng(B * 7 + N + out);
    const x = randomTensor([B, N], r);
    const w = randomTensor([out, N], r).data;
    const b = bias ? randomTensor([out], r).data : undefined;
    expectClose(linearWasm(m, x, w, b, out).data, linear(x, w, b, out).data, 1e-5, 'y');
    const dy = randomTensor([B, out], r);
    const ref = linearBackward(x, w, dy, out, bias);
    const g = linearBackwardWasm(m, x, w, dy, out, bias);
    expectClose(g.dx.data, ref.dx.data, 1e-5, 'dx');
    expectClose(g.dw, ref.dw, 1e-5, 'dw');
    if (bias) expectClose(g.db!, ref.db!, 1e-5, 'db');
  });
});

describe('batchNormTrainWasm equals the reference in train mode', () => {
  it.each([
    { name: '2-D, odd positions', shape: [3, 5, 3, 7] },
    { name: '2-D, vector-wide rows', shape: [2, 4, 4, 8] },
    { name: '1-D', shape: [6, 9] },
    { name: 'a large mean', shape: [4, 3, 5, 5], offset: 100 },
  ])('$name', ({ shape, offset = 0 }) => {
    const m = kernels();
    const r = rng(5);
    const C = shape[1];
    const x = randomTensor(shape, r, offset - 2, offset + 3);
    const p = { weight: randomTensor([C], r, 0.5, 1.5).data, bias: randomTensor([C], r).data, runningMean: randomTensor([C], r).data, runningVar: randomTensor([C], r, 0.5, 2).data, eps: 1e-5 };
    const ref = batchNormTrain(x, p);
    const got = batchNormTrainWasm(m, x, p);
    expectClose(got.y.data, ref.y.data, 1e-5, 'y');
    expectClose(got.runningMean, ref.runningMean, 1e-6, 'running mean');
    expectClose(got.runningVar, ref.runningVar, 1e-6, 'running var');
    const dy = randomTensor(shape, r);
    const gr = batchNormTrainBackward(ref, p.weight, dy);
    const g = batchNormTrainBackwardWasm(m, got, p.weight, dy);
    expectClose(g.dx.data, gr.dx.data, 1e-5, 'dx');
    expectClose(g.dweight, gr.dweight, 1e-5, 'dγ');
    expectClose(g.dbias, gr.dbias, 1e-5, 'dβ');

    // With the ReLU fused: the reference's bn then relu, and the gradient through both.
    const fused = batchNormTrainWasm(m, x, p, true);
    const relu = ref.y.data.map((v) => (v > 0 ? v : 0));
    expectClose(fused.y.data, relu, 1e-5, 'relu(y)');
    const masked = tensor(shape, dy.data.map((d, i) => (ref.y.data[i] > 0 ? d : 0)));
    const gf = batchNormTrainBackwardWasm(m, fused, p.weight, dy);
    const gfr = batchNormTrainBackward(ref, p.weight, masked);
    expectClose(gf.dx.data, gfr.dx.data, 1e-5, 'dx through the relu');
    expectClose(gf.dweight, gfr.dweight, 1e-5, 'dγ through the relu');
  });
});

describe('maxpool2dWasm equals the reference', () => {
  const pools: { name: string; x: number[]; p: PoolParams }[] = [
    { name: '2x2', x: [2, 3, 6, 8], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil: false } },
    { name: 'ceil mode, odd size', x: [2, 2, 7, 7], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil: true } },
    { name: '3x3 stride 2 padding 1 (overlapping windows)', x: [1, 3, 9, 6], p: { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceil: false } },
    { name: '2x3, stride 1x2, ceil', x: [2, 2, 5, 8], p: { kernel: [2, 3], stride: [1, 2], padding: [1, 1], ceil: true } },
  ];
  it.each(pools)('$name', ({ x: shape, p }) => {
    const m = kernels();
    const r = rng(3);
    const x = randomTensor(shape, r);
    const want = maxpool2d(x, p);
    const { y, argmax } = maxpool2dWasm(m, x, p);
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.data, 0, 'y');
    const dy = randomTensor(want.shape, r);
    expectClose(maxpool2dBackwardWasm(m, x.shape, argmax, dy).data, maxpool2dBackward(x, dy, p).data, 1e-6, 'dx');
  });

  it('sends a tie to the first maximum in row-major order, as PyTorch', () => {
    const m = kernels();
    const x = tensor([1, 1, 2, 4], Float32Array.from([1, 5, 5, 2, 5, 0, 3, 5]));
    const p: PoolParams = { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil: false };
    const { argmax } = maxpool2dWasm(m, x, p);
    expect([...argmax]).toEqual([1, 2]);
    const dy = tensor([1, 1, 1, 2], Float32Array.from([1, 1]));
    expect([...maxpool2dBackwardWasm(m, x.shape, argmax, dy).data]).toEqual([...maxpool2dBackward(x, dy, p).data]);
  });
});

describe('reluWasm', () => {
  it('is x where x > 0, else 0, and passes dy where x > 0 (0 at x = 0)', () => {
    const m = kernels();
    const x = tensor([1, 9], Float32Array.from([-2, -0.5, 0, 0.25, 3, -1e-30, 1e-30, 7, -7]));
    expect([...reluWasm(m, x).data]).toEqual([0, 0, 0, 0.25, 3, 0, 1e-30, 7, 0].map(Math.fround));
    const dy = tensor([1, 9], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect([...reluBackwardWasm(m, x, dy).data]).toEqual([0, 0, 0, 4, 5, 0, 7, 8, 0]);
  });
});

describe('avgpool2dWasm equals the reference (count_include_pad divisor)', () => {
  const pools: { name: string; x: number[]; p: PoolParams }[] = [
    { name: '2x2', x: [2, 3, 6, 8], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil: false } },
    { name: '3x3 stride 2 padding 1', x: [1, 3, 9, 6], p: { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceil: false } },
    { name: 'ceil mode, odd size (a window past the edge)', x: [2, 2, 7, 7], p: { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil: true } },
    { name: '3x3 stride 2 padding 1, ceil (a window past the padding)', x: [1, 2, 8, 8], p: { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceil: true } },
    { name: '2x3, stride 1x2, padding 1, ceil', x: [2, 2, 5, 8], p: { kernel: [2, 3], stride: [1, 2], padding: [1, 1], ceil: true } },
  ];
  it.each(pools)('$name', ({ x: shape, p }) => {
    const m = kernels();
    const r = rng(5);
    const x = randomTensor(shape, r);
    const want = avgpool2d(x, p);
    const y = avgpool2dWasm(m, x, p);
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.data, 1e-5, 'y');
    const dy = randomTensor(want.shape, r);
    expectClose(avgpool2dBackwardWasm(m, x.shape, dy, p).data, avgpool2dBackward(x, dy, p).data, 1e-5, 'dx');
  });
});

describe('adaptiveAvgPool2dWasm equals the reference', () => {
  it.each([
    { x: [2, 3, 7, 9], size: [3, 4] as [number, number] },
    { x: [1, 2, 5, 5], size: [3, 2] as [number, number] },
    { x: [2, 2, 4, 6], size: [2, 3] as [number, number] },
    { x: [1, 2, 3, 3], size: [5, 4] as [number, number] },
    { x: [2, 3, 6, 5], size: [1, 1] as [number, number] },
  ])('$x to $size', ({ x: shape, size }) => {
    const m = kernels();
    const r = rng(6);
    const x = randomTensor(shape, r);
    const want = adaptiveAvgPool2d(x, size);
    const y = adaptiveAvgPool2dWasm(m, x, size);
    expect(y.shape).toEqual(want.shape);
    expectClose(y.data, want.data, 1e-5, 'y');
    const dy = randomTensor(want.shape, r);
    expectClose(adaptiveAvgPool2dBackwardWasm(m, x.shape, dy).data, adaptiveAvgPool2dBackward(x, dy, size).data, 1e-5, 'dx');
  });
});

/** Every value on [-8, 8] in steps of 1/16, with the kinks 0, ±3 and 6 among them exactly, and a few off the grid. */
function activationInput(): Float32Array {
  const v: number[] = [];
  for (let i = -128; i <= 128; i++) v.push(i / 16);
  v.push(-1e-30, 1e-30, 2.9999999, 3.0000002, -2.9999999, -3.0000002, 5.9999995, 6.0000005, -0);
  return Float32Array.from(v);
}

describe('the fast path of every new kind equals the reference pass', () => {
  const ctx = (path: string): PassContext => ({ mode: 'train', path, seed: 1, step: 0 });
  const pool = (k: [number, number], s: [number, number], p: [number, number], ceil: boolean) => ({ kernel: k, stride: s, padding: p, ceil });
  const cases: { name: string; attrs: LayerAttrs; shape: number[] }[] = [
    { name: 'avgpool 3x3/2 pad 1 ceil', attrs: { kind: 'avgpool', ...pool([3, 3], [2, 2], [1, 1], true) }, shape: [2, 3, 8, 7] },
    { name: 'avgpool 2x2/2', attrs: { kind: 'avgpool', ...pool([2, 2], [2, 2], [0, 0], false) }, shape: [2, 3, 6, 6] },
    { name: 'gap', attrs: { kind: 'gap' }, shape: [3, 4, 5, 7] },
    { name: 'adaptiveavgpool 3x2 of 7x5', attrs: { kind: 'adaptiveavgpool', size: [3, 2] }, shape: [2, 3, 7, 5] },
    { name: 'leakyrelu 0.1', attrs: { kind: 'leakyrelu', slope: 0.1 }, shape: [] },
    { name: 'relu6', attrs: { kind: 'relu6' }, shape: [] },
    { name: 'hardswish', attrs: { kind: 'hardswish' }, shape: [] },
    { name: 'hardsigmoid', attrs: { kind: 'hardsigmoid' }, shape: [] },
    { name: 'sigmoid', attrs: { kind: 'sigmoid' }, shape: [] },
    { name: 'tanh', attrs: { kind: 'tanh' }, shape: [] },
    { name: 'silu', attrs: { kind: 'silu' }, shape: [] },
    { name: 'gelu', attrs: { kind: 'gelu', approximate: 'none' }, shape: [] },
    { name: 'gelu tanh', attrs: { kind: 'gelu', approximate: 'tanh' }, shape: [] },
  ];
  it.each(cases)('$name', ({ attrs, shape }) => {
    const r = rng(7);
    const data = shape.length ? randomTensor(shape, r) : tensor([1, activationInput().length], activationInput());
    const x = tensor([...data.shape], Float32Array.from(data.data));
    const want = passLayerCpu(attrs, [x], {}, ctx('ref'));
    const got = passLayerFast(attrs, [x], {}, ctx('fast'));
    expect(got.output.shape).toEqual(want.output.shape);
    expectClose(got.output.data, want.output.data, 1e-5, 'y');
    const dy = randomTensor([...want.output.shape], r, 0.5, 2);
    const gWant = want.backward(dy).dx[0];
    const gGot = got.backward(dy).dx[0];
    expectClose(gGot!.data, gWant!.data, 1e-5, 'dx');
    // The fast pass (not the reference's) ran: it writes into the step's reused buffer.
    const again = passLayerFast(attrs, [x], {}, ctx('fast'));
    expect(again.output.data.buffer).toBe(got.output.data.buffer);
  });

  it('takes the kinks as PyTorch: relu6 0 at 0 and 6, hardsigmoid 0 at ±3, hardswish x/3 + 1/2 at ±3, leaky relu the slope at 0', () => {
    const x = tensor([1, 5], Float32Array.from([0, 6, 3, -3, -0]));
    const dy = tensor([1, 5], Float32Array.from([1, 1, 1, 1, 1]));
    const grad = (attrs: LayerAttrs) => [...passLayerFast(attrs, [x], {}, ctx('kinks')).backward(dy).dx[0]!.data];
    expect(grad({ kind: 'relu6' })).toEqual([0, 0, 1, 0, 0]);
    expect(grad({ kind: 'hardsigmoid' })).toEqual([1, 0, 0, 0, 1].map((v) => Math.fround(v / 6)));
    expect(grad({ kind: 'hardswish' })).toEqual([0.5, 1, 1.5, -0.5, 0.5]);
    expect(grad({ kind: 'leakyrelu', slope: 0.25 })).toEqual([0.25, 1, 1, 0.25, 0.25]);
  });
});
