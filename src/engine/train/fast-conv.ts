/**
 * Conv2d's training pass as matrix products over the whole batch (the CPU reference's
 * conv2d and conv2dBackward stay the oracle; test/engine/train/fast-conv.test.ts compares them).
 * Per group g, with K = Cin/G·kh·kw and P = OH·OW output positions of each sample in a chunk:
 *   cols  [K, P]   each window offset's input values at every output position (im2col), 0 in the padding;
 *   y_g   = W_g · cols                     (gemmNN: [Cout/G, K] × [K, P])
 *   dW_g += dY_g · colsᵀ                   (gemmNT: [Cout/G, P] × [K, P])
 *   dcols = W_gᵀ · dY_g, added back into dx (gemmNN: [K, Cout/G] × [Cout/G, P], col2im)
 * A chunk is as many samples as keep cols under CHUNK_FLOATS (the whole batch of a small
 * network), so the scratch stays bounded for large inputs. Every sum is taken in double
 * precision and rounded once (dW once per chunk).
 */
import { windowOut as windowOutSize } from '../../layers/window';
import type { ConvParams } from '../cpu/conv';
import type { DenseGrads } from '../cpu/grad-dense';
import { tensor, type Tensor } from '../tensor';
import { gemmNN, gemmNT } from './gemm';

/** The most floats one chunk's cols may hold (16 MB). */
const CHUNK_FLOATS = 1 << 22;

/**
 * Scratch buffers kept between calls: allocating (and zeroing) megabytes per layer per step
 * costs more than the copies into them and drives the collector. One pool per use, since a
 * kernel holds several at once; contents are garbage on return.
 */
class Scratch {
  private buf = new Float32Array(0);
  get(n: number): Float32Array {
    if (this.buf.length < n) this.buf = new Float32Array(Math.max(n, Math.ceil(this.buf.length * 1.5)));
    return this.buf.subarray(0, n);
  }
}
const colsScratch = new Scratch();
const dyScratch = new Scratch();

interface Geometry {
  B: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  G: number;
  cinG: number;
  coutG: number;
  /** Patch length per group. */
  K: number;
  /** Output positions per sample. */
  N: number;
  /** Samples per chunk. */
  chunk: number;
}

function geometry(x: Tensor, p: ConvParams, chunkFloats: number): Geometry {
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  const cinG = C / G;
  const OH = windowOutSize(H, kh, sh, ph, dh, false);
  const OW = windowOutSize(W, kw, sw, pw, dw, false);
  return { B, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, G, cinG, coutG: p.out / G, K: cinG * kh * kw, N: OH * OW, chunk: Math.max(1, Math.min(B, Math.floor(chunkFloats / (cinG * kh * kw * OH * OW)))) };
}

/**
 * Group g's cols for samples [b0, b1): cols[(ci·kh + i)·kw + j][(b − b0)·N + oh·OW + ow] =
 * x[b, g·cinG + ci, oh·sh − ph + i·dh, ow·sw − pw + j·dw]. Each output row's valid columns are
 * one run without bounds tests, as in the reference conv; the padding's zeros are written too,
 * so cols may be a reused buffer.
 */
function im2col(X: Float32Array, q: Geometry, g: number, b0: number, b1: number, cols: Float32Array): void {
  const { C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, cinG, N } = q;
  const P = (b1 - b0) * N;
  for (let ci = 0; ci < cinG; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * P;
        const shift = j * dw - pw;
        const owStart = Math.max(0, Math.ceil(-shift / sw));
        const owEnd = Math.min(OW, Math.floor((W - 1 - shift) / sw) + 1);
        for (let b = b0; b < b1; b++) {
          const xc = (b * C + g * cinG + ci) * H * W;
          const out = row + (b - b0) * N;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - ph + i * dh;
            const o = out + oh * OW;
            if (ih < 0 || ih >= H) {
              cols.fill(0, o, o + OW);
              continue;
            }
            const xr = xc + ih * W + shift;
            for (let ow = 0; ow < owStart; ow++) cols[o + ow] = 0;
            for (let ow = owEnd; ow < OW; ow++) cols[o + ow] = 0;
            if (sw === 1) for (let ow = owStart; ow < owEnd; ow++) cols[o + ow] = X[xr + ow];
            else for (let ow = owStart; ow < owEnd; ow++) cols[o + ow] = X[xr + ow * sw];
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: each entry of dcols added at the input element it was read from. */
function col2im(dcols: Float32Array, q: Geometry, g: number, b0: number, b1: number, DX: Float32Array): void {
  const { C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, cinG, N } = q;
  const P = (b1 - b0) * N;
  for (let ci = 0; ci < cinG; ci++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = ((ci * kh + i) * kw + j) * P;
        const shift = j * dw - pw;
        const owStart = Math.max(0, Math.ceil(-shift / sw));
        const owEnd = Math.min(OW, Math.floor((W - 1 - shift) / sw) + 1);
        for (let b = b0; b < b1; b++) {
          const xc = (b * C + g * cinG + ci) * H * W;
          const out = row + (b - b0) * N;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - ph + i * dh;
            if (ih < 0 || ih >= H) continue;
            const xr = xc + ih * W + shift;
            const o = out + oh * OW;
            if (sw === 1) for (let ow = owStart; ow < owEnd; ow++) DX[xr + ow] += dcols[o + ow];
            else for (let ow = owStart; ow < owEnd; ow++) DX[xr + ow * sw] += dcols[o + ow];
          }
        }
      }
    }
  }
}

