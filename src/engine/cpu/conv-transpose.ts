import type { ConvTransposeAttrs } from '../../layers/convtranspose';
import { transposedOut } from '../../layers/convtranspose';
import { requireRank, tensor, type Tensor } from '../tensor';

/**
 * Transposed convolution, as PyTorch's ConvTranspose2d: input pixel (ih, iw) adds its value
 * times the weight at tap (i, j) to output (ih·S − P + i·D, iw·S − P + j·D), for the output
 * channels of its group. Weight `[Cin, Cout/groups, Kh, Kw]`.
 */
export function convTranspose2d(x: Tensor, weight: Float32Array, bias: Float32Array | undefined, p: ConvTransposeAttrs): Tensor {
  requireRank(x, 4, 'transposed convolution');
  const [B, C, H, W] = x.shape;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const G = p.groups;
  if (C % G !== 0 || p.out % G !== 0) throw new Error(`transposed conv: channels ${C} -> ${p.out} not divisible by groups ${G}`);
  const cinG = C / G;
  const coutG = p.out / G;
  if (weight.length !== C * coutG * kh * kw) throw new Error(`transposed conv: weight has ${weight.length} values, expected ${C}x${coutG}x${kh}x${kw}`);
  if (bias && bias.length !== p.out) throw new Error(`transposed conv: bias has ${bias.length} values, expected ${p.out}`);
  const OH = transposedOut(H, kh, sh, ph, p.outputPadding[0], dh);
  const OW = transposedOut(W, kw, sw, pw, p.outputPadding[1], dw);
  const y = tensor([B, p.out, OH, OW]);
  const X = x.data;
  const Y = y.data;
  for (let b = 0; b < B; b++) {
    for (let oc = 0; oc < p.out; oc++) {
      const yBase = (b * p.out + oc) * OH * OW;
      if (bias) Y.fill(bias[oc], yBase, yBase + OH * OW);
      const g = Math.floor(oc / coutG);
      const ocG = oc - g * coutG;
      for (let ci = g * cinG; ci < (g + 1) * cinG; ci++) {
        const xBase = (b * C + ci) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const wv = weight[((ci * coutG + ocG) * kh + i) * kw + j];
            // The input columns whose output column ow = iw·sw − pw + j·dw lies inside the row.
            const shift = j * dw - pw;
            const iwStart = Math.max(0, Math.ceil(-shift / sw));
            const iwEnd = Math.min(W, Math.floor((OW - 1 - shift) / sw) + 1);
            for (let ih = 0; ih < H; ih++) {
              const oh = ih * sh - ph + i * dh;
              if (oh < 0 || oh >= OH) continue;
              const xRow = xBase + ih * W;
              const yRow = yBase + oh * OW + shift;
              for (let iw = iwStart; iw < iwEnd; iw++) Y[yRow + iw * sw] += wv * X[xRow + iw];
            }
          }
        }
      }
    }
  }
  return y;
}
