/**
 * Batch norm for training on WebGPU, one workgroup per channel: in train mode the batch's
 * statistics (biased variance, two passes as the CPU reference), kept for the backward, and
 * PyTorch's running-statistics update (momentum 0.1, unbiased variance); in eval mode the
 * running statistics. The backward of both, and of a per-channel scale.
 */
import { BN_MOMENTUM } from '../cpu/grad-norm';
import { IN, RW } from './conv-grad-kernels';
import { LANES, REDUCE_SUM } from './layer-kernels';
import { BUILTINS, elementwise, f32, FLAT_WORKGROUP, grid1d, type Kernel } from './wgsl';

export interface ChannelDims {
  batch: number;
  channels: number;
  hw: number;
}

/** WGSL constants and `fn at(n, c)`: the index of the n-th value (over batch and pixels) of channel c. */
function dims(d: ChannelDims): string {
  return `const C = ${d.channels}u; const HW = ${d.hw}u; const N = ${d.batch * d.hw}u; const NF = ${f32(d.batch * d.hw)};
fn at(n: u32, c: u32) -> u32 { return ((n / HW) * C + c) * HW + n % HW; }`;
}

function perChannel(label: string, d: ChannelDims, decls: string, body: string, buffers: GPUBuffer[]): Kernel {
  const code = `${decls}
${dims(d)}
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= C) { return; }
  let c = wg;
  ${body}
}`;
  return { label, code, workgroups: grid1d(d.channels), buffers };
}

export interface BnTrainBuffers {
  x: GPUBuffer;
  weight: GPUBuffer;
  bias: GPUBuffer;
  runningMean: GPUBuffer;
  runningVar: GPUBuffer;
  y: GPUBuffer;
  /** [mean; 1/std] per channel, for the backward. */
  saved: GPUBuffer;
  /** [new running mean; new running var] per channel. */
  updated: GPUBuffer;
}

export function bnTrainForwardKernel(label: string, d: ChannelDims, eps: number, b: BnTrainBuffers): Kernel {
  const m = BN_MOMENTUM;
  return perChannel(
    label,
    d,
    [IN(0, 'x'), IN(1, 'gamma'), IN(2, 'beta'), IN(3, 'rm'), IN(4, 'rv'), RW(5, 'y'), RW(6, 'saved'), RW(7, 'updated')].join('\n'),
    `var s = 0.0;
  for (var n = lid.x; n < N; n += ${LANES}u) { s += x[at(n, c)]; }
  let mean = reduceSum(s, lid.x) / NF;
  var q = 0.0;
  for (var n = lid.x; n < N; n += ${LANES}u) { let v = x[at(n, c)] - mean; q = fma(v, v, q); }
  let sq = reduceSum(q, lid.x);
  let inv = 1.0 / sqrt(sq / NF + ${f32(eps)});
  let g = gamma[c]; let be = beta[c];
  for (var n = lid.x; n < N; n += ${LANES}u) { let k = at(n, c); y[k] = fma((x[k] - mean) * inv, g, be); }
  if (lid.x == 0u) {
    saved[c] = mean; saved[C + c] = inv;
    updated[c] = ${f32(1 - m)} * rm[c] + ${f32(m)} * mean;
    updated[C + c] = ${f32(1 - m)} * rv[c] + ${f32(m)} * (sq / (NF - 1.0));
  }`,
    [b.x, b.weight, b.bias, b.runningMean, b.runningVar, b.y, b.saved, b.updated],
  );
}

export interface BnGradBuffers {
  x: GPUBuffer;
  dy: GPUBuffer;
  weight: GPUBuffer;
  dx: GPUBuffer;
  dweight: GPUBuffer;
  dbias: GPUBuffer;
}

