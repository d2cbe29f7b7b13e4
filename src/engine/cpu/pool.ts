import type { Pair } from '../../graph/types';
import { windowOut as windowOutSize } from '../../layers/window';
import { requireRank, tensor, type Tensor } from '../tensor';

export interface PoolParams {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  ceil: boolean;
}

function poolShape(x: Tensor, p: PoolParams, layer: string): [number, number, number, number, number, number] {
  requireRank(x, 4, layer);
  const [B, C, H, W] = x.shape;
  if (p.padding[0] * 2 > p.kernel[0] || p.padding[1] * 2 > p.kernel[1]) {
    throw new Error(`${layer}: padding must be at most half the kernel (PyTorch's rule)`);
  }
  const OH = windowOutSize(H, p.kernel[0], p.stride[0], p.padding[0], 1, p.ceil);
  const OW = windowOutSize(W, p.kernel[1], p.stride[1], p.padding[1], 1, p.ceil);
  return [B, C, H, W, OH, OW];
}

/** Max over each window; padding counts as -infinity, so only input pixels compete. */
export function maxpool2d(x: Tensor, p: PoolParams): Tensor {
  const [B, C, H, W, OH, OW] = poolShape(x, p, 'max pool');
  const y = tensor([B, C, OH, OW]);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(oh * p.stride[0] - p.padding[0], 0);
      const h1 = Math.min(oh * p.stride[0] - p.padding[0] + p.kernel[0], H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(ow * p.stride[1] - p.padding[1], 0);
        const w1 = Math.min(ow * p.stride[1] - p.padding[1] + p.kernel[1], W);
        let m = -Infinity;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) m = Math.max(m, x.data[(bc * H + h) * W + w]);
        y.data[(bc * OH + oh) * OW + ow] = m;
      }
    }
  }
  return y;
}

/**
 * Average with PyTorch's defaults (count_include_pad=True): the divisor is the window clipped
 * to the padded input [-P, H+P), so padding counts but a ceil-mode window hanging past the
 * right padding does not count the part outside; the sum is over real pixels only.
 */
export function avgpool2d(x: Tensor, p: PoolParams): Tensor {
  const [B, C, H, W, OH, OW] = poolShape(x, p, 'average pool');
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const y = tensor([B, C, OH, OW]);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sh - ph;
      const he = Math.min(hs + kh, H + ph);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sw - pw;
        const we = Math.min(ws + kw, W + pw);
        const divisor = (he - hs) * (we - ws);
        let s = 0;
        for (let h = Math.max(hs, 0); h < Math.min(he, H); h++) {
          for (let w = Math.max(ws, 0); w < Math.min(we, W); w++) s += x.data[(bc * H + h) * W + w];
        }
        y.data[(bc * OH + oh) * OW + ow] = s / divisor;
      }
    }
  }
  return y;
}

/** PyTorch's AdaptiveAvgPool2d: bin i covers [floor(i*H/oh), ceil((i+1)*H/oh)). */
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor {
  requireRank(x, 4, 'adaptive average pool');
  const [B, C, H, W] = x.shape;
  const [OH, OW] = size;
  const y = tensor([B, C, OH, OW]);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.floor((oh * H) / OH);
      const h1 = Math.ceil(((oh + 1) * H) / OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.floor((ow * W) / OW);
        const w1 = Math.ceil(((ow + 1) * W) / OW);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x.data[(bc * H + h) * W + w];
        y.data[(bc * OH + oh) * OW + ow] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return y;
}

/** Global average pool: `[B, C, H, W]` to `[B, C, 1, 1]`. */
export function globalAvgPool(x: Tensor): Tensor {
  requireRank(x, 4, 'global average pool');
  const [B, C, H, W] = x.shape;
  const y = tensor([B, C, 1, 1]);
  for (let bc = 0; bc < B * C; bc++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += x.data[bc * H * W + i];
    y.data[bc] = s / (H * W);
  }
  return y;
}
