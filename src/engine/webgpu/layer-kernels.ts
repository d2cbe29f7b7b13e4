import type { Pair } from '../../graph/types';
import { actFn, BUILTINS, elementwise, type EpilogueAct, f32, FLAT_WORKGROUP, grid1d, type Kernel, outIndexFn, type OutPlace } from './wgsl';

const IN = (binding: number, name: string) => `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;`;
const OUT = (binding: number) => `@group(0) @binding(${binding}) var<storage, read_write> y: array<f32>;`;

export interface SpatialDims {
  batch: number;
  channels: number;
  h: number;
  w: number;
}

/** Max or average pool, one thread per output, with the CPU reference's PyTorch rules. */
export function poolKernel(
  label: string,
  mode: 'max' | 'average',
  d: SpatialDims,
  out: Pair,
  p: { kernel: Pair; stride: Pair; padding: Pair },
  place: OutPlace,
  input: GPUBuffer,
  output: GPUBuffer,
): Kernel {
  const [OH, OW] = out;
  const count = d.batch * d.channels * OH * OW;
  const decls = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const H = ${d.h}i; const W = ${d.w}i; const OH = ${OH}u; const OW = ${OW}u;
const KH = ${p.kernel[0]}i; const KW = ${p.kernel[1]}i; const SH = ${p.stride[0]}i; const SW = ${p.stride[1]}i; const PH = ${p.padding[0]}i; const PW = ${p.padding[1]}i;`;
  const body =
    mode === 'max'
      ? `var m = ${f32(-Infinity)};
  for (var h = max(hs, 0); h < min(hs + KH, H); h++) {
    for (var w = max(ws, 0); w < min(ws + KW, W); w++) { m = max(m, x[base + u32(h * W + w)]); }
  }
  y[outIndex(i)] = m;`
      : `let he = min(hs + KH, H + PH); let we = min(ws + KW, W + PW);
  let divisor = f32((he - hs) * (we - ws));
  var s = 0.0;
  for (var h = max(hs, 0); h < min(he, H); h++) {
    for (var w = max(ws, 0); w < min(we, W); w++) { s += x[base + u32(h * W + w)]; }
  }
  y[outIndex(i)] = s / divisor;`;
  return elementwise(
    label,
    count,
    decls,
    `let ow = i32(i % OW); let oh = i32((i / OW) % OH); let bc = i / (OW * OH);
  let base = bc * u32(H * W);
  let hs = oh * SH - PH; let ws = ow * SW - PW;
  ${body}`,
    [input, output],
  );
}

/** PyTorch's adaptive average pool, one thread per output. */
export function adaptivePoolKernel(label: string, d: SpatialDims, out: Pair, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const [OH, OW] = out;
  const decls = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const H = ${d.h}u; const W = ${d.w}u; const OH = ${OH}u; const OW = ${OW}u;`;
  return elementwise(
    label,
    d.batch * d.channels * OH * OW,
    decls,
    `let ow = i % OW; let oh = (i / OW) % OH; let bc = i / (OW * OH);
  let h0 = (oh * H) / OH; let h1 = ((oh + 1u) * H + OH - 1u) / OH;
  let w0 = (ow * W) / OW; let w1 = ((ow + 1u) * W + OW - 1u) / OW;
  var s = 0.0;
  for (var h = h0; h < h1; h++) { for (var w = w0; w < w1; w++) { s += x[(bc * H + h) * W + w]; } }
  y[outIndex(i)] = s / f32((h1 - h0) * (w1 - w0));`,
    [input, output],
  );
}

export const LANES = 64;

/** Workgroup-wide sum of `v` over 64 lanes; every lane gets the total. */
export const REDUCE_SUM = `var<workgroup> red: array<f32, ${LANES}>;
fn reduceSum(v: f32, lane: u32) -> f32 {
  red[lane] = v;
  workgroupBarrier();
  for (var s = ${LANES / 2}u; s > 0u; s = s / 2u) {
    if (lane < s) { red[lane] += red[lane + s]; }
    workgroupBarrier();
  }
  let t = red[0];
  workgroupBarrier();
  return t;
}`;

const REDUCE_MAX = `var<workgroup> redm: array<f32, ${LANES}>;
fn reduceMax(v: f32, lane: u32) -> f32 {
  redm[lane] = v;
  workgroupBarrier();
  for (var s = ${LANES / 2}u; s > 0u; s = s / 2u) {
    if (lane < s) { redm[lane] = max(redm[lane], redm[lane + s]); }
    workgroupBarrier();
  }
  let t = redm[0];
  workgroupBarrier();
  return t;
}`;

