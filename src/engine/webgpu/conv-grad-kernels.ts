/**
 * The backward of a convolution (and of a linear layer, a 1×1 convolution on a 1×1 image): the
 * input's gradient, one thread per input value gathering from the outputs whose windows read it,
 * added to what the buffer holds (gradients that meet are summed); the weight's and bias's, one
 * workgroup per value reducing over the batch's output pixels.
 */
import type { ConvGeometry } from './conv-kernels';
import { LANES, REDUCE_SUM } from './layer-kernels';
import { BUILTINS, elementwise, FLAT_WORKGROUP, grid1d, type Kernel } from './wgsl';

export const IN = (binding: number, name: string) => `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;`;
export const RW = (binding: number, name: string) => `@group(0) @binding(${binding}) var<storage, read_write> ${name}: array<f32>;`;

function constants(g: ConvGeometry): string {
  const cg = g.inC / g.groups;
  return `const B = ${g.batch}u; const CIN = ${g.inC}u; const H = ${g.inH}u; const W = ${g.inW}u;
const COUT = ${g.outC}u; const OH = ${g.outH}u; const OW = ${g.outW}u; const OHW = ${g.outH * g.outW}u;
const KH = ${g.kernel[0]}u; const KW = ${g.kernel[1]}u; const SH = ${g.stride[0]}i; const SW = ${g.stride[1]}i;
const PH = ${g.padding[0]}i; const PW = ${g.padding[1]}i; const DH = ${g.dilation[0]}i; const DW = ${g.dilation[1]}i;
const CG = ${cg}u; const MG = ${g.outC / g.groups}u; const K = ${cg * g.kernel[0] * g.kernel[1]}u; const N = ${g.batch * g.outH * g.outW}u;`;
}

/** dx += Σ over (out channel of the group, kh, kw) of dy at the output that tap maps the pixel to, times the weight. */
export function convGradInputKernel(label: string, g: ConvGeometry, dy: GPUBuffer, weight: GPUBuffer, dx: GPUBuffer): Kernel {
  const decls = `${IN(0, 'dy')}\n${IN(1, 'w')}\n${RW(2, 'dx')}\n${constants(g)}`;
  return elementwise(
    `${label} dx`,
    g.batch * g.inC * g.inH * g.inW,
    decls,
    `let iw = i32(i % W); let ih = i32((i / W) % H); let ci = (i / (W * H)) % CIN; let b = i / (W * H * CIN);
  let grp = ci / CG; let cig = ci % CG;
  var s = 0.0;
  for (var kh = 0u; kh < KH; kh++) {
    let th = ih + PH - i32(kh) * DH;
    if (th < 0 || th % SH != 0) { continue; }
    let oh = u32(th / SH);
    if (oh >= OH) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let tw = iw + PW - i32(kw) * DW;
      if (tw < 0 || tw % SW != 0) { continue; }
      let ow = u32(tw / SW);
      if (ow >= OW) { continue; }
      for (var m = 0u; m < MG; m++) {
        let oc = grp * MG + m;
        s = fma(dy[(b * COUT + oc) * OHW + oh * OW + ow], w[((oc * CG + cig) * KH + kh) * KW + kw], s);
      }
    }
  }
  dx[i] += s;`,
    [dy, weight, dx],
  );
}

/** Weights from which one thread per weight is parallel enough, or output pixels up to which a workgroup's lanes would idle. */
const THREAD_PER_WEIGHT = { weights: 2048, pixels: 1024 };
/** Values a thread sums before adding the block to its total: f32 rounding grows with √block + √(n/block), not n. */
const SUM_BLOCK = 256;

/**
 * dW[oc, ci, kh, kw] = Σ over the batch's output pixels of dy times the input value that tap read.
 * Many weights: one thread each, summing in blocks (no barriers: SwiftShader runs lanes on the
 * CPU, where workgroup reductions cost more than they save). Few weights over many pixels (a
 * stem): one workgroup each, lanes striding over the pixels and a tree reduction.
 */
export function convGradWeightKernel(label: string, g: ConvGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer): Kernel {
  const rows = g.outC * (g.inC / g.groups) * g.kernel[0] * g.kernel[1];
  const n = g.batch * g.outH * g.outW;
  if (rows >= THREAD_PER_WEIGHT.weights || n <= THREAD_PER_WEIGHT.pixels) {
    return elementwise(
      `${label} dW`,
      rows,
      `${IN(0, 'x')}\n${IN(1, 'dy')}\n${RW(2, 'dw')}\n${constants(g)}`,
      `let kw = i % KW; let kh = (i / KW) % KH; let cig = (i / (KW * KH)) % CG; let oc = i / K;
  let ci = (oc / MG) * CG + cig;
  var total = 0.0;
  for (var n0 = 0u; n0 < N; n0 += ${SUM_BLOCK}u) {
    var s = 0.0;
    for (var n = n0; n < min(n0 + ${SUM_BLOCK}u, N); n++) {
      let b = n / OHW; let p = n % OHW;
      let ih = i32(p / OW) * SH + i32(kh) * DH - PH;
      let iw = i32(p % OW) * SW + i32(kw) * DW - PW;
      if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) {
        s = fma(dy[(b * COUT + oc) * OHW + p], x[((b * CIN + ci) * H + u32(ih)) * W + u32(iw)], s);
      }
    }
    total += s;
  }
  dw[i] = total;`,
      [x, dy, dw],
    );
  }
  const code = `${IN(0, 'x')}\n${IN(1, 'dy')}\n${RW(2, 'dw')}\n${constants(g)}
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${rows}u) { return; }
  let kw = wg % KW; let kh = (wg / KW) % KH; let cig = (wg / (KW * KH)) % CG; let oc = wg / K;
  let ci = (oc / MG) * CG + cig;
  var s = 0.0;
  for (var n = lid.x; n < N; n += ${LANES}u) {
    let b = n / OHW; let p = n % OHW;
    let ih = i32(p / OW) * SH + i32(kh) * DH - PH;
    let iw = i32(p % OW) * SW + i32(kw) * DW - PW;
    if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) {
      s = fma(dy[(b * COUT + oc) * OHW + p], x[((b * CIN + ci) * H + u32(ih)) * W + u32(iw)], s);
    }
  }
  let t = reduceSum(s, lid.x);
  if (lid.x == 0u) { dw[wg] = t; }
}`;
  return { label: `${label} dW`, code, workgroups: grid1d(rows), buffers: [x, dy, dw] };
}

/** d(bias)[c] = Σ dy over batch and pixels of channel c: one workgroup per channel of a [B, C, hw] tensor. */
export function channelSumKernel(label: string, batch: number, channels: number, hw: number, dy: GPUBuffer, out: GPUBuffer): Kernel {
  const code = `${IN(0, 'dy')}\n${RW(1, 'db')}
${REDUCE_SUM}
@compute @workgroup_size(${LANES})
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  if (wg >= ${channels}u) { return; }
  var s = 0.0;
  for (var n = lid.x; n < ${batch * hw}u; n += ${LANES}u) { s += dy[((n / ${hw}u) * ${channels}u + wg) * ${hw}u + n % ${hw}u]; }
  let t = reduceSum(s, lid.x);
  if (lid.x == 0u) { db[wg] = t; }
}`;
  return { label: `${label} db`, code, workgroups: grid1d(channels), buffers: [dy, out] };
}
