/** Backward rules of the pools: each output's gradient goes back to the inputs its window read. */
import type { Pair } from '../../graph/types';
import { windowOut as windowOutSize } from '../../layers/window';
import { tensor, type Tensor } from '../tensor';
import type { PoolParams } from './pool';

function outSize(x: Tensor, p: PoolParams): [number, number] {
  const [, , H, W] = x.shape;
  return [windowOutSize(H, p.kernel[0], p.stride[0], p.padding[0], 1, p.ceil), windowOutSize(W, p.kernel[1], p.stride[1], p.padding[1], 1, p.ceil)];
}

/**
 * To the window's maximum: the first in row-major order among equals, as PyTorch's CPU kernel
 * picks it (it replaces the running maximum only on a strictly larger value, or a NaN).
 */
export function maxpool2dBackward(x: Tensor, dy: Tensor, p: PoolParams): Tensor {
  const [B, C, H, W] = x.shape;
  const [OH, OW] = outSize(x, p);
  const dx = tensor(x.shape);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(oh * p.stride[0] - p.padding[0], 0);
      const h1 = Math.min(oh * p.stride[0] - p.padding[0] + p.kernel[0], H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(ow * p.stride[1] - p.padding[1], 0);
        const w1 = Math.min(ow * p.stride[1] - p.padding[1] + p.kernel[1], W);
        let best = -Infinity;
        let at = (bc * H + h0) * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const v = x.data[(bc * H + h) * W + w];
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = (bc * H + h) * W + w;
            }
          }
        }
        dx.data[at] += dy.data[(bc * OH + oh) * OW + ow];
      }
    }
  }
  return dx;
}

/** Each output's gradient over its divisor (the forward's: padding counted) to the real pixels of its window. */
export function avgpool2dBackward(x: Tensor, dy: Tensor, p: PoolParams): Tensor {
  const [B, C, H, W] = x.shape;
  const [OH, OW] = outSize(x, p);
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const dx = tensor(x.shape);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * sh - ph;
      const he = Math.min(hs + kh, H + ph);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * sw - pw;
        const we = Math.min(ws + kw, W + pw);
        const g = dy.data[(bc * OH + oh) * OW + ow] / ((he - hs) * (we - ws));
        for (let h = Math.max(hs, 0); h < Math.min(he, H); h++) {
          for (let w = Math.max(ws, 0); w < Math.min(we, W); w++) dx.data[(bc * H + h) * W + w] += g;
        }
      }
    }
  }
  return dx;
}

export function adaptiveAvgPool2dBackward(x: Tensor, dy: Tensor, size: Pair): Tensor {
  const [B, C, H, W] = x.shape;
  const [OH, OW] = size;
  const dx = tensor(x.shape);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.floor((oh * H) / OH);
      const h1 = Math.ceil(((oh + 1) * H) / OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.floor((ow * W) / OW);
        const w1 = Math.ceil(((ow + 1) * W) / OW);
        const g = dy.data[(bc * OH + oh) * OW + ow] / ((h1 - h0) * (w1 - w0));
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx.data[(bc * H + h) * W + w] += g;
      }
    }
  }
  return dx;
}

export function globalAvgPoolBackward(x: Tensor, dy: Tensor): Tensor {
  const [B, C, H, W] = x.shape;
  const hw = H * W;
  const dx = tensor(x.shape);
  for (let bc = 0; bc < B * C; bc++) dx.data.fill(dy.data[bc] / hw, bc * hw, (bc + 1) * hw);
  return dx;
}