/** Global average pool: one workgroup per (batch, channel), lanes striding over the pixels. */
export function gapKernel(label: string, d: SpatialDims, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const rows = d.batch * d.channels;
  const hw = d.h * d.w;
  const code = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${rows}u) { return; }
  var s = 0.0;
  for (var p = lid.x; p < ${hw}u; p += ${LANES}u) { s += x[wg * ${hw}u + p]; }
  let t = reduceSum(s, lid.x);
  if (lid.x == 0u) { y[outIndex(wg)] = t / ${f32(hw)}; }
}`;
  return { label, code, workgroups: grid1d(rows), buffers: [input, output] };
}

/**
 * Softmax over dim 1: one workgroup per (batch, pixel) row of `channels` values, max-shifted.
 * The early return is uniform per workgroup, so the barriers inside the reductions stay valid.
 */
export function softmaxKernel(label: string, batch: number, channels: number, hw: number, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const rows = batch * hw;
  const code = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const C = ${channels}u; const HW = ${hw}u;
${REDUCE_SUM}
${REDUCE_MAX}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${rows}u) { return; }
  let b = wg / HW; let p = wg % HW;
  let base = b * C * HW + p;
  var m = ${f32(-Infinity)};
  for (var c = lid.x; c < C; c += ${LANES}u) { m = max(m, x[base + c * HW]); }
  m = reduceMax(m, lid.x);
  var s = 0.0;
  for (var c = lid.x; c < C; c += ${LANES}u) { s += exp(x[base + c * HW] - m); }
  s = reduceSum(s, lid.x);
  for (var c = lid.x; c < C; c += ${LANES}u) { y[outIndex(base + c * HW)] = exp(x[base + c * HW] - m) / s; }
}`;
  return { label, code, workgroups: grid1d(rows), buffers: [input, output] };
}

/** Inference batch norm as y = x * scale[c] + shift[c], with scale and shift computed at load. */
export function scaleShiftKernel(label: string, batch: number, channels: number, hw: number, act: EpilogueAct, place: OutPlace, input: GPUBuffer, scale: GPUBuffer, shift: GPUBuffer, output: GPUBuffer): Kernel {
  const decls = `${IN(0, 'x')}\n${IN(1, 'scale')}\n${IN(2, 'shift')}\n${OUT(3)}\n${outIndexFn(place)}\n${actFn(act)}`;
  return elementwise(label, batch * channels * hw, decls, `let c = (i / ${hw}u) % ${channels}u;\n  y[outIndex(i)] = act(fma(x[i], scale[c], shift[c]));`, [
    input,
    scale,
    shift,
    output,
  ]);
}

/** PyTorch's LocalResponseNorm, one thread per element, summing squares over the channel window. */
export function lrnKernel(label: string, d: SpatialDims, p: { size: number; alpha: number; beta: number; k: number }, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const hw = d.h * d.w;
  const decls = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const C = ${d.channels}i; const HW = ${hw}u; const LO = ${Math.floor(p.size / 2)}i; const HI = ${Math.floor((p.size - 1) / 2)}i;`;
  return elementwise(
    label,
    d.batch * d.channels * hw,
    decls,
    `let p = i % HW; let c = i32((i / HW) % u32(C)); let b = i / (HW * u32(C));
  var sq = 0.0;
  for (var j = max(c - LO, 0); j <= min(c + HI, C - 1); j++) {
    let v = x[(b * u32(C) + u32(j)) * HW + p];
    sq = fma(v, v, sq);
  }
  y[outIndex(i)] = x[i] / pow(${f32(p.k)} + ${f32(p.alpha / p.size)} * sq, ${f32(p.beta)});`,
    [input, output],
  );
}

export function activationKernel(label: string, count: number, act: EpilogueAct, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  return elementwise(label, count, `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}\n${actFn(act)}`, 'y[outIndex(i)] = act(x[i]);', [input, output]);
}

/** Inputs summed per dispatch; the output takes one more of the 8 storage bindings WebGPU guarantees. */
export const ADD_INPUTS_PER_DISPATCH = 6;

/** Sums up to 6 inputs into the output, adding to what is there when `accumulate` (for adds of more inputs). */
export function addKernel(label: string, count: number, accumulate: boolean, act: EpilogueAct, place: OutPlace, inputs: GPUBuffer[], output: GPUBuffer): Kernel {
  const decls = [...inputs.map((_, j) => IN(j, `a${j}`)), OUT(inputs.length), outIndexFn(place), actFn(act)].join('\n');
  const sum = inputs.map((_, j) => `a${j}[i]`).join(' + ');
  const body = `let o = outIndex(i);\n  y[o] = act(${accumulate ? 'y[o] + ' : ''}${sum});`;
  return elementwise(label, count, decls, body, [...inputs, output]);
}

/** Copies a dense tensor into its channel slice of a concat's buffer. */
export function copyKernel(label: string, count: number, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  return elementwise(label, count, `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}`, 'y[outIndex(i)] = x[i];', [input, output]);
}
