/**
 * Normalisations for training: batch norm with batch statistics (PyTorch's train mode) and the
 * backward rules of every normalising kind. Statistics in double precision, two passes, as the
 * inference kernels compute them.
 */
import { asNCHW, tensor, type Tensor } from '../tensor';
import type { BatchNormParams, LrnParams } from './norm';

/** PyTorch's default momentum of the running statistics: r ← (1 − m)·r + m·batch. */
export const BN_MOMENTUM = 0.1;

export interface BatchNormTrain {
  y: Tensor;
  /** (x − mean)·invStd per element, kept for the backward. */
  xhat: Float32Array;
  invStd: Float64Array;
  /** The running statistics after this batch: the biased mean, the variance made unbiased (n/(n−1)) as PyTorch's update. */
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** Batch norm over the batch (and positions), as nn.BatchNorm2d/1d in train mode. */
export function batchNormTrain(x: Tensor, p: BatchNormParams, momentum = BN_MOMENTUM): BatchNormTrain {
  const [B, C, H, W] = asNCHW(x);
  const hw = H * W;
  const n = B * hw;
  if (n < 2) throw new Error(`bn: training needs more than one value per channel (batch ${B}, ${hw} positions); use a larger batch`);
  const y = tensor(x.shape);
  const xhat = new Float32Array(x.data.length);
  const invStd = new Float64Array(C);
  const runningMean = new Float32Array(C);
  const runningVar = new Float32Array(C);
  const d = x.data;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) sum += d[base + i];
    }
    const mean = sum / n;
    let sq = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) {
        const v = d[base + i] - mean;
        sq += v * v;
      }
    }
    const inv = 1 / Math.sqrt(sq / n + p.eps);
    invStd[c] = inv;
    const g = p.weight[c];
    const beta = p.bias[c];
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) {
        const h = (d[base + i] - mean) * inv;
        xhat[base + i] = h;
        y.data[base + i] = h * g + beta;
      }
    }
    runningMean[c] = (1 - momentum) * p.runningMean[c] + momentum * mean;
    runningVar[c] = (1 - momentum) * p.runningVar[c] + momentum * (sq / (n - 1));
  }
  return { y, xhat, invStd, runningMean, runningVar };
}

export interface AffineGrads {
  dx: Tensor;
  dweight: Float32Array;
  dbias: Float32Array;
}

/** Train mode: dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) per channel. */
export function batchNormTrainBackward(t: BatchNormTrain, weight: Float32Array, dy: Tensor): AffineGrads {
  const [B, C, H, W] = asNCHW(dy);
  const hw = H * W;
  const n = B * hw;
  const dx = tensor(dy.shape);
  const dweight = new Float32Array(C);
  const dbias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) {
        sdy += dy.data[base + i];
        sdyx += dy.data[base + i] * t.xhat[base + i];
      }
    }
    dweight[c] = sdyx;
    dbias[c] = sdy;
    const k = weight[c] * t.invStd[c];
    const mdy = sdy / n;
    const mdyx = sdyx / n;
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) dx.data[base + i] = k * (dy.data[base + i] - mdy - t.xhat[base + i] * mdyx);
    }
  }
  return { dx, dweight, dbias };
}

/** Eval mode: the running statistics are constants, so the layer is a per-channel affine map. */
export function batchNormEvalBackward(x: Tensor, p: BatchNormParams, dy: Tensor): AffineGrads {
  const [B, C, H, W] = asNCHW(x);
  const hw = H * W;
  const dx = tensor(x.shape);
  const dweight = new Float32Array(C);
  const dbias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(p.runningVar[c] + p.eps);
    const mean = p.runningMean[c];
    const k = p.weight[c] * inv;
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * C + c) * hw;
      for (let i = 0; i < hw; i++) {
        const g = dy.data[base + i];
        sdy += g;
        sdyx += g * (x.data[base + i] - mean) * inv;
        dx.data[base + i] = g * k;
      }
    }
    dweight[c] = sdyx;
    dbias[c] = sdy;
  }
  return { dx, dweight, dbias };
}

