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

function bindings(b: ConvBuffers, weightType = 'f32'): { decls: string; buffers: GPUBuffer[] } {
  const decls = [
    '@group(0) @binding(0) var<storage, read> x: array<f32>;',
    `@group(0) @binding(1) var<storage, read> w: array<${weightType}>;`,
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

/** Output channels a thread of the tiled kernel computes, for a group with `perGroup` of them. */
export function tiledChannels(perGroup: number, most = 8): number {
  for (let c = most; c > 1; c >>= 1) if (perGroup % c === 0) return c;
  return 1;
}

export interface TiledShape {
  /** Output channels per thread (must divide the channels per group; tiledChannels picks one). */
  channels: number;
  /** Neighbouring output pixels of a row per thread. */
  pixels: number;
  /** Weights in packTiledWeights' layout, read as vec4 (channels a multiple of 4). */
  packed: boolean;
}

/** [Cout, Cin/g, Kh, Kw] to [Cout/channels, Cin/g, Kh, Kw, channels]: a thread's weights for one tap side by side. */
export function packTiledWeights(w: Float32Array, outC: number, channels: number): Float32Array {
  const k = w.length / outC;
  const out = new Float32Array(w.length);
  for (let o = 0; o < outC; o++) {
    const blk = Math.floor(o / channels);
    const lane = o % channels;
    for (let r = 0; r < k; r++) out[(blk * k + r) * channels + lane] = w[o * k + r];
  }
  return out;
}

/**
 * Convolution without workgroup memory, for software adapters: one thread per (batch, a few
 * output channels, row, a few pixels), each input value loaded once for all its channels and
 * each weight once for all its pixels, the sums in named registers (the generator unrolls the
 * tile). SwiftShader runs invocations as SIMD lanes on the CPU, where workgroup barriers are
 * slow and every per-lane load is a gather: loads, not arithmetic, are the cost.
 */
export function convTiledKernel(label: string, g: ConvGeometry, place: OutPlace, act: EpilogueAct, bufs: ConvBuffers, shape: Partial<TiledShape> = {}): Kernel {
  const packed = shape.packed ?? false;
  const { decls, buffers } = bindings(bufs, packed ? 'vec4<f32>' : 'f32');
  const mg = g.outC / g.groups;
  const oct = shape.channels ?? tiledChannels(mg, 4);
  if (packed && oct % 4 !== 0) throw new Error(`${label}: packed weights need a multiple of 4 channels per thread`);
  if (mg % oct !== 0) throw new Error(`${label}: ${oct} channels per thread do not divide ${mg} per group`);
  const px = shape.pixels ?? 4;
  const owBlocks = Math.ceil(g.outW / px);
  const threads = g.batch * (g.outC / oct) * g.outH * owBlocks;
  const C = [...Array(oct).keys()];
  const P = [...Array(px).keys()];
  const decl = C.flatMap((i) => P.map((j) => `var a${i}_${j} = 0.0;`)).join(' ');
  const loadsFast = P.map((j) => `x${j} = x[o + ${j}u * SW];`).join(' ');
  const loadsEdge = P.map((j) => `{ let iw = iw0 + ${j} * i32(SW); if (iw >= 0 && iw < i32(W)) { x${j} = x[xr + u32(iw)]; } }`).join('\n          ');
  const body = packed
    ? [...Array(oct / 4).keys()]
        .map((q) => `{ let wq = w[wb + ${q}u]; ${[0, 1, 2, 3].map((l) => P.map((j) => `a${q * 4 + l}_${j} = fma(wq[${l}], x${j}, a${q * 4 + l}_${j});`).join(' ')).join(' ')} }`)
        .join('\n        ')
    : C.map((i) => `{ let wv = w[wb + ${i}u * WSTRIDE]; ${P.map((j) => `a${i}_${j} = fma(wv, x${j}, a${i}_${j});`).join(' ')} }`).join('\n        ');
  // Packed: vec4 index of (channel block, ci, kh, kw); else the f32 index of channel oc0's tap.
  const wbase = packed ? `(((ocb * CG + ci) * KH + kh) * KW + kw) * ${oct / 4}u` : '((oc0 * CG + ci) * KH + kh) * KW + kw';
  const stores = C.flatMap((i) => P.map((j) => `if (ow0 + ${j}u < OW) { store(a${i}_${j}, oc0 + ${i}u, b, oh * OW + ow0 + ${j}u); }`)).join('\n  ');
  const code = `${decls}
${constants(g, place)}
const OCT = ${oct}u; const OCB = ${g.outC / oct}u; const PX = ${px}u; const OWB = ${owBlocks}u; const THREADS = ${threads}u;
const WSTRIDE = ${(g.inC / g.groups) * g.kernel[0] * g.kernel[1]}u;
${actFn(act)}
${epilogue(bufs)}
@compute @workgroup_size(64)
fn main(${BUILTINS}) {
  ${FLAT_WORKGROUP}
  let t = wg * 64u + lid.x;
  if (t >= THREADS) { return; }
  let owb = t % OWB; let oh = (t / OWB) % OH; let ocb = (t / (OWB * OH)) % OCB; let b = t / (OWB * OH * OCB);
  let oc0 = ocb * OCT;
  let grp = oc0 / MG;
  let ow0 = owb * PX;
  ${decl}
  for (var ci = 0u; ci < CG; ci++) {
    let xc = (b * CIN + grp * CG + ci) * H;
    for (var kh = 0u; kh < KH; kh++) {
      let ih = i32(oh * SH + kh * DH) - PH;
      if (ih < 0 || ih >= i32(H)) { continue; }
      let xr = (xc + u32(ih)) * W;
      for (var kw = 0u; kw < KW; kw++) {
        let iw0 = i32(ow0 * SW + kw * DW) - PW;
        ${P.map((j) => `var x${j} = 0.0;`).join(' ')}
        if (iw0 >= 0 && iw0 + ${px - 1} * i32(SW) < i32(W)) {
          let o = xr + u32(iw0);
          ${loadsFast}
        } else {
          ${loadsEdge}
        }
        let wb = ${wbase};
        ${body}
      }
    }
  }
  ${stores}
}`;
  return { label, code, workgroups: grid1d(Math.ceil(threads / 64)), buffers };
}

/**
 * 'direct' everywhere suits software adapters (SwiftShader), which compile the GEMM's
 * workgroup-memory kernels slowly (seconds each) and run their barriers slowly; there each thread
 * computes up to 16 channels × 4 pixels from packed weights. 'auto' (GPUs) takes the GEMM, except
 * for groups with fewer than 8 output channels (depthwise and the like), where a GEMM tile would
 * be mostly empty rows: there one thread computes 4 pixels of one channel.
 */
export type ConvAlgorithm = 'auto' | 'direct' | 'gemm';

export type ConvPlan = { kind: 'gemm' } | { kind: 'direct'; shape: TiledShape };

export function planConv(outPerGroup: number, algorithm: ConvAlgorithm = 'auto'): ConvPlan {
  if (algorithm === 'direct') {
    const channels = tiledChannels(outPerGroup, 16);
    return { kind: 'direct', shape: { channels, pixels: 4, packed: channels % 4 === 0 } };
  }
  if (algorithm === 'auto' && outPerGroup < 8) return { kind: 'direct', shape: { channels: 1, pixels: 4, packed: false } };
  return { kind: 'gemm' };
}

/** The kernel of a plan; a packed plan's weights must be in packTiledWeights' layout. */
export function convKernel(label: string, g: ConvGeometry, place: OutPlace, act: EpilogueAct, bufs: ConvBuffers, plan: ConvPlan): Kernel {
  return plan.kind === 'direct' ? convTiledKernel(label, g, place, act, bufs, plan.shape) : convGemmKernel(label, g, place, act, bufs);
}
