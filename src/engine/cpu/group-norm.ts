/**
 * Layer and group normalisation with statistics computed from the input, as PyTorch does at
 * inference: the mean and the biased variance (divided by the count), in double precision, two
 * passes so that a large mean costs no accuracy.
 */
import { asNCHW, tensor, type Tensor } from '../tensor';

export interface AffineNorm {
  weight: Float32Array;
  bias: Float32Array;
  eps: number;
}

function checkAffine(kind: string, p: AffineNorm, c: number): void {
  for (const [name, v] of [['weight', p.weight], ['bias', p.bias]] as const) {
    if (v.length !== c) throw new Error(`${kind}: ${name} has ${v.length} values, expected ${c}`);
  }
}

/** Over the channels at each position of `[B, C, H, W]` (ConvNeXt's LayerNorm2d), or the features of `[B, N]`. */
export function layerNorm(x: Tensor, p: AffineNorm): Tensor {
  const [B, C, H, W] = asNCHW(x);
  checkAffine('layer norm', p, C);
  const hw = H * W;
  const y = tensor(x.shape);
  const d = x.data;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < hw; i++) {
      const base = b * C * hw + i;
      let sum = 0;
      for (let c = 0; c < C; c++) sum += d[base + c * hw];
      const mean = sum / C;
      let sq = 0;
      for (let c = 0; c < C; c++) {
        const v = d[base + c * hw] - mean;
        sq += v * v;
      }
      const inv = 1 / Math.sqrt(sq / C + p.eps);
      for (let c = 0; c < C; c++) y.data[base + c * hw] = (d[base + c * hw] - mean) * inv * p.weight[c] + p.bias[c];
    }
  }
  return y;
}

/** torch.nn.GroupNorm: each of `groups` runs of C/groups channels normalised over its channels and positions. */
export function groupNorm(x: Tensor, groups: number, p: AffineNorm): Tensor {
  const [B, C, H, W] = asNCHW(x);
  checkAffine('group norm', p, C);
  if (C % groups !== 0) throw new Error(`group norm: ${groups} groups do not divide ${C} channels`);
  const hw = H * W;
  const per = C / groups;
  const n = per * hw;
  const y = tensor(x.shape);
  const d = x.data;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const base = (b * C + g * per) * hw;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += d[base + i];
      const mean = sum / n;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const v = d[base + i] - mean;
        sq += v * v;
      }
      const inv = 1 / Math.sqrt(sq / n + p.eps);
      for (let k = 0; k < per; k++) {
        const c = g * per + k;
        const w = p.weight[c];
        const bias = p.bias[c];
        for (let i = 0; i < hw; i++) {
          const at = base + k * hw + i;
          y.data[at] = (d[at] - mean) * inv * w + bias;
        }
      }
    }
  }
  return y;
}
