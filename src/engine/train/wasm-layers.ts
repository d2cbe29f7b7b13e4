/**
 * The training forward and backward of the kinds that carry the time, on the WebAssembly kernels
 * (train-kernels.c through wasm-train.ts): conv, linear, batch norm in train mode, the pools and
 * the piecewise activations.
 * Each gives what the CPU reference's rule gives (src/engine/cpu/backward.ts) up to float32
 * rounding and the order of summation; test/engine/train/fast-wasm.test.ts compares them.
 */
import { windowOut as windowOutSize } from '../../layers/window';
import type { ConvParams } from '../cpu/conv';
import type { DenseGrads } from '../cpu/grad-dense';
import { BN_MOMENTUM, type AffineGrads } from '../cpu/grad-norm';
import type { BatchNormParams } from '../cpu/norm';
import type { PoolParams } from '../cpu/pool';
import { tensor, type Tensor } from '../tensor';
import { fresh, type Dest, type TrainWasm } from './wasm-train';

/** The most floats one chunk's cols may hold (16 MB): larger inputs take the batch a few samples at a time. */
const CHUNK_FLOATS = 1 << 22;

function convGeometry(x: Tensor, p: ConvParams): { geom: number[]; OH: number; OW: number; K: number } {
  const [B, C, H, W] = x.shape;
  const OH = windowOutSize(H, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0], false);
  const OW = windowOutSize(W, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1], false);
  const geom = [B, C, H, W, OH, OW, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], p.groups, p.out];
  return { geom, OH, OW, K: (C / p.groups) * p.kernel[0] * p.kernel[1] };
}

function chunkOf(B: number, K: number, N: number, chunkFloats: number): number {
  return Math.max(1, Math.min(B, Math.floor(chunkFloats / Math.max(1, K * N))));
}

/** Conv2d's forward on the batch (im2col + one packed product per group and chunk). */
export function conv2dWasm(m: TrainWasm, x: Tensor, weight: Float32Array, bias: Float32Array | undefined, p: ConvParams, into: Dest = fresh, chunkFloats = CHUNK_FLOATS): Tensor {
  m.reset();
  const { geom, OH, OW, K } = convGeometry(x, p);
  const B = x.shape[0];
  const chunk = chunkOf(B, K, OH * OW, chunkFloats);
  const g = m.putInts(geom);
  const xp = m.put(x.data);
  const wp = m.put(weight);
  const bp = bias ? m.put(bias) : 0;
  const n = B * p.out * OH * OW;
  const yp = m.alloc(n);
  const scratch = m.alloc(m.k.conv_scratch(g, chunk));
  m.k.conv_forward(g, xp, wp, bp, yp, chunk, scratch);
  return tensor([B, p.out, OH, OW], m.take(yp, n, into));
}

/** Conv2d's gradients for x, the weight and the bias from dL/dy. */
export function conv2dBackwardWasm(m: TrainWasm, x: Tensor, weight: Float32Array, dy: Tensor, p: ConvParams, bias: boolean, into: Dest = fresh, chunkFloats = CHUNK_FLOATS): DenseGrads {
  m.reset();
  const { geom, OH, OW, K } = convGeometry(x, p);
  const B = x.shape[0];
  if (dy.shape[1] !== p.out || dy.shape[2] !== OH || dy.shape[3] !== OW) throw new Error(`conv backward: dy is [${dy.shape}], expected [${B}, ${p.out}, ${OH}, ${OW}]`);
  const chunk = chunkOf(B, K, OH * OW, chunkFloats);
  const g = m.putInts(geom);
  const xp = m.put(x.data);
  const wp = m.put(weight);
  const dyp = m.put(dy.data);
  const dxp = m.alloc(x.data.length);
  const dwp = m.alloc(weight.length);
  const dbp = bias ? m.alloc(p.out) : 0;
  const scratch = m.alloc(m.k.conv_scratch(g, chunk));
  m.k.conv_backward(g, xp, wp, dyp, dxp, dwp, dbp, chunk, scratch);
  return { dx: tensor([...x.shape], m.take(dxp, x.data.length, into)), dw: m.take(dwp, weight.length), db: bias ? m.take(dbp, p.out) : undefined };
}

/** Packed-panel scratch of gemm_nn for an M-row A with K columns. */
const panels = (M: number, K: number) => Math.ceil(M / 4) * 4 * Math.max(1, K);

/** y = x·Wᵀ + b for x `[B, N]`, W `[out, N]`. */
export function linearWasm(m: TrainWasm, x: Tensor, weight: Float32Array, bias: Float32Array | undefined, out: number): Tensor {
  m.reset();
  const [B, N] = x.shape;
  const xp = m.put(x.data);
  const wp = m.put(weight);
  const yp = m.alloc(B * out);
  m.k.gemm_nt(B, out, N, xp, N, wp, N, yp, out, 0);
  const y = m.take(yp, B * out);
  if (bias) for (let b = 0; b < B; b++) for (let o = 0; o < out; o++) y[b * out + o] += bias[o];
  return tensor([B, out], y);
}