/** Group g's channels of samples [b0, b1) of an NCHW tensor with `channels` channels as [coutG, (b1 − b0)·N]. */
function gatherChannels(src: Float32Array, channels: number, q: Geometry, g: number, b0: number, b1: number, dst: Float32Array): void {
  const { coutG, N } = q;
  const P = (b1 - b0) * N;
  for (let oc = 0; oc < coutG; oc++) {
    for (let b = b0; b < b1; b++) {
      const at = (b * channels + g * coutG + oc) * N;
      dst.set(src.subarray(at, at + N), oc * P + (b - b0) * N);
    }
  }
}

/** Conv2d's forward on the batch, as the reference's conv2d computes it up to the order of summation. */
export function conv2dFast(x: Tensor, weight: Float32Array, bias: Float32Array | undefined, p: ConvParams, chunkFloats = CHUNK_FLOATS): Tensor {
  const q = geometry(x, p, chunkFloats);
  const { B, OH, OW, G, coutG, K, N, chunk } = q;
  const y = tensor([B, p.out, OH, OW]);
  const yt = dyScratch.get(coutG * chunk * N);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const b1 = Math.min(B, b0 + chunk);
    const P = (b1 - b0) * N;
    for (let g = 0; g < G; g++) {
      const cols = colsScratch.get(K * P);
      im2col(x.data, q, g, b0, b1, cols);
      gemmNN(coutG, P, K, weight.subarray(g * coutG * K, (g + 1) * coutG * K), cols, yt);
      // yt[oc, (b − b0)·N + n] is y[b, g·coutG + oc, n]: contiguous runs of N.
      for (let oc = 0; oc < coutG; oc++) {
        const o = g * coutG + oc;
        for (let b = b0; b < b1; b++) {
          const src = oc * P + (b - b0) * N;
          const dst = (b * p.out + o) * N;
          if (bias) {
            const bv = bias[o];
            for (let n = 0; n < N; n++) y.data[dst + n] = yt[src + n] + bv;
          } else y.data.set(yt.subarray(src, src + N), dst);
        }
      }
    }
  }
  return y;
}

/** Conv2d's gradients for x, the weight and the bias from dL/dy, as conv2dBackward gives them. */
export function conv2dBackwardFast(x: Tensor, weight: Float32Array, dy: Tensor, p: ConvParams, bias: boolean, chunkFloats = CHUNK_FLOATS): DenseGrads {
  const q = geometry(x, p, chunkFloats);
  const { B, OH, OW, G, coutG, K, N, chunk } = q;
  if (dy.shape[1] !== p.out || dy.shape[2] !== OH || dy.shape[3] !== OW) throw new Error(`conv backward: dy is [${dy.shape}], expected [${B}, ${p.out}, ${OH}, ${OW}]`);
  const DY = dy.data;
  const dx = tensor(x.shape);
  let db: Float32Array | undefined;
  if (bias) {
    db = new Float32Array(p.out);
    for (let o = 0; o < p.out; o++) {
      let s = 0;
      for (let b = 0; b < B; b++) {
        const at = (b * p.out + o) * N;
        for (let n = 0; n < N; n++) s += DY[at + n];
      }
      db[o] = s;
    }
  }
  const gw = chunk < B ? new Float64Array(weight.length) : null;
  const dw = new Float32Array(weight.length);
  const part = new Float32Array(coutG * K);
  const dyt = dyScratch.get(coutG * chunk * N);
  const wt = new Float32Array(K * coutG);
  for (let g = 0; g < G; g++) {
    const wg = weight.subarray(g * coutG * K, (g + 1) * coutG * K);
    for (let oc = 0; oc < coutG; oc++) for (let k = 0; k < K; k++) wt[k * coutG + oc] = wg[oc * K + k];
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const P = (b1 - b0) * N;
      gatherChannels(DY, p.out, q, g, b0, b1, dyt);
      const cols = colsScratch.get(K * P);
      im2col(x.data, q, g, b0, b1, cols);
      gemmNT(coutG, K, P, dyt, cols, part);
      if (gw) for (let k = 0; k < part.length; k++) gw[g * coutG * K + k] += part[k];
      else dw.set(part, g * coutG * K);
      // cols is spent: it takes dcols.
      gemmNN(K, P, coutG, wt, dyt, cols);
      col2im(cols, q, g, b0, b1, dx.data);
    }
  }
  if (gw) for (let k = 0; k < gw.length; k++) dw[k] = gw[k];
  return { dx, dw, db };
}
