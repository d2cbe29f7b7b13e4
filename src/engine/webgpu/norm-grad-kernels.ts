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

/**
 * Layer and group norm as rows normalised on their own: `fn at(r, k)` the index of row r's k-th
 * value, `fn chan(r, k)` its channel (for γ and β), `fn rowOf(b, c, p)` the row holding
 * channel c at position p of sample b. Neither kind has running statistics, so eval and train
 * are one pass.
 */
export interface RowNorm {
  batch: number;
  channels: number;
  hw: number;
  rows: number;
  perRow: number;
  wgsl: string;
}

/** Over the channels at each position (a flat input: one position). */
export function layerNormRows(batch: number, channels: number, hw: number): RowNorm {
  return {
    batch,
    channels,
    hw,
    rows: batch * hw,
    perRow: channels,
    wgsl: `fn at(r: u32, k: u32) -> u32 { return (r / HW) * C * HW + k * HW + r % HW; }
fn chan(r: u32, k: u32) -> u32 { return k; }
fn rowOf(b: u32, c: u32, p: u32) -> u32 { return b * HW + p; }`,
  };
}

/** Over each group of C/G channels and all their positions, stored together. */
export function groupNormRows(batch: number, channels: number, hw: number, groups: number): RowNorm {
  const per = channels / groups;
  return {
    batch,
    channels,
    hw,
    rows: batch * groups,
    perRow: per * hw,
    wgsl: `fn at(r: u32, k: u32) -> u32 { return r * NR + k; }
fn chan(r: u32, k: u32) -> u32 { return (r % ${groups}u) * ${per}u + k / HW; }
fn rowOf(b: u32, c: u32, p: u32) -> u32 { return b * ${groups}u + c / ${per}u; }`,
  };
}

function perRowKernel(label: string, g: RowNorm, count: number, decls: string, body: string, buffers: GPUBuffer[]): Kernel {
  const code = `${decls}
const C = ${g.channels}u; const HW = ${g.hw}u; const R = ${g.rows}u; const NR = ${g.perRow}u; const NRF = ${f32(g.perRow)}; const NB = ${g.batch * g.hw}u;
${g.wgsl}
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${count}u) { return; }
  ${body}
}`;
  return { label, code, workgroups: grid1d(count), buffers };
}

/** y = x̂·γ + β per row, the mean and then the deviations' variance as the CPU; [mean; 1/σ] per row kept for the backward. */
export function rowNormForwardKernel(label: string, g: RowNorm, eps: number, b: { x: GPUBuffer; weight: GPUBuffer; bias: GPUBuffer; y: GPUBuffer; saved: GPUBuffer }): Kernel {
  return perRowKernel(
    label,
    g,
    g.rows,
    [IN(0, 'x'), IN(1, 'gamma'), IN(2, 'beta'), RW(3, 'y'), RW(4, 'saved')].join('\n'),
    `let r = wg;
  var s = 0.0;
  for (var k = lid.x; k < NR; k += ${LANES}u) { s += x[at(r, k)]; }
  let mean = reduceSum(s, lid.x) / NRF;
  var q = 0.0;
  for (var k = lid.x; k < NR; k += ${LANES}u) { let v = x[at(r, k)] - mean; q = fma(v, v, q); }
  let inv = 1.0 / sqrt(reduceSum(q, lid.x) / NRF + ${f32(eps)});
  for (var k = lid.x; k < NR; k += ${LANES}u) { let i = at(r, k); let c = chan(r, k); y[i] = fma((x[i] - mean) * inv, gamma[c], beta[c]); }
  if (lid.x == 0u) { saved[r] = mean; saved[R + r] = inv; }`,
    [b.x, b.weight, b.bias, b.y, b.saved],
  );
}

