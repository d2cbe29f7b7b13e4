import type { Pair } from '../../graph/types';
import { actFn, BUILTINS, type EpilogueAct, grid1d, FLAT_WORKGROUP, type Kernel, type OutPlace } from './wgsl';

export interface ConvGeometry {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  outH: number;
  outW: number;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  groups: number;
}

export interface ConvBuffers {
  input: GPUBuffer;
  weight: GPUBuffer;
  bias?: GPUBuffer;
  /** Added before the activation: a fused residual `add`, laid out like the output. */
  residual?: GPUBuffer;
  output: GPUBuffer;
}

function bindings(b: ConvBuffers): { decls: string; buffers: GPUBuffer[] } {
  const decls = [
    '@group(0) @binding(0) var<storage, read> x: array<f32>;',
    '@group(0) @binding(1) var<storage, read> w: array<f32>;',
  ];
  const buffers = [b.input, b.weight];
  if (b.bias) {
    decls.push(`@group(0) @binding(${buffers.length}) var<storage, read> bias: array<f32>;`);
    buffers.push(b.bias);
  }
  if (b.residual) {
    decls.push(`@group(0) @binding(${buffers.length}) var<storage, read> res: array<f32>;`);
    buffers.push(b.residual);
  }
  decls.push(`@group(0) @binding(${buffers.length}) var<storage, read_write> y: array<f32>;`);
  buffers.push(b.output);
  return { decls: decls.join('\n'), buffers };
}

function constants(g: ConvGeometry, place: OutPlace): string {
  const cinG = g.inC / g.groups;
  return `
const B = ${g.batch}u; const CIN = ${g.inC}u; const H = ${g.inH}u; const W = ${g.inW}u;
const COUT = ${g.outC}u; const OH = ${g.outH}u; const OW = ${g.outW}u; const OHW = ${g.outH * g.outW}u;
const KH = ${g.kernel[0]}u; const KW = ${g.kernel[1]}u; const SH = ${g.stride[0]}u; const SW = ${g.stride[1]}u;
const PH = ${g.padding[0]}i; const PW = ${g.padding[1]}i; const DH = ${g.dilation[0]}u; const DW = ${g.dilation[1]}u;
const CG = ${cinG}u; const MG = ${g.outC / g.groups}u; const K = ${cinG * g.kernel[0] * g.kernel[1]}u; const N = ${g.batch * g.outH * g.outW}u;
const CT = ${place.totalChannels}u; const COFF = ${place.channelOffset}u;`;
}

/** Bias, residual and activation for output (channel oc, batch b, pixel p), then the store at its place. */
function epilogue(b: ConvBuffers): string {
  return `fn store(acc: f32, oc: u32, b: u32, p: u32) {
  var v = acc;
  ${b.bias ? 'v += bias[oc];' : ''}
  ${b.residual ? 'v += res[(b * COUT + oc) * OHW + p];' : ''}
  y[(b * CT + COFF + oc) * OHW + p] = act(v);
}`;
}

/** Tile shape of the implicit GEMM: a BM x BN block of (out channel x pixel), TM x TN per thread. */
export interface GemmTile {
  bm: number;
  bn: number;
  tm: number;
  tn: number;
  bk: number;
}

export function chooseGemmTile(outPerGroup: number): GemmTile {
  return outPerGroup >= 48 ? { bm: 64, bn: 64, tm: 4, tn: 4, bk: 16 } : { bm: 16, bn: 64, tm: 1, tn: 4, bk: 16 };
}

/**
 * Convolution as an implicit GEMM, one GEMM per group (dispatch z): rows are the group's output
 * channels, columns the batch's output pixels, the reduction runs over (in channel, kh, kw).
 * Weight and im2col tiles are staged in workgroup memory; each thread keeps TM x TN sums in
 * registers, strided across the tile so neighbouring threads load and store neighbouring pixels.
 */