/** dx += γ·inv/N·(N·dy − Σdy − x̂·Σ(dy·x̂)); dγ = Σ dy·x̂, dβ = Σ dy, with the batch's statistics. */
export function bnTrainBackwardKernel(label: string, d: ChannelDims, saved: GPUBuffer, b: BnGradBuffers): Kernel {
  return perChannel(
    `${label} backward`,
    d,
    [IN(0, 'x'), IN(1, 'dy'), IN(2, 'gamma'), IN(3, 'saved'), RW(4, 'dx'), RW(5, 'dgamma'), RW(6, 'dbeta')].join('\n'),
    `let mean = saved[c]; let inv = saved[C + c];
  var s = 0.0; var sx = 0.0;
  for (var n = lid.x; n < N; n += ${LANES}u) { let k = at(n, c); s += dy[k]; sx = fma(dy[k], (x[k] - mean) * inv, sx); }
  let sdy = reduceSum(s, lid.x);
  let sdyx = reduceSum(sx, lid.x);
  let scale = gamma[c] * inv / NF;
  for (var n = lid.x; n < N; n += ${LANES}u) {
    let k = at(n, c);
    dx[k] += scale * (NF * dy[k] - sdy - (x[k] - mean) * inv * sdyx);
  }
  if (lid.x == 0u) { dgamma[c] = sdyx; dbeta[c] = sdy; }`,
    [b.x, b.dy, b.weight, saved, b.dx, b.dweight, b.dbias],
  );
}

/** y = (x − running mean)/√(running var + eps)·γ + β, one thread per value. */
export function bnEvalForwardKernel(label: string, d: ChannelDims, eps: number, b: Omit<BnTrainBuffers, 'saved' | 'updated'>): Kernel {
  return elementwise(
    label,
    d.batch * d.channels * d.hw,
    [IN(0, 'x'), IN(1, 'gamma'), IN(2, 'beta'), IN(3, 'rm'), IN(4, 'rv'), RW(5, 'y')].join('\n'),
    `let c = (i / ${d.hw}u) % ${d.channels}u;
  y[i] = fma((x[i] - rm[c]) / sqrt(rv[c] + ${f32(eps)}), gamma[c], beta[c]);`,
    [b.x, b.weight, b.bias, b.runningMean, b.runningVar, b.y],
  );
}

/** Eval mode's batch norm is a per-channel affine map: dx += dy·γ·inv, dγ = Σ dy·x̂, dβ = Σ dy. */
export function bnEvalBackwardKernel(label: string, d: ChannelDims, eps: number, runningMean: GPUBuffer, runningVar: GPUBuffer, b: BnGradBuffers): Kernel {
  return perChannel(
    `${label} backward`,
    d,
    [IN(0, 'x'), IN(1, 'dy'), IN(2, 'gamma'), IN(3, 'rm'), IN(4, 'rv'), RW(5, 'dx'), RW(6, 'dgamma'), RW(7, 'dbeta')].join('\n'),
    `let mean = rm[c]; let inv = 1.0 / sqrt(rv[c] + ${f32(eps)});
  var s = 0.0; var sx = 0.0;
  let scale = gamma[c] * inv;
  for (var n = lid.x; n < N; n += ${LANES}u) {
    let k = at(n, c);
    s += dy[k]; sx = fma(dy[k], (x[k] - mean) * inv, sx);
    dx[k] += dy[k] * scale;
  }
  let sdy = reduceSum(s, lid.x);
  let sdyx = reduceSum(sx, lid.x);
  if (lid.x == 0u) { dgamma[c] = sdyx; dbeta[c] = sdy; }`,
    [b.x, b.dy, b.weight, runningMean, runningVar, b.dx, b.dweight, b.dbias],
  );
}

/** y = x·s[c]. */
export function scaleForwardKernel(label: string, d: ChannelDims, x: GPUBuffer, s: GPUBuffer, y: GPUBuffer): Kernel {
  return elementwise(label, d.batch * d.channels * d.hw, `${IN(0, 'x')}\n${IN(1, 's')}\n${RW(2, 'y')}`, `y[i] = x[i] * s[(i / ${d.hw}u) % ${d.channels}u];`, [x, s, y]);
}

/** dx += dy·s[c]; ds[c] = Σ dy·x. */
export function scaleBackwardKernel(label: string, d: ChannelDims, x: GPUBuffer, dy: GPUBuffer, s: GPUBuffer, dx: GPUBuffer, ds: GPUBuffer): Kernel {
  return perChannel(
    `${label} backward`,
    d,
    [IN(0, 'x'), IN(1, 'dy'), IN(2, 's'), RW(3, 'dx'), RW(4, 'ds')].join('\n'),
    `var q = 0.0;
  for (var n = lid.x; n < N; n += ${LANES}u) { let k = at(n, c); q = fma(dy[k], x[k], q); dx[k] += dy[k] * s[c]; }
  let t = reduceSum(q, lid.x);
  if (lid.x == 0u) { ds[c] = t; }`,
    [x, dy, s, dx, ds],
  );
}