/**
 * One normalised group of values at positions `at(0..n-1)`, each with its channel's γ: the
 * standard backward of (x − mean)/σ, dx = invStd/n·(n·g − Σg − x̂·Σ(g·x̂)) with g = dy·γ, and
 * γ's and β's gradients accumulated.
 */
function normGroupBackward(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  n: number,
  at: (k: number) => number,
  channel: (k: number) => number,
  weight: Float32Array,
  eps: number,
  dweight: Float64Array,
  dbias: Float64Array,
): void {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += x[at(k)];
  const mean = sum / n;
  let sq = 0;
  for (let k = 0; k < n; k++) {
    const v = x[at(k)] - mean;
    sq += v * v;
  }
  const inv = 1 / Math.sqrt(sq / n + eps);
  let sg = 0;
  let sgx = 0;
  for (let k = 0; k < n; k++) {
    const i = at(k);
    const c = channel(k);
    const xh = (x[i] - mean) * inv;
    const g = dy[i] * weight[c];
    sg += g;
    sgx += g * xh;
    dweight[c] += dy[i] * xh;
    dbias[c] += dy[i];
  }
  for (let k = 0; k < n; k++) {
    const i = at(k);
    const xh = (x[i] - mean) * inv;
    dx[i] = (inv / n) * (n * dy[i] * weight[channel(k)] - sg - xh * sgx);
  }
}

/** Layer norm over the channels at each position (or the features of a flat input). */
export function layerNormBackward(x: Tensor, weight: Float32Array, eps: number, dy: Tensor): AffineGrads {
  const [B, C, H, W] = asNCHW(x);
  const hw = H * W;
  const dx = tensor(x.shape);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < hw; i++) {
      const base = b * C * hw + i;
      normGroupBackward(x.data, dy.data, dx.data, C, (c) => base + c * hw, (c) => c, weight, eps, dweight, dbias);
    }
  }
  return { dx, dweight: Float32Array.from(dweight), dbias: Float32Array.from(dbias) };
}

/** Group norm: each group of C/G channels and all their positions normalised together. */
export function groupNormBackward(x: Tensor, groups: number, weight: Float32Array, eps: number, dy: Tensor): AffineGrads {
  const [B, C, H, W] = asNCHW(x);
  const hw = H * W;
  const per = C / groups;
  const dx = tensor(x.shape);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const base = (b * C + g * per) * hw;
      normGroupBackward(x.data, dy.data, dx.data, per * hw, (k) => base + k, (k) => g * per + Math.floor(k / hw), weight, eps, dweight, dbias);
    }
  }
  return { dx, dweight: Float32Array.from(dweight), dbias: Float32Array.from(dbias) };
}

/**
 * LocalResponseNorm: with s_c = k + α/n·Σ_{j∈N(c)} x_j², y_c = x_c·s_c^−β, so
 * dx_j = dy_j·s_j^−β − 2αβ/n·x_j·Σ_{c: j∈N(c)} dy_c·x_c·s_c^(−β−1).
 */
export function localResponseNormBackward(x: Tensor, p: LrnParams, dy: Tensor): Tensor {
  const [B, C, H, W] = x.shape;
  const hw = H * W;
  const lo = Math.floor(p.size / 2);
  const hi = Math.floor((p.size - 1) / 2);
  const dx = tensor(x.shape);
  const s = new Float64Array(C);
  const t = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < hw; i++) {
      const at = (c: number) => (b * C + c) * hw + i;
      for (let c = 0; c < C; c++) {
        let sq = 0;
        for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) sq += x.data[at(j)] ** 2;
        s[c] = p.k + (p.alpha / p.size) * sq;
        t[c] = dy.data[at(c)] * x.data[at(c)] * Math.pow(s[c], -p.beta - 1);
      }
      for (let j = 0; j < C; j++) {
        let acc = 0;
        // c's window holds j when c − lo ≤ j ≤ c + hi.
        for (let c = Math.max(0, j - hi); c <= Math.min(C - 1, j + lo); c++) acc += t[c];
        dx.data[at(j)] = dy.data[at(j)] * Math.pow(s[j], -p.beta) - ((2 * p.alpha * p.beta) / p.size) * x.data[at(j)] * acc;
      }
    }
  }
  return dx;
}