export function convGemmKernel(label: string, g: ConvGeometry, place: OutPlace, act: EpilogueAct, bufs: ConvBuffers, tile = chooseGemmTile(g.outC / g.groups)): Kernel {
  const { bm, bn, tm, tn, bk } = tile;
  const tx = bn / tn;
  const ty = bm / tm;
  const wg = tx * ty;
  const { decls, buffers } = bindings(bufs);
  const code = `${decls}
${constants(g, place)}
const BM = ${bm}u; const BN = ${bn}u; const BK = ${bk}u; const TM = ${tm}u; const TN = ${tn}u; const TX = ${tx}u; const TY = ${ty}u; const WG = ${wg}u;
var<workgroup> As: array<f32, ${bk * bm}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;
${actFn(act)}
${epilogue(bufs)}
@compute @workgroup_size(${tx}, ${ty})
fn main(${BUILTINS}) {
  let grp = wid.z;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<f32, ${tm * tn}>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var t = li; t < BM * BK; t += WG) {
      let mm = t / BK; let kk = t % BK;
      let m = m0 + mm; let k = k0 + kk;
      var v = 0.0;
      if (m < MG && k < K) { v = w[(grp * MG + m) * K + k]; }
      As[kk * BM + mm] = v;
    }
    for (var t = li; t < BN * BK; t += WG) {
      let kk = t / BN; let nn = t % BN;
      let n = n0 + nn; let k = k0 + kk;
      var v = 0.0;
      if (n < N && k < K) {
        let ci = k / (KH * KW); let r = k % (KH * KW);
        let b = n / OHW; let p = n % OHW;
        let ih = i32((p / OW) * SH + (r / KW) * DH) - PH;
        let iw = i32((p % OW) * SW + (r % KW) * DW) - PW;
        if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) {
          v = x[((b * CIN + grp * CG + ci) * H + u32(ih)) * W + u32(iw)];
        }
      }
      Bs[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, ${tm}>;
      var bv: array<f32, ${tn}>;
      for (var i = 0u; i < TM; i++) { a[i] = As[kk * BM + lid.y + i * TY]; }
      for (var j = 0u; j < TN; j++) { bv[j] = Bs[kk * BN + lid.x + j * TX]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(a[i], bv[j], acc[i * TN + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + lid.y + i * TY;
    if (m >= MG) { continue; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + lid.x + j * TX;
      if (n >= N) { continue; }
      store(acc[i * TN + j], grp * MG + m, n / OHW, n % OHW);
    }
  }
}`;
  const n = g.batch * g.outH * g.outW;
  const gx = Math.ceil(n / bn);
  const gy = Math.ceil(g.outC / g.groups / bm);
  if (gx > 65535 || gy > 65535 || g.groups > 65535) throw new Error(`${label}: convolution too large for one dispatch`);
  return { label, code, workgroups: [gx, gy, g.groups], buffers };
}

/** Output pixels along a row that one thread of the direct kernel computes, sharing each weight load. */
const DIRECT_OW = 4;

/**
 * Convolution for groups with few output channels each (depthwise and the like), where a GEMM
 * tile would be mostly empty rows: one thread per (batch, channel, row, 4 pixels), each weight
 * read once and applied to 4 neighbouring outputs.
 */
export function convDirectKernel(label: string, g: ConvGeometry, place: OutPlace, act: EpilogueAct, bufs: ConvBuffers): Kernel {
  const { decls, buffers } = bindings(bufs);
  const owBlocks = Math.ceil(g.outW / DIRECT_OW);
  const threads = g.batch * g.outC * g.outH * owBlocks;
  const code = `${decls}
${constants(g, place)}
const OWT = ${DIRECT_OW}u; const OWB = ${owBlocks}u; const THREADS = ${threads}u;
${actFn(act)}
${epilogue(bufs)}
@compute @workgroup_size(64)
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  let t = wg * 64u + lid.x;
  if (t >= THREADS) { return; }
  let owb = t % OWB; let oh = (t / OWB) % OH; let oc = (t / (OWB * OH)) % COUT; let b = t / (OWB * OH * COUT);
  let grp = oc / MG;
  let ow0 = owb * OWT;
  var acc: array<f32, ${DIRECT_OW}>;
  for (var ci = 0u; ci < CG; ci++) {
    let xc = (b * CIN + grp * CG + ci) * H;
    for (var kh = 0u; kh < KH; kh++) {
      let ih = i32(oh * SH + kh * DH) - PH;
      if (ih < 0 || ih >= i32(H)) { continue; }
      let xr = (xc + u32(ih)) * W;
      for (var kw = 0u; kw < KW; kw++) {
        let wv = w[((oc * CG + ci) * KH + kh) * KW + kw];
        for (var j = 0u; j < OWT; j++) {
          let iw = i32((ow0 + j) * SW + kw * DW) - PW;
          if (iw >= 0 && iw < i32(W)) { acc[j] = fma(wv, x[xr + u32(iw)], acc[j]); }
        }
      }
    }
  }
  for (var j = 0u; j < OWT; j++) {
    if (ow0 + j < OW) { store(acc[j], oc, b, oh * OW + ow0 + j); }
  }
}`;
  return { label, code, workgroups: grid1d(Math.ceil(threads / 64)), buffers };
}

/**
 * 'auto': the direct kernel where a group has fewer output channels than a small GEMM tile would
 * fill well, else the GEMM. 'direct' everywhere suits software adapters (SwiftShader), which
 * compile the GEMM's workgroup-memory kernels slowly (seconds each) and run their barriers slowly.
 */
export type ConvAlgorithm = 'auto' | 'direct' | 'gemm';

export function convKernel(label: string, g: ConvGeometry, place: OutPlace, act: EpilogueAct, bufs: ConvBuffers, algorithm: ConvAlgorithm = 'auto'): Kernel {
  const direct = algorithm === 'direct' || (algorithm === 'auto' && g.outC / g.groups < 8);
  return direct ? convDirectKernel(label, g, place, act, bufs) : convGemmKernel(label, g, place, act, bufs);
}
