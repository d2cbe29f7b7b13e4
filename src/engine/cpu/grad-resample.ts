/**
 * Backward rules of the resampling kinds: upsample (each output's gradient to the source pixels
 * its forward read, with the same weights) and the transposed convolution (its forward's loops
 * read the other way).
 */
import type { ConvTransposeAttrs } from '../../layers/convtranspose';
import { linearTap, nearestIndex } from '../../layers/resampling';
import { resizeDims, upsampledSize, type UpsampleAttrs } from '../../layers/upsample';
import { tensor, type Tensor } from '../tensor';
import type { DenseGrads } from './grad-dense';

export function upsample2dBackward(x: Tensor, dy: Tensor, a: UpsampleAttrs): Tensor {
  const [B, C, H, W] = x.shape;
  const [OH, OW] = upsampledSize(a, [C, H, W]);
  const [dh, dw] = resizeDims(a, [C, H, W]);
  const dx = tensor(x.shape);
  const DX = dx.data;
  const DY = dy.data;
  if (a.mode === 'nearest') {
    const rows = Array.from({ length: OH }, (_, o) => nearestIndex(o, dh));
    const cols = Array.from({ length: OW }, (_, o) => nearestIndex(o, dw));
    for (let bc = 0; bc < B * C; bc++) {
      for (let oh = 0; oh < OH; oh++) {
        const dst = (bc * H + rows[oh]) * W;
        const src = (bc * OH + oh) * OW;
        for (let ow = 0; ow < OW; ow++) DX[dst + cols[ow]] += DY[src + ow];
      }
    }
    return dx;
  }
  const rows = Array.from({ length: OH }, (_, o) => linearTap(o, dh));
  const cols = Array.from({ length: OW }, (_, o) => linearTap(o, dw));
  for (let bc = 0; bc < B * C; bc++) {
    const base = bc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const r = rows[oh];
      const top = base + r.i0 * W;
      const bottom = base + r.i1 * W;
      const src = (bc * OH + oh) * OW;
      for (let ow = 0; ow < OW; ow++) {
        const c = cols[ow];
        const g = DY[src + ow];
        DX[top + c.i0] += r.w0 * c.w0 * g;
        DX[top + c.i1] += r.w0 * c.w1 * g;
        DX[bottom + c.i0] += r.w1 * c.w0 * g;
        DX[bottom + c.i1] += r.w1 * c.w1 * g;
      }
    }
  }
  return dx;
}

/** ConvTranspose2d's gradients for x, the weight `[Cin, Cout/G, Kh, Kw]` and the bias. */
export function convTranspose2dBackward(x: Tensor, weight: Float32Array, dy: Tensor, p: ConvTransposeAttrs): DenseGrads {
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  const cinG = C / G;
  const coutG = p.out / G;
  const [, , OH, OW] = dy.shape;
  const dx = tensor(x.shape);
  const gw = new Float64Array(weight.length);
  const gb = new Float64Array(p.out);
  const X = x.data;
  const DX = dx.data;
  const DY = dy.data;
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < p.out; oc++) {
      const yBase = (b * p.out + oc) * OH * OW;
      if (p.bias) {
        let s = 0;
        for (let i = 0; i < OH * OW; i++) s += DY[yBase + i];
        gb[oc] += s;
      }
      const g = Math.floor(oc / coutG);
      const ocG = oc - g * coutG;
      for (let ci = g * cinG; ci < (g + 1) * cinG; ci++) {
        const xBase = (b * C + ci) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const wi = ((ci * coutG + ocG) * kh + i) * kw + j;
            const wv = weight[wi];
            const shift = j * dw - pw;
            const iwStart = Math.max(0, Math.ceil(-shift / sw));
            const iwEnd = Math.min(W, Math.floor((OW - 1 - shift) / sw) + 1);
            let acc = 0;
            for (let ih = 0; ih < H; ih++) {
              const oh = ih * sh - ph + i * dh;
              if (oh < 0 || oh >= OH) continue;
              const xRow = xBase + ih * W;
              const yRow = yBase + oh * OW + shift;
              for (let iw = iwStart; iw < iwEnd; iw++) {
                const d = DY[yRow + iw * sw];
                acc += d * X[xRow + iw];
                DX[xRow + iw] += wv * d;
              }
            }
            gw[wi] += acc;
          }
        }
      }
    }
  }
  return { dx, dw: Float32Array.from(gw), db: p.bias ? Float32Array.from(gb) : undefined };
}