/** dx = dy·W, dW = dyᵀ·x, db = Σ_b dy. */
export function linearBackwardWasm(m: TrainWasm, x: Tensor, weight: Float32Array, dy: Tensor, out: number, bias: boolean): DenseGrads {
  m.reset();
  const [B, N] = x.shape;
  const xp = m.put(x.data);
  const wp = m.put(weight);
  const dyp = m.put(dy.data);
  const dxp = m.alloc(B * N);
  const dwp = m.alloc(out * N);
  const pa = m.alloc(Math.max(panels(B, out), panels(out, B)));
  m.k.gemm_nn(B, N, out, dyp, out, 1, wp, N, dxp, N, 0, pa);
  m.k.gemm_nn(out, N, B, dyp, 1, out, xp, N, dwp, N, 0, pa);
  let db: Float32Array | undefined;
  if (bias) {
    const s = new Float64Array(out);
    for (let b = 0; b < B; b++) for (let o = 0; o < out; o++) s[o] += dy.data[b * out + o];
    db = Float32Array.from(s);
  }
  return { dx: tensor([B, N], m.take(dxp, B * N)), dw: m.take(dwp, out * N), db };
}

/** What the backward of a batch norm in train mode keeps from its forward. */
export interface BatchNormTrainWasm {
  x: Tensor;
  y: Tensor;
  /** (mean, invStd, Σ(x − mean)²) per channel. */
  stats: Float64Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  relu: boolean;
}

function channels(x: Tensor): [number, number, number] {
  const [B, C] = x.shape;
  return [B, C, x.data.length / (B * C)];
}

/** Batch norm with the batch's statistics (then a ReLU when `relu`), and the running statistics after it. */
export function batchNormTrainWasm(m: TrainWasm, x: Tensor, p: BatchNormParams, relu = false, into: Dest = fresh, momentum = BN_MOMENTUM): BatchNormTrainWasm {
  m.reset();
  const [B, C, hw] = channels(x);
  const n = B * hw;
  const xp = m.put(x.data);
  const yp = m.alloc(x.data.length);
  const gp = m.put(p.weight);
  const bp = m.put(p.bias);
  const sp = m.alloc(3 * C, true);
  m.k.bn_train_forward(xp, yp, B, C, hw, gp, bp, p.eps, relu ? 1 : 0, sp);
  const stats = m.f64.slice(sp / 8, sp / 8 + 3 * C);
  const runningMean = new Float32Array(C);
  const runningVar = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    runningMean[c] = (1 - momentum) * p.runningMean[c] + momentum * stats[3 * c];
    runningVar[c] = (1 - momentum) * p.runningVar[c] + momentum * (stats[3 * c + 2] / (n - 1));
  }
  return { x, y: tensor([...x.shape], m.take(yp, x.data.length, into)), stats, runningMean, runningVar, relu };
}

/** The gradients of batchNormTrainWasm's output (through its ReLU when it had one). */
export function batchNormTrainBackwardWasm(m: TrainWasm, t: BatchNormTrainWasm, weight: Float32Array, dy: Tensor, into: Dest = fresh): AffineGrads {
  m.reset();
  const [B, C, hw] = channels(t.x);
  const xp = m.put(t.x.data);
  const yp = m.put(t.y.data);
  const dyp = m.put(dy.data);
  const dxp = m.alloc(dy.data.length);
  const gp = m.put(weight);
  const sp = m.alloc(3 * C, true);
  m.f64.set(t.stats, sp / 8);
  const dgp = m.alloc(C);
  const dbp = m.alloc(C);
  m.k.bn_train_backward(xp, yp, dyp, dxp, B, C, hw, gp, sp, t.relu ? 1 : 0, dgp, dbp);
  return { dx: tensor([...dy.shape], m.take(dxp, dy.data.length, into)), dweight: m.take(dgp, C), dbias: m.take(dbp, C) };
}

/** Max pooling's output and, per output, the flat index into x of its window's (first) maximum. */
export function maxpool2dWasm(m: TrainWasm, x: Tensor, p: PoolParams, into: Dest = fresh, argmaxInto: (n: number) => Int32Array = (n) => new Int32Array(n)): { y: Tensor; argmax: Int32Array } {
  m.reset();
  const [B, C, H, W] = x.shape;
  const OH = windowOutSize(H, p.kernel[0], p.stride[0], p.padding[0], 1, p.ceil);
  const OW = windowOutSize(W, p.kernel[1], p.stride[1], p.padding[1], 1, p.ceil);
  const n = B * C * OH * OW;
  const xp = m.put(x.data);
  const yp = m.alloc(n);
  const ip = m.alloc(n);
  m.k.maxpool_forward(xp, yp, ip, B * C, H, W, OH, OW, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]);
  const argmax = argmaxInto(n);
  argmax.set(m.i32.subarray(ip / 4, ip / 4 + n));
  return { y: tensor([B, C, OH, OW], m.take(yp, n, into)), argmax };
}

