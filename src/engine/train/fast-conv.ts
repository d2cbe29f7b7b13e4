/**
 * Conv2d's training pass as matrix products over the whole batch (the CPU reference's
 * conv2d and conv2dBackward stay the oracle; test/engine/train/fast-conv.test.ts compares them).
 * Per group g, with K = Cin/G·kh·kw and P = B·OH·OW output positions:
 *   rows  [P, K]   each output position's input patch (im2row), zero where the window leaves x;
 *   y     = W_g · rowsᵀ                      (gemmNT: [Cout/G, K] × [P, K])
 *   dW_g  = dYᵀ · cols                        (gemmNT: [Cout/G, P] × [K, P], cols = rowsᵀ)
 *   drows = dY_nhwc · W_gᵀ, scattered back into dx  (gemmNT: [P, Cout/G] × [K, Cout/G])
 * Every sum is taken in double precision and rounded once.
 */
import { windowOut as windowOutSize } from '../../layers/window';
import type { ConvParams } from '../cpu/conv';
import type { DenseGrads } from '../cpu/grad-dense';
import { tensor, type Tensor } from '../tensor';
import { gemmNT } from './gemm';

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
  /** Output positions over the batch. */
  P: number;
}

function geometry(x: Tensor, p: ConvParams): Geometry {
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  const cinG = C / G;
  const OH = windowOutSize(H, kh, sh, ph, dh, false);
  const OW = windowOutSize(W, kw, sw, pw, dw, false);
  return { B, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, G, cinG, coutG: p.out / G, K: cinG * kh * kw, P: B * OH * OW };
}

/** Group g's patches: rows[(b·OH·OW + oh·OW + ow)·K + (ci·kh + i)·kw + j] = x[b, g·cinG + ci, ih, iw], 0 outside. */
function im2row(X: Float32Array, q: Geometry, g: number, rows: Float32Array): void {
  const { B, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, cinG, K } = q;
  let r = 0;
  for (let b = 0; b < B; b++) {
    const xb = (b * C + g * cinG) * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let at = r;
        for (let ci = 0; ci < cinG; ci++) {
          const xc = xb + ci * H * W;
          for (let i = 0; i < kh; i++) {
            const ih = oh * sh - ph + i * dh;
            if (ih < 0 || ih >= H) {
              for (let j = 0; j < kw; j++) rows[at++] = 0;
              continue;
            }
            const xr = xc + ih * W;
            for (let j = 0; j < kw; j++) {
              const iw = ow * sw - pw + j * dw;
              rows[at++] = iw >= 0 && iw < W ? X[xr + iw] : 0;
            }
          }
        }
        r += K;
      }
    }
  }
}

/** The adjoint of im2row: each patch entry's gradient added back at the input element it was read from. */
function row2im(rows: Float32Array, q: Geometry, g: number, DX: Float32Array): void {
  const { B, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, cinG, K } = q;
  let r = 0;
  for (let b = 0; b < B; b++) {
    const xb = (b * C + g * cinG) * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let at = r;
        for (let ci = 0; ci < cinG; ci++) {
          const xc = xb + ci * H * W;
          for (let i = 0; i < kh; i++) {
            const ih = oh * sh - ph + i * dh;
            if (ih < 0 || ih >= H) {
              at += kw;
              continue;
            }
            const xr = xc + ih * W;
            for (let j = 0; j < kw; j++, at++) {
              const iw = ow * sw - pw + j * dw;
              if (iw >= 0 && iw < W) DX[xr + iw] += rows[at];
            }
          }
        }
        r += K;
      }
    }
  }
}

/** rowsᵀ: [K, P] from [P, K]. */
function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[s + c];
  }
}

/** Conv2d's forward on the batch, as the reference's conv2d computes it up to the order of summation. */
export function conv2dFast(x: Tensor, weight: Float32Array, bias: Float32Array | undefined, p: ConvParams): Tensor {
  const q = geometry(x, p);
  const { B, OH, OW, G, coutG, K, P } = q;
  const N = OH * OW;
  const y = tensor([B, p.out, OH, OW]);
  const rows = new Float32Array(P * K);
  const yt = new Float32Array(coutG * P);
  for (let g = 0; g < G; g++) {
    im2row(x.data, q, g, rows);
    gemmNT(coutG, P, K, weight.subarray(g * coutG * K, (g + 1) * coutG * K), rows, yt);
    // yt[oc, b·N + n] is y[b, g·coutG + oc, n]: contiguous runs of N.
    for (let oc = 0; oc < coutG; oc++) {
      const o = g * coutG + oc;
      const bv = bias ? bias[o] : 0;
      for (let b = 0; b < B; b++) {
        const src = oc * P + b * N;
        const dst = (b * p.out + o) * N;
        if (bias) for (let n = 0; n < N; n++) y.data[dst + n] = yt[src + n] + bv;
        else y.data.set(yt.subarray(src, src + N), dst);
      }
    }
  }
  return y;
}

/** Conv2d's gradients for x, the weight and the bias from dL/dy, as conv2dBackward gives them. */
export function conv2dBackwardFast(x: Tensor, weight: Float32Array, dy: Tensor, p: ConvParams, bias: boolean): DenseGrads {
  const q = geometry(x, p);
  const { B, OH, OW, G, coutG, K, P } = q;
  const N = OH * OW;
  if (dy.shape[1] !== p.out || dy.shape[2] !== OH || dy.shape[3] !== OW) throw new Error(`conv backward: dy is [${dy.shape}], expected [${B}, ${p.out}, ${OH}, ${OW}]`);
  const DY = dy.data;
  const dx = tensor(x.shape);
  const dw = new Float32Array(weight.length);
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
  const rows = new Float32Array(P * K);
  const cols = new Float32Array(K * P);
  const dyt = new Float32Array(coutG * P);
  const dyNhwc = new Float32Array(P * coutG);
  const wt = new Float32Array(K * coutG);
  for (let g = 0; g < G; g++) {
    // dY of this group as [coutG, P] and as [P, coutG].
    for (let oc = 0; oc < coutG; oc++) {
      const o = g * coutG + oc;
      for (let b = 0; b < B; b++) dyt.set(DY.subarray((b * p.out + o) * N, (b * p.out + o + 1) * N), oc * P + b * N);
    }
    transpose(dyt, coutG, P, dyNhwc);
    im2row(x.data, q, g, rows);
    transpose(rows, P, K, cols);
    gemmNT(coutG, K, P, dyt, cols, dw.subarray(g * coutG * K, (g + 1) * coutG * K));
    const wg = weight.subarray(g * coutG * K, (g + 1) * coutG * K);
    transpose(wg, coutG, K, wt);
    gemmNT(P, K, coutG, dyNhwc, wt, rows);
    row2im(rows, q, g, dx.data);
  }
  return { dx, dw, db };
}
