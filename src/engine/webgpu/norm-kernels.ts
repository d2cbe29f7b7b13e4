/** WGSL for layer and group normalisation, channel shuffle and channel slice. */
import { LANES, REDUCE_SUM, type SpatialDims } from './layer-kernels';
import { BUILTINS, elementwise, f32, FLAT_WORKGROUP, grid1d, type Kernel, outIndexFn, type OutPlace } from './wgsl';

const IN = (binding: number, name: string) => `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;`;
const OUT = (binding: number) => `@group(0) @binding(${binding}) var<storage, read_write> y: array<f32>;`;

export interface NormBuffers {
  input: GPUBuffer;
  weight: GPUBuffer;
  bias: GPUBuffer;
  output: GPUBuffer;
}

/**
 * Layer norm over the channels at each position (flat inputs: hw = 1): one workgroup per
 * (batch, position), lanes striding over the channels; the mean first, then the variance of the
 * deviations, as the CPU reference. The early return is uniform per workgroup, so the barriers
 * inside the reductions stay valid.
 */
export function layerNormKernel(label: string, batch: number, channels: number, hw: number, eps: number, place: OutPlace, b: NormBuffers): Kernel {
  const rows = batch * hw;
  const code = `${IN(0, 'x')}\n${IN(1, 'weight')}\n${IN(2, 'bias')}\n${OUT(3)}\n${outIndexFn(place)}
const C = ${channels}u; const HW = ${hw}u;
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${rows}u) { return; }
  let base = (wg / HW) * C * HW + wg % HW;
  var s = 0.0;
  for (var c = lid.x; c < C; c += ${LANES}u) { s += x[base + c * HW]; }
  let mean = reduceSum(s, lid.x) / ${f32(channels)};
  var q = 0.0;
  for (var c = lid.x; c < C; c += ${LANES}u) { let v = x[base + c * HW] - mean; q = fma(v, v, q); }
  let inv = 1.0 / sqrt(reduceSum(q, lid.x) / ${f32(channels)} + ${f32(eps)});
  for (var c = lid.x; c < C; c += ${LANES}u) { y[outIndex(base + c * HW)] = fma((x[base + c * HW] - mean) * inv, weight[c], bias[c]); }
}`;
  return { label, code, workgroups: grid1d(rows), buffers: [b.input, b.weight, b.bias, b.output] };
}

/** torch.nn.GroupNorm: one workgroup per (batch, group) over its C/G channels of hw values, stored together. */
export function groupNormKernel(label: string, batch: number, channels: number, hw: number, groups: number, eps: number, place: OutPlace, b: NormBuffers): Kernel {
  const rows = batch * groups;
  const per = channels / groups;
  const n = per * hw;
  const code = `${IN(0, 'x')}\n${IN(1, 'weight')}\n${IN(2, 'bias')}\n${OUT(3)}\n${outIndexFn(place)}
const N = ${n}u; const HW = ${hw}u; const PER = ${per}u; const G = ${groups}u;
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${rows}u) { return; }
  let base = wg * N;
  var s = 0.0;
  for (var i = lid.x; i < N; i += ${LANES}u) { s += x[base + i]; }
  let mean = reduceSum(s, lid.x) / ${f32(n)};
  var q = 0.0;
  for (var i = lid.x; i < N; i += ${LANES}u) { let v = x[base + i] - mean; q = fma(v, v, q); }
  let inv = 1.0 / sqrt(reduceSum(q, lid.x) / ${f32(n)} + ${f32(eps)});
  let c0 = (wg % G) * PER;
  for (var i = lid.x; i < N; i += ${LANES}u) {
    let c = c0 + i / HW;
    y[outIndex(base + i)] = fma((x[base + i] - mean) * inv, weight[c], bias[c]);
  }
}`;
  return { label, code, workgroups: grid1d(rows), buffers: [b.input, b.weight, b.bias, b.output] };
}

/** Channel shuffle, one thread per output value: output channel o reads input channel (o mod G)·(C/G) + ⌊o/G⌋. */
export function shuffleKernel(label: string, d: SpatialDims, groups: number, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const hw = d.h * d.w;
  const decls = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const C = ${d.channels}u; const HW = ${hw}u; const G = ${groups}u; const PER = ${d.channels / groups}u;`;
  return elementwise(
    label,
    d.batch * d.channels * hw,
    decls,
    `let p = i % HW; let o = (i / HW) % C; let b = i / (HW * C);
  y[outIndex(i)] = x[(b * C + (o % G) * PER + o / G) * HW + p];`,
    [input, output],
  );
}

/** Channels start .. start + channels - 1 of an input of `inChannels`, one thread per output value. */
export function sliceKernel(label: string, batch: number, inChannels: number, start: number, channels: number, hw: number, place: OutPlace, input: GPUBuffer, output: GPUBuffer): Kernel {
  const decls = `${IN(0, 'x')}\n${OUT(1)}\n${outIndexFn(place)}
const CIN = ${inChannels}u; const N = ${channels}u; const HW = ${hw}u; const START = ${start}u;`;
  return elementwise(
    label,
    batch * channels * hw,
    decls,
    `let p = i % HW; let c = (i / HW) % N; let b = i / (HW * N);
  y[outIndex(i)] = x[(b * CIN + START + c) * HW + p];`,
    [input, output],
  );
}