/** Each output's gradient to its window's maximum. */
export function maxpool2dBackwardWasm(m: TrainWasm, xShape: readonly number[], argmax: Int32Array, dy: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const nIn = xShape.reduce((a, d) => a * d, 1);
  const dyp = m.put(dy.data);
  const ip = m.putInts(argmax);
  const dxp = m.alloc(nIn);
  m.k.maxpool_backward(dyp, ip, dxp, argmax.length, nIn);
  return tensor([...xShape], m.take(dxp, nIn, into));
}

/** ReLU: x where x > 0, else 0. */
export function reluWasm(m: TrainWasm, x: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const n = x.data.length;
  const xp = m.put(x.data);
  const yp = m.alloc(n);
  m.k.relu_forward(xp, yp, n);
  return tensor([...x.shape], m.take(yp, n, into));
}

/** ReLU's gradient: dy where x > 0 (the slope of x > 0, as PyTorch's), else 0. */
export function reluBackwardWasm(m: TrainWasm, x: Tensor, dy: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const n = x.data.length;
  const xp = m.put(x.data);
  const dyp = m.put(dy.data);
  const dxp = m.alloc(n);
  m.k.relu_backward(xp, dyp, dxp, n);
  return tensor([...x.shape], m.take(dxp, n, into));
}

function poolOut(x: Tensor, p: PoolParams): [number, number] {
  const [, , H, W] = x.shape;
  return [windowOutSize(H, p.kernel[0], p.stride[0], p.padding[0], 1, p.ceil), windowOutSize(W, p.kernel[1], p.stride[1], p.padding[1], 1, p.ceil)];
}

/** Average pooling with PyTorch's divisor (count_include_pad=True, clipped to the padded input). */
export function avgpool2dWasm(m: TrainWasm, x: Tensor, p: PoolParams, into: Dest = fresh): Tensor {
  m.reset();
  const [B, C, H, W] = x.shape;
  const [OH, OW] = poolOut(x, p);
  const n = B * C * OH * OW;
  const xp = m.put(x.data);
  const yp = m.alloc(n);
  m.k.avgpool_forward(xp, yp, B * C, H, W, OH, OW, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]);
  return tensor([B, C, OH, OW], m.take(yp, n, into));
}

/** Each output's gradient over its divisor to the real pixels of its window. */
export function avgpool2dBackwardWasm(m: TrainWasm, xShape: readonly number[], dy: Tensor, p: PoolParams, into: Dest = fresh): Tensor {
  m.reset();
  const [B, C, H, W] = xShape;
  const [, , OH, OW] = dy.shape;
  const nIn = B * C * H * W;
  const dyp = m.put(dy.data);
  const dxp = m.alloc(nIn);
  m.k.avgpool_backward(dyp, dxp, B * C, H, W, OH, OW, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1]);
  return tensor([...xShape], m.take(dxp, nIn, into));
}

/** Adaptive average pooling to `[OH, OW]` (PyTorch's bins); `[1, 1]` is the global average pool. */
export function adaptiveAvgPool2dWasm(m: TrainWasm, x: Tensor, size: readonly [number, number], into: Dest = fresh): Tensor {
  m.reset();
  const [B, C, H, W] = x.shape;
  const [OH, OW] = size;
  const n = B * C * OH * OW;
  const xp = m.put(x.data);
  const yp = m.alloc(n);
  m.k.adaptive_avgpool_forward(xp, yp, B * C, H, W, OH, OW);
  return tensor([B, C, OH, OW], m.take(yp, n, into));
}

export function adaptiveAvgPool2dBackwardWasm(m: TrainWasm, xShape: readonly number[], dy: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const [B, C, H, W] = xShape;
  const [, , OH, OW] = dy.shape;
  const nIn = B * C * H * W;
  const dyp = m.put(dy.data);
  const dxp = m.alloc(nIn);
  m.k.adaptive_avgpool_backward(dyp, dxp, B * C, H, W, OH, OW);
  return tensor([...xShape], m.take(dxp, nIn, into));
}

/** The piecewise activations act_forward and act_backward take, by their `op` in train-kernels.c. */
export const PIECEWISE_OPS = { leakyrelu: 0, relu6: 1, hardswish: 2, hardsigmoid: 3 } as const;
export type PiecewiseOp = (typeof PIECEWISE_OPS)[keyof typeof PIECEWISE_OPS];

/** A piecewise activation's forward (`a` the leaky relu's slope, else unused). */
export function piecewiseWasm(m: TrainWasm, op: PiecewiseOp, a: number, x: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const n = x.data.length;
  const xp = m.put(x.data);
  const yp = m.alloc(n);
  m.k.act_forward(op, xp, yp, n, a);
  return tensor([...x.shape], m.take(yp, n, into));
}

/** Its gradient, with PyTorch's derivative at the kinks. */
export function piecewiseBackwardWasm(m: TrainWasm, op: PiecewiseOp, a: number, x: Tensor, dy: Tensor, into: Dest = fresh): Tensor {
  m.reset();
  const n = x.data.length;
  const xp = m.put(x.data);
  const dyp = m.put(dy.data);
  const dxp = m.alloc(n);
  m.k.act_backward(op, xp, dyp, dxp, n, a);
  return tensor([...x.shape], m.take(dxp, n, into));
}
