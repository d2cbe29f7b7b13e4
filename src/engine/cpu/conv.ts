import type { ConvAttrs } from '../../layers/conv';
import { windowOut as windowOutSize } from '../../layers/window';
import { requireRank, tensor, type Tensor } from '../tensor';

/** A conv layer's geometry, as expansion resolves it (bias comes with the weights). */
export type ConvParams = Omit<ConvAttrs, 'kind' | 'bias'>;

/**
 * Direct convolution (cross-correlation, as PyTorch). Weight `[Cout, Cin/groups, Kh, Kw]`.
 * The loops run weight-outermost so the innermost loop walks one output row; each output
 * still receives exactly the terms of the textbook sum.
 */
export function conv2d(x: Tensor, weight: Float32Array, bias: Float32Array | undefined, p: ConvParams): Tensor {
  requireRank(x, 4, 'convolution');
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  if (C % G !== 0 || p.out % G !== 0) throw new Error(`conv: channels ${C} -> ${p.out} not divisible by groups ${G}`);
  const cinG = C / G;
  const coutG = p.out / G;
  if (weight.length !== p.out * cinG * kh * kw) {
    throw new Error(`conv: weight has ${weight.length} values, expected ${p.out}x${cinG}x${kh}x${kw}`);
  }
  if (bias && bias.length !== p.out) throw new Error(`conv: bias has ${bias.length} values, expected ${p.out}`);
  const OH = windowOutSize(H, kh, sh, ph, dh, false);
  const OW = windowOutSize(W, kw, sw, pw, dw, false);
  const y = tensor([B, p.out, OH, OW]);
  const X = x.data;
  const Y = y.data;
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < p.out; oc++) {
      const g = Math.floor(oc / coutG);
      const yBase = (b * p.out + oc) * OH * OW;
      if (bias) Y.fill(bias[oc], yBase, yBase + OH * OW);
      for (let ci = 0; ci < cinG; ci++) {
        const xBase = (b * C + g * cinG + ci) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const wv = weight[((oc * cinG + ci) * kh + i) * kw + j];
            // The output columns whose input column iw = ow*sw - pw + j*dw lies inside the row:
            // the inner loop then needs no bounds test (the same terms, several times faster).
            const shift = j * dw - pw;
            const owStart = Math.max(0, Math.ceil(-shift / sw));
            const owEnd = Math.min(OW, Math.floor((W - 1 - shift) / sw) + 1);
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh - ph + i * dh;
              if (ih < 0 || ih >= H) continue;
              const xRow = xBase + ih * W + shift;
              const yRow = yBase + oh * OW;
              if (sw === 1) {
                for (let ow = owStart; ow < owEnd; ow++) Y[yRow + ow] += wv * X[xRow + ow];
              } else {
                for (let ow = owStart; ow < owEnd; ow++) Y[yRow + ow] += wv * X[xRow + ow * sw];
              }
            }
          }
        }
      }
    }
  }
  return y;
}
