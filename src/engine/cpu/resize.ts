/** Nearest and bilinear resizing with PyTorch's source pixels and weights (src/layers/resampling.ts). */
import { linearTap, nearestIndex } from '../../layers/resampling';
import { resizeDims, upsampledSize, type UpsampleAttrs } from '../../layers/upsample';
import { requireRank, tensor, type Tensor } from '../tensor';

/** `[B, C, H, W]` to `[B, C, H', W']`. */
export function upsample2d(x: Tensor, a: UpsampleAttrs): Tensor {
  requireRank(x, 4, 'upsampling');
  const [B, C, H, W] = x.shape;
  const [OH, OW] = upsampledSize(a, [C, H, W]);
  const [dh, dw] = resizeDims(a, [C, H, W]);
  const y = tensor([B, C, OH, OW]);
  const X = x.data;
  const Y = y.data;
  if (a.mode === 'nearest') {
    const rows = Array.from({ length: OH }, (_, o) => nearestIndex(o, dh));
    const cols = Array.from({ length: OW }, (_, o) => nearestIndex(o, dw));
    for (let bc = 0; bc < B * C; bc++) {
      for (let oh = 0; oh < OH; oh++) {
        const src = (bc * H + rows[oh]) * W;
        const dst = (bc * OH + oh) * OW;
        for (let ow = 0; ow < OW; ow++) Y[dst + ow] = X[src + cols[ow]];
      }
    }
    return y;
  }
  const rows = Array.from({ length: OH }, (_, o) => linearTap(o, dh));
  const cols = Array.from({ length: OW }, (_, o) => linearTap(o, dw));
  for (let bc = 0; bc < B * C; bc++) {
    const base = bc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const r = rows[oh];
      const top = base + r.i0 * W;
      const bottom = base + r.i1 * W;
      const dst = (bc * OH + oh) * OW;
      for (let ow = 0; ow < OW; ow++) {
        const c = cols[ow];
        Y[dst + ow] = r.w0 * (c.w0 * X[top + c.i0] + c.w1 * X[top + c.i1]) + r.w1 * (c.w0 * X[bottom + c.i0] + c.w1 * X[bottom + c.i1]);
      }
    }
  }
  return y;
}