/** dx += inv/n·(n·g − Σg − x̂·Σ(g·x̂)) with g = dy·γ, per row. */
export function rowNormBackwardKernel(label: string, g: RowNorm, saved: GPUBuffer, x: GPUBuffer, dy: GPUBuffer, weight: GPUBuffer, dx: GPUBuffer): Kernel {
  return perRowKernel(
    `${label} backward`,
    g,
    g.rows,
    [IN(0, 'x'), IN(1, 'dy'), IN(2, 'gamma'), IN(3, 'saved'), RW(4, 'dx')].join('\n'),
    `let r = wg; let mean = saved[r]; let inv = saved[R + r];
  var s = 0.0; var sx = 0.0;
  for (var k = lid.x; k < NR; k += ${LANES}u) { let i = at(r, k); let gk = dy[i] * gamma[chan(r, k)]; s += gk; sx = fma(gk, (x[i] - mean) * inv, sx); }
  let sg = reduceSum(s, lid.x);
  let sgx = reduceSum(sx, lid.x);
  for (var k = lid.x; k < NR; k += ${LANES}u) {
    let i = at(r, k);
    dx[i] += inv * (dy[i] * gamma[chan(r, k)] - sg / NRF - (x[i] - mean) * inv * (sgx / NRF));
  }`,
    [x, dy, weight, saved, dx],
  );
}

/** dγ[c] = Σ dy·x̂, dβ[c] = Σ dy over the batch's positions, each x̂ with its row's saved statistics: one workgroup per channel. */
export function rowNormParamGradKernel(label: string, g: RowNorm, saved: GPUBuffer, x: GPUBuffer, dy: GPUBuffer, dweight: GPUBuffer, dbias: GPUBuffer): Kernel {
  return perRowKernel(
    `${label} dγ dβ`,
    g,
    g.channels,
    [IN(0, 'x'), IN(1, 'dy'), IN(2, 'saved'), RW(3, 'dgamma'), RW(4, 'dbeta')].join('\n'),
    `let c = wg;
  var s = 0.0; var sx = 0.0;
  for (var n = lid.x; n < NB; n += ${LANES}u) {
    let b = n / HW; let p = n % HW; let i = (b * C + c) * HW + p; let r = rowOf(b, c, p);
    s += dy[i]; sx = fma(dy[i], (x[i] - saved[r]) * saved[R + r], sx);
  }
  let sdy = reduceSum(s, lid.x);
  let sdyx = reduceSum(sx, lid.x);
  if (lid.x == 0u) { dgamma[c] = sdyx; dbeta[c] = sdy; }`,
    [x, dy, saved, dweight, dbias],
  );
}

/**
 * LocalResponseNorm's backward, one thread per value: with s_c = k + α/n·Σ_{j∈N(c)} x_j²,
 * dx_j += dy_j·s_j^−β − 2αβ/n·x_j·Σ_{c: j∈N(c)} dy_c·x_c·s_c^(−β−1), each s_c summed again
 * (a window of `size` channels) rather than kept.
 */
export function lrnBackwardKernel(label: string, d: ChannelDims, p: { size: number; alpha: number; beta: number; k: number }, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Kernel {
  return elementwise(
    `${label} backward`,
    d.batch * d.channels * d.hw,
    `${IN(0, 'x')}\n${IN(1, 'dy')}\n${RW(2, 'dx')}
const C = ${d.channels}i; const HW = ${d.hw}u; const LO = ${Math.floor(p.size / 2)}i; const HI = ${Math.floor((p.size - 1) / 2)}i;
fn denom(base: u32, c: i32) -> f32 {
  var sq = 0.0;
  for (var j = max(c - LO, 0); j <= min(c + HI, C - 1); j++) { let v = x[base + u32(j) * HW]; sq = fma(v, v, sq); }
  return ${f32(p.k)} + ${f32(p.alpha / p.size)} * sq;
}`,
    `let q = i % HW; let j = i32((i / HW) % u32(C)); let base = (i / (HW * u32(C))) * u32(C) * HW + q;
  var acc = 0.0;
  for (var c = max(j - HI, 0); c <= min(j + LO, C - 1); c++) {
    let k = base + u32(c) * HW;
    acc = fma(dy[k] * x[k], pow(denom(base, c), ${f32(-p.beta - 1)}), acc);
  }
  dx[i] += dy[i] * pow(denom(base, j), ${f32(-p.beta)}) - ${f32((2 * p.alpha * p.beta) / p.size)} * x[i] * acc;`,
    [x, dy, dx],
  );
}
