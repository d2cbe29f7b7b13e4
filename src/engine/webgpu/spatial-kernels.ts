/** WGSL for upsampling and transposed convolution, one thread per output value. */
import type { Pair } from '../../graph/types';
import type { ConvTransposeAttrs } from '../../layers/convtranspose';
import { actFn, elementwise, type EpilogueAct, type Kernel, outIndexFn, type OutPlace } from './wgsl';
import type { SpatialDims } from './layer-kernels';

const IN = (binding: number, name: string) => `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;`;
const OUT = (binding: number) => `@group(0) @binding(${binding}) var<storage, read_write> y: array<f32>;`;

/**
 * Nearest or bilinear resizing from per-row and per-column tables computed at load with
 * PyTorch's float32 arithmetic: nearest holds one source index per row (column), bilinear four
 * values (i0, i1, w0, w1). Indices are exact integers in f32.
 */
export function upsampleKernel(
  label: string,
  mode: 'nearest' | 'bilinear',
  d: SpatialDims,
  out: Pair,
  place: OutPlace,
  buffers: { input: GPUBuffer; rows: GPUBuffer; cols: GPUBuffer; output: GPUBuffer },
): Kernel {
  const [OH, OW] = out;
  const decls = `${IN(0, 'x')}\n${IN(1, 'rows')}\n${IN(2, 'cols')}\n${OUT(3)}\n${outIndexFn(place)}
const H = ${d.h}u; const W = ${d.w}u; const OH = ${OH}u; const OW = ${OW}u;`;
  const body =
    mode === 'nearest'
      ? 'y[outIndex(i)] = x[base + u32(rows[oh]) * W + u32(cols[ow])];'
      : `let r0 = base + u32(rows[4u * oh]) * W; let r1 = base + u32(rows[4u * oh + 1u]) * W;
  let c0 = u32(cols[4u * ow]); let c1 = u32(cols[4u * ow + 1u]);
  let cw0 = cols[4u * ow + 2u]; let cw1 = cols[4u * ow + 3u];
  let top = cw0 * x[r0 + c0] + cw1 * x[r0 + c1];
  let bottom = cw0 * x[r1 + c0] + cw1 * x[r1 + c1];
  y[outIndex(i)] = rows[4u * oh + 2u] * top + rows[4u * oh + 3u] * bottom;`;
  return elementwise(
    label,
    d.batch * d.channels * OH * OW,
    decls,
    `let ow = i % OW; let oh = (i / OW) % OH; let bc = i / (OW * OH);
  let base = bc * H * W;
  ${body}`,
    [buffers.input, buffers.rows, buffers.cols, buffers.output],
  );
}

export interface ConvTransposeGeometry extends Omit<ConvTransposeAttrs, 'kind' | 'out' | 'bias'> {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  outH: number;
  outW: number;
}

/**
 * Transposed convolution as a gather: output (oh, ow) sums input (ih, iw) through tap (kh, kw)
 * where oh = ih·S − P + kh·D, over its group's input channels. Weight `[Cin, Cout/g, Kh, Kw]`.
 */
export function convTransposeKernel(
  label: string,
  g: ConvTransposeGeometry,
  place: OutPlace,
  act: EpilogueAct,
  buffers: { input: GPUBuffer; weight: GPUBuffer; bias?: GPUBuffer; output: GPUBuffer },
): Kernel {
  const cinG = g.inC / g.groups;
  const coutG = g.outC / g.groups;
  const decls = [IN(0, 'x'), IN(1, 'w')];
  const bound = [buffers.input, buffers.weight];
  if (buffers.bias) {
    decls.push(IN(2, 'bias'));
    bound.push(buffers.bias);
  }
  decls.push(OUT(bound.length), outIndexFn(place), actFn(act));
  bound.push(buffers.output);
  const consts = `const CIN = ${g.inC}u; const H = ${g.inH}i; const W = ${g.inW}i;
const COUT = ${g.outC}u; const OH = ${g.outH}u; const OW = ${g.outW}u;
const KH = ${g.kernel[0]}i; const KW = ${g.kernel[1]}i; const SH = ${g.stride[0]}i; const SW = ${g.stride[1]}i;
const PH = ${g.padding[0]}i; const PW = ${g.padding[1]}i; const DH = ${g.dilation[0]}i; const DW = ${g.dilation[1]}i;
const CG = ${cinG}u; const MG = ${coutG}u;`;
  const body = `let ow = i32(i % OW); let oh = i32((i / OW) % OH); let oc = (i / (OW * OH)) % COUT; let b = i / (OW * OH * COUT);
  let grp = oc / MG; let ocg = oc % MG;
  var acc = 0.0;
  for (var kh = 0i; kh < KH; kh++) {
    let th = oh + PH - kh * DH;
    if (th < 0 || th % SH != 0 || th / SH >= H) { continue; }
    let ih = th / SH;
    for (var kw = 0i; kw < KW; kw++) {
      let tw = ow + PW - kw * DW;
      if (tw < 0 || tw % SW != 0 || tw / SW >= W) { continue; }
      let iw = tw / SW;
      for (var c = 0u; c < CG; c++) {
        let ci = grp * CG + c;
        acc = fma(x[((b * CIN + ci) * u32(H) + u32(ih)) * u32(W) + u32(iw)], w[((ci * MG + ocg) * u32(KH) + u32(kh)) * u32(KW) + u32(kw)], acc);
      }
    }
  }
  ${buffers.bias ? 'acc += bias[oc];' : ''}
  y[outIndex(i)] = act(acc);`;
  return elementwise(label, g.batch * g.outC * g.outH * g.outW, `${decls.join('\n')}\n${consts}`, body, bound);
}
