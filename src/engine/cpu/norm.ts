import { asNCHW, requireRank, tensor, type Tensor } from '../tensor';

export interface BatchNormParams {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

/** Inference-mode batch norm over channel (spatial input) or feature (flat input). */
export function batchNorm(x: Tensor, p: BatchNormParams): Tensor {
  const [B, C, H, W] = asNCHW(x);
  for (const [name, v] of [['weight', p.weight], ['bias', p.bias], ['running_mean', p.runningMean], ['running_var', p.runningVar]] as const) {
    if (v.length !== C) throw new Error(`bn: ${name} has ${v.length} values, expected ${C}`);
  }
  const y = tensor(x.shape);
  const hw = H * W;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const scale = p.weight[c] / Math.sqrt(p.runningVar[c] + p.eps);
      const shift = p.bias[c] - p.runningMean[c] * scale;
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) y.data[base + i] = x.data[base + i] * scale + shift;
    }
  }
  return y;
}

export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/**
 * PyTorch's nn.LocalResponseNorm: b_c = a_c / (k + alpha/size * sum a_j^2)^beta, the sum over
 * channels c - floor(size/2) .. c + floor((size-1)/2), zero beyond the ends, always divided by size.
 */
export function localResponseNorm(x: Tensor, p: LrnParams): Tensor {
  requireRank(x, 4, 'local response norm');
  const [B, C, H, W] = x.shape;
  const hw = H * W;
  const lo = Math.floor(p.size / 2);
  const hi = Math.floor((p.size - 1) / 2);
  const y = tensor(x.shape);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < hw; i++) {
        let sq = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) {
          const v = x.data[(b * C + j) * hw + i];
          sq += v * v;
        }
        const idx = (b * C + c) * hw + i;
        y.data[idx] = x.data[idx] / Math.pow(p.k + (p.alpha / p.size) * sq, p.beta);
      }
    }
  }
  return y;
}
